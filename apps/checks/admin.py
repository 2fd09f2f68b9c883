"""Check runs in Django admin: an audit trail, never edited by hand."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kitty_troubleshoot.admin import MerchantNamedAdmin, ReadOnlyAdmin

from .models import CheckRun, Diagnosis
from .selectors import diagnosis_summary


class CheckRunInline(admin.TabularInline):
    model = CheckRun
    fields = ["queued_at", "step_number", "check_key", "status", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-queued_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Diagnosis)
class DiagnosisAdmin(MerchantNamedAdmin, ReadOnlyAdmin):
    list_display = ["updated_at", "merchant", "user", "subject_label", "order_number", "page", "read_only"]
    list_filter = ["page", "read_only"]
    search_fields = ["order_number", "subject_label", "user__username", "user__email"]
    list_select_related = ["user", "page"]
    inlines = [CheckRunInline]
    readonly_fields = ["verdict"]

    @admin.display(description="what the checks concluded")
    def verdict(self, diagnosis: Diagnosis) -> str:
        if not diagnosis.pk:
            return ""
        page = diagnosis.page.specific if diagnosis.page else None
        lines = diagnosis_summary(diagnosis, page=page).lines()
        return (
            format_html_join(mark_safe("<br>"), "{}", ((line.text,) for line in lines)) or "No check has run."
        )


@admin.register(CheckRun)
class CheckRunAdmin(MerchantNamedAdmin, ReadOnlyAdmin):
    list_display = [
        "queued_at",
        "merchant",
        "user",
        "step_number",
        "check_key",
        "status",
        "summary",
        "task_milliseconds",
    ]
    list_filter = ["status", "check_key", "page"]
    search_fields = ["uuid", "summary", "diagnosis__order_number", "user__username", "task_id"]
    date_hierarchy = "queued_at"
    list_select_related = ["user"]
    readonly_fields = ["evidence_list", "fixes_applied_list"]
    exclude = ["evidence", "fixes_applied"]

    @admin.display(description="task time")
    def task_milliseconds(self, run):
        return f"{run.task_seconds * 1000:.1f} ms" if run.task_seconds is not None else "—"

    @admin.display(description="evidence")
    def evidence_list(self, run):
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in run.evidence))
        )

    @admin.display(description="fixes applied")
    def fixes_applied_list(self, run):
        if not run.fixes_applied:
            return "—"
        rows = ((f.get("key", ""), f.get("by", ""), f.get("result", "")) for f in run.fixes_applied)
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} by {}: {}</li>", rows))
