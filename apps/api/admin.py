"""API tokens and the calls made with them, in Django admin: read, never edited; a token may be revoked.

An agent answering "what did our bot do?" reads which token started which
diagnosis, and when; a token shows who made it, for which account, what it
may do and when it was last used. Its secret is never stored, and its hash is
never shown: the prefix (``kt_…``) is what the merchant sees on their page too.
"""

import uuid

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.checks.admin import MerchantNamedAdmin
from apps.checks.models import CheckRun
from apps.checks.transcript import check_title, status_word
from kitty_troubleshoot.admin import ReadOnlyAdmin

from .models import ApiCall, ApiToken
from .tokens import scope_words, token_revoke


class TokenStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at=None, expires_at__gt=now)
        if self.value() == "revoked":
            return queryset.exclude(revoked_at=None)
        if self.value() == "expired":
            return queryset.filter(revoked_at=None, expires_at__lte=now)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(MerchantNamedAdmin, ReadOnlyAdmin):
    list_display = [
        "name",
        "shown_prefix",
        "user",
        "merchant",
        "scopes_short",
        "created_at",
        "expires_at",
        "last_used_at",
        "state_words",
    ]
    list_filter = [TokenStateFilter]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["revoke"]
    fields = [
        "name",
        "shown_prefix",
        "user",
        "merchant",
        "may",
        "state_words",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "calls_link",
    ]
    readonly_fields = ["shown_prefix", "merchant", "may", "state_words", "calls_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret_hash")

    @admin.display(description=_("token"))
    def shown_prefix(self, token):
        return token.shown_prefix

    @admin.display(description=_("scopes"))
    def scopes_short(self, token):
        return ", ".join(token.scopes or [])

    @admin.display(description=_("may"))
    def may(self, token):
        return format_html(
            '<ul class="kt-list">{}</ul>',
            format_html_join("", "<li>{}</li>", ((w,) for w in scope_words(token.scopes))),
        )

    @admin.display(description=_("state"))
    def state_words(self, token):
        return {"active": _("Active"), "revoked": _("Revoked"), "expired": _("Expired")}[token.state()]

    @admin.display(description=_("calls made with it"))
    def calls_link(self, token):
        count = token.calls.count()
        url = reverse("admin:api_apicall_changelist") + f"?token__id__exact={token.pk}"
        words = ngettext("%(count)s call", "%(count)s calls", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', url, words)

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("api.change_apitoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = sum(token_revoke(token=token) for token in queryset)
        self.message_user(
            request,
            ngettext(
                "Revoked %(count)s token; tools using it are refused from now on.",
                "Revoked %(count)s tokens; tools using them are refused from now on.",
                revoked,
            )
            % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "door", "action", "token_link", "user", "diagnosis_link", "runs_count", "outcome"]
    list_filter = ["door", "action", "token"]
    search_fields = ["action", "outcome", "token__name", "token__prefix", "token__user__username"]
    list_select_related = ["token__user", "diagnosis"]
    date_hierarchy = "at"
    fields = ["at", "door", "action", "token_link", "user", "diagnosis_link", "runs", "outcome"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("token__secret_hash")

    @admin.display(description=_("token"), ordering="token__name")
    def token_link(self, call):
        url = reverse("admin:api_apitoken_change", args=[call.token_id])
        return format_html('<a href="{}">{}</a>', url, call.token)

    @admin.display(description=_("user"), ordering="token__user__username")
    def user(self, call):
        return call.token.user.get_username()

    @admin.display(description=_("diagnosis"))
    def diagnosis_link(self, call):
        if call.diagnosis_id is None:
            return "—"
        url = reverse("admin:checks_diagnosis_change", args=[call.diagnosis_id])
        return format_html('<a href="{}">{}</a>', url, call.diagnosis)

    @admin.display(description=_("runs started"))
    def runs_count(self, call):
        return len(call.run_uuids or [])

    @admin.display(description=_("runs started"))
    def runs(self, call):
        """Each run the call started, by its check and status, linked to its page."""
        uuids = [u for u in call.run_uuids or [] if isinstance(u, str)]
        if not uuids:
            return gettext("None")
        found = {str(run.uuid): run for run in CheckRun.objects.filter(uuid__in=_valid_uuids(uuids))}
        items = []
        for value in uuids:
            run = found.get(value)
            if run is None:
                items.append(format_html("<li>{}</li>", gettext("%(run)s (no longer kept)") % {"run": value}))
                continue
            url = reverse("admin:checks_checkrun_change", args=[run.pk])
            items.append(
                format_html(
                    '<li><a href="{}">{}</a>: {}</li>', url, check_title(run.check_key), status_word(run)
                )
            )
        return format_html('<ul class="kt-list">{}</ul>', format_html_join("", "{}", ((i,) for i in items)))


def _valid_uuids(values: list[str]) -> list[str]:
    """The values that are uuids: what the JSON holds is not checked when it is written."""
    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid
