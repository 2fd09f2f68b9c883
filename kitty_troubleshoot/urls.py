from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from apps.api.mcp.views import mcp_endpoint
from apps.api.rest import api as api_v1
from apps.checks.accounts import account_switch
from apps.help import views as help_views

urlpatterns = [
    path("", RedirectView.as_view(url="/help/", permanent=False)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", help_views.logout_view, name="logout"),
    path("django-admin/", admin.site.urls),
    path("cms/", include(wagtailadmin_urls)),
    path("healthz", help_views.healthz, name="healthz"),
    # With or without the slash: MCP clients are configured either way, and a POST cannot be redirected.
    re_path(r"^mcp/?$", mcp_endpoint, name="mcp"),
    path("account/switch/", account_switch, name="account_switch"),
    path("checks/", include("apps.checks.urls")),
    path("account/tokens/", include("apps.api.account.urls")),
    path("account/", include("apps.commerce.urls")),
    path("support/", include("apps.support.urls")),
    path("notifications/", include("apps.follow.urls")),
    path("feedback/", include("apps.insights.urls")),
    path("api/v1/", api_v1.urls),
    path("language/", help_views.language_switch, name="language_switch"),
]
# The help center in each language: /help/… in English (its addresses as they always were),
# /de/help/… and /fr/help/… translated. Everything else is one address in English.
urlpatterns += i18n_patterns(path("help/", include(wagtail_urls)), prefix_default_language=False)

if settings.BENCHMARK_VIEWS:
    # The cheapest page Django serves here: what bench/article_page.py compares with.
    urlpatterns.append(path("_bench/baseline", help_views.baseline, name="bench-baseline"))

# Under /api/ and /mcp/ Django's own error answers are problem documents too.
handler400 = "apps.api.errors.bad_request"
handler404 = "apps.api.errors.not_found"
handler500 = "apps.api.errors.server_error"
