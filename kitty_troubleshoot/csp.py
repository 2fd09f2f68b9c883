"""The Content-Security-Policy header (django-csp), with the two places that need more than the site."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts


class SiteCSPMiddleware(CSPMiddleware):
    """``CONTENT_SECURITY_POLICY`` everywhere, plus ``ADMIN_CSP_EXTRA`` under Wagtail's admin.

    Wagtail's admin (``/cms/``) still writes inline script and styles in its
    own widgets (wagtail/wagtail#1288); it is for signed-in staff only, so it
    alone gets them, and its sign-in page stays as strict as the site. The
    500 page carries its styles inline because it must render when static
    files are the thing that failed.
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        from django.conf import settings

        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        extra: dict[str, list[str]] = {}
        path = request.path_info
        if path.startswith(settings.ADMIN_CSP_PREFIX) and not path.startswith(
            f"{settings.ADMIN_CSP_PREFIX}login/"
        ):
            extra = {key: list(values) for key, values in settings.ADMIN_CSP_EXTRA.items()}
        if response.status_code >= 500:
            extra.setdefault("style-src", []).append(UNSAFE_INLINE)
        if extra:
            parts.update = {**(parts.update or {}), **extra}
        return parts
