from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "apps.insights"
    label = "insights"
    verbose_name = _("Article insights")

    def ready(self):
        from apps.help.hooks import set_search_recorder

        from .services import search_log

        # The help pages are below insights and never import it: the search log plugs in here.
        set_search_recorder(search_log)
