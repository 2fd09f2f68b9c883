from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"
    verbose_name = "Article insights"

    def ready(self):
        from apps.help.hooks import set_search_recorder

        from .services import search_log

        # The help pages are below insights and never import it: the search log plugs in here.
        set_search_recorder(search_log)
