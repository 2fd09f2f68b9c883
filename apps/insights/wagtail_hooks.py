from django.contrib.auth.models import Permission
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .views import OUTCOMES_PERMISSION, ArticleOutcomesView


class OutcomesMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(OUTCOMES_PERMISSION)


@hooks.register("register_admin_urls")
def register_outcomes_url():
    return [path("reports/article-outcomes/", ArticleOutcomesView.as_view(), name="insights_outcomes")]


@hooks.register("register_reports_menu_item")
def register_outcomes_menu_item():
    return OutcomesMenuItem(
        _("Article outcomes"),
        reverse("insights_outcomes"),
        name="article-outcomes",
        icon_name="doc-full",
        order=50,
    )


@hooks.register("register_permissions")
def register_outcomes_permission():
    return Permission.objects.filter(content_type__app_label="insights", codename="view_outcomes")
