from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The help center's other doors: the JSON API (/api/v1/) and the MCP server (/mcp/), with the tokens they take."""

    name = "apps.api"
    label = "api"
    verbose_name = "API and MCP"
