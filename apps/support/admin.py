from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.checks.admin import TRANSCRIPT_MEDIA, MerchantNamedAdmin, revision_words
from apps.checks.selectors.summary import diagnosis_summary
from apps.checks.transcript import transcript_html
from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.words import when

from .models import SupportTicket
from .selectors import diagnosis_transcript
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
        "merchant",
    ]
    list_filter = ["status", "platform"]
    search_fields = ["reference", "order_number", "plugin_label"]
    date_hierarchy = "created_at"
    fields = [
        "reference",
        "status",
        "created_at",
        "emailed_at",
        "merchant",
        "user",
        "order_number",
        "platform",
        "plugin_label",
        "placed_date",
        "tried",
        "message",
        "verdict",
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
            messages.error(request, f"Couldn't check again: {exc}")
        else:
            messages.success(
                request,
                f"Checking every step again for order #{ticket.order_number}, without changing anything.",
            )
        change = reverse("admin:support_supportticket_change", args=[ticket.pk])
        return HttpResponseRedirect(f"{change}#rechecks")

    @admin.display(description="re-checked by support")
    def rechecks_display(self, ticket: SupportTicket):
        if not ticket.pk:
            return ""
        rechecks = list(ticket.rechecks.select_related("user", "page").order_by("-created_at")[:5])
        if not rechecks:
            return "Not re-checked yet: “Check every step now” shows what the account looks like today."
        return format_html(
            '<div id="rechecks">{}</div>',
            format_html_join("", "{}", ((self._recheck_html(diagnosis),) for diagnosis in rechecks)),
        )

    def _recheck_html(self, diagnosis):
        page = diagnosis.page.specific if diagnosis.page else None
        summary = diagnosis_summary(diagnosis, page=page)
        lines = format_html_join(mark_safe("<br>"), "{}", ((line.text,) for line in summary.lines()))
        reload_hint = "" if summary.done else " Reload this page to see the rest."
        return format_html(
            '<section class="kt-recheck"><strong>Checked again by {} on {} (read-only)</strong>'
            '<p class="kt-recheck__verdict">{}{}</p>{}</section>',
            diagnosis.user.get_username() if diagnosis.user else "a deleted user",
            when(diagnosis.created_at),
            lines,
            reload_hint,
            transcript_html(diagnosis_transcript(diagnosis)),
        )

    @admin.display(description="transcript")
    def transcript_display(self, ticket: SupportTicket):
        return transcript_html(ticket.transcript, empty="No checks had been run.")

    @admin.display(description="article revision")
    def revision(self, ticket: SupportTicket):
        return revision_words(ticket.page_revision)
