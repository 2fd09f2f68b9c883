from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.checks.admin import TRANSCRIPT_MEDIA, MerchantNamedAdmin, revision_words
from apps.checks.selectors.summary import diagnosis_summary
from apps.checks.transcript import transcript_html
from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.said import Moment

from .models import SupportTicket
from .selectors import diagnosis_transcript, transcript_entries
from .services import RecheckNotPossible, ticket_recheck


@admin.register(SupportTicket)
class SupportTicketAdmin(MerchantNamedAdmin):
    """Agents read what the merchant sent, see the account as it is now, and open or close the ticket."""

    list_display = [
        "reference",
        "created_at",
        "status",
        "order_number",
        "platform",
        "plugin_label",
        "language",
        "merchant",
    ]
    list_filter = ["status", "platform", "language"]
    search_fields = ["reference", "order_number", "plugin_label"]
    date_hierarchy = "created_at"
    fields = [
        "reference",
        "status",
        "created_at",
        "emailed_at",
        "merchant",
        "user",
        "language_display",
        "order_number",
        "platform",
        "plugin_label",
        "placed_date",
        "tried",
        "message",
        "verdict_display",
        "transcript_display",
        "rechecks_display",
        "diagnosis",
        "page",
        "revision",
    ]
    readonly_fields = [f for f in fields if f != "status"]

    class Media:
        css = TRANSCRIPT_MEDIA

    def has_add_permission(self, request):
        return False  # tickets come from merchants, through "Still missing?"

    def get_urls(self):
        recheck = path(
            "<path:object_id>/recheck/",
            self.admin_site.admin_view(self.recheck_view),
            name="support_supportticket_recheck",
        )
        return [recheck, *super().get_urls()]

    def recheck_view(self, request, object_id):
        """POST: check every step again for the ticket's plugin and order, read-only, as this agent."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ticket = get_object_or_404(SupportTicket, pk=pk) if (pk := int_param(str(object_id))) else None
        if ticket is None:
            return HttpResponseRedirect(reverse("admin:support_supportticket_changelist"))
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        try:
            ticket_recheck(ticket=ticket, agent=request.user)
        except RecheckNotPossible as exc:
            messages.error(request, gettext("Couldn't check again: %(reason)s") % {"reason": exc})
        else:
            messages.success(
                request,
                gettext("Checking every step again for order #%(number)s, without changing anything.")
                % {"number": ticket.order_number},
            )
        change = reverse("admin:support_supportticket_change", args=[ticket.pk])
        return HttpResponseRedirect(f"{change}#rechecks")

    @admin.display(description=_("re-checked by support"))
    def rechecks_display(self, ticket: SupportTicket):
        if not ticket.pk:
            return ""
        rechecks = list(ticket.rechecks.select_related("user", "page").order_by("-created_at")[:5])
        if not rechecks:
            return gettext(
                "Not re-checked yet: “Check every step now” shows what the account looks like today."
            )
        return format_html(
            '<div id="rechecks">{}</div>',
            format_html_join("", "{}", ((self._recheck_html(diagnosis),) for diagnosis in rechecks)),
        )

    def _recheck_html(self, diagnosis):
        page = diagnosis.page.specific if diagnosis.page else None
        summary = diagnosis_summary(diagnosis, page=page)
        lines = format_html_join(mark_safe("<br>"), "{}", ((line.text,) for line in summary.lines()))
        reload_hint = "" if summary.done else gettext("Reload this page to see the rest.")
        if diagnosis.user:
            heading = gettext("Checked again by %(user)s on %(when)s (read-only)") % {
                "user": diagnosis.user.get_username(),
                "when": Moment(diagnosis.created_at),
            }
        else:
            heading = gettext("Checked again by a deleted user on %(when)s (read-only)") % {
                "when": Moment(diagnosis.created_at)
            }
        return format_html(
            '<section class="kt-recheck"><strong>{}</strong><p class="kt-recheck__verdict">{}{}</p>{}</section>',
            heading,
            lines,
            format_html(" {}", reload_hint) if reload_hint else "",
            transcript_html(diagnosis_transcript(diagnosis)),
        )

    @admin.display(description=_("merchant's language"), ordering="language")
    def language_display(self, ticket: SupportTicket):
        return _language_name(ticket.language) or "—"

    @admin.display(description=_("verdict"))
    def verdict_display(self, ticket: SupportTicket):
        lines = ticket.verdict_lines
        if not lines:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("transcript"))
    def transcript_display(self, ticket: SupportTicket):
        # The stored messages, read in the agent's language (older tickets: their English as it is).
        return transcript_html(
            transcript_entries(ticket.transcript), empty=gettext("No checks had been run.")
        )

    @admin.display(description=_("article revision"))
    def revision(self, ticket: SupportTicket):
        return revision_words(ticket.page_revision)


def _language_name(code: str) -> str:
    """A language's name in the agent's language and in its own ("German (Deutsch)"), "" for none."""
    if not code:
        return ""
    try:
        info = translation.get_language_info(code)
    except KeyError:
        return code
    return gettext("%(name)s (%(own_name)s)") % {
        "name": info["name_translated"],
        "own_name": info["name_local"],
    }
