"""Check runs in Django admin: an audit trail, never edited by hand, read in words.

An agent reads a run as the merchant did (the step, the check's title, the
status, the summary and evidence, the fixes) and what was asked (the plugin
and order), never stored JSON or row ids; the ids a developer may need sit in
a collapsed section of their own.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from kitty_troubleshoot.admin import ReadOnlyAdmin
from kitty_troubleshoot.said import said
from kitty_troubleshoot.words import when

from .models import CheckRun, Diagnosis
from .registry import account_directory
from .selectors.summary import diagnosis_summary
from .transcript import check_title, run_entry, status_word, transcript_html

TRANSCRIPT_MEDIA = {"all": ["css/admin_transcript.css"]}


class MerchantNamedAdmin(admin.ModelAdmin):
    """Rows that store a merchant id show the merchant by name and are found by it."""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(merchant_name=account_directory().merchant_name_expression())
        )

    @admin.display(description=_("merchant"), ordering="merchant_name")
    def merchant(self, obj) -> str:
        return getattr(obj, "merchant_name", None) or said("(merchant %(id)s, deleted)", id=obj.merchant_id)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            named = account_directory().merchant_ids_named(search_term)
            if named:
                results = results | queryset.filter(merchant_id__in=named)
        return results, may_have_duplicates


def revision_words(revision) -> str:
    """An article revision as editors know it: when it was saved, and by whom."""
    if revision is None:
        return "—"
    if revision.user is None:
        return said("Saved %(moment)s by the system", moment=when(revision.created_at))
    return said(
        "Saved %(moment)s by %(user)s", moment=when(revision.created_at), user=revision.user.get_username()
    )


def step_words(run: CheckRun) -> str:
    if run.step_number is None:
        return said("Before the steps")
    return said("Step %(step)s", step=run.step_number)


def _input_label(run: CheckRun, name: str):
    """An input by the label its check set gives it ("Order number"), else its name in words."""
    typed = run.diagnosis.set.input(name)
    return typed.label if typed is not None else name.replace("_", " ").capitalize()


class RunInWords:
    """A run's step, check and status as an agent reads them, for its list and its inline."""

    @admin.display(description=_("step"))
    def step(self, run):
        return step_words(run)

    @admin.display(description=_("check"))
    def check_name(self, run):
        return check_title(run.check_key)

    @admin.display(description=_("status"), ordering="status")
    def status_words(self, run):
        return status_word(run)


class CheckRunInline(RunInWords, admin.TabularInline):
    model = CheckRun
    fields = ["queued_at", "step", "check_name", "status_words", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-queued_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Diagnosis)
class DiagnosisAdmin(MerchantNamedAdmin, ReadOnlyAdmin):
    list_display = ["updated_at", "merchant", "user", "subject_label", "reference", "page", "read_only"]
    list_filter = ["page", "read_only"]
    search_fields = ["reference", "subject_label", "user__username", "user__email"]
    list_select_related = ["user", "page"]
    inlines = [CheckRunInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "user",
                    "subject_label",
                    "check_set",
                    "typed",
                    "page",
                    "origin",
                    "created_at",
                    "updated_at",
                    "verdict",
                    "transcript",
                ]
            },
        )
    ]
    readonly_fields = ["merchant", "origin", "typed", "verdict", "transcript"]

    class Media:
        css = TRANSCRIPT_MEDIA

    @admin.display(description=_("typed"))
    def typed(self, diagnosis: Diagnosis) -> str:
        return diagnosis.inputs_in_words()

    @admin.display(description=_("run from"))
    def origin(self, diagnosis: Diagnosis) -> str:
        if diagnosis.preview_session_id:
            return said("An editor's preview of a draft, on a sandbox account (left out of statistics)")
        if diagnosis.read_only:
            return said("A support agent's re-check from a ticket (read-only: no fix could be applied)")
        return said("The merchant's article")

    @admin.display(description=_("what the checks concluded"))
    def verdict(self, diagnosis: Diagnosis) -> str:
        if not diagnosis.pk:
            return ""
        page = diagnosis.page.specific if diagnosis.page else None
        lines = diagnosis_summary(diagnosis, page=page).lines()
        return format_html_join(mark_safe("<br>"), "{}", ((line.text,) for line in lines)) or said(
            "No check has run."
        )

    @admin.display(description=_("every run, in order"))
    def transcript(self, diagnosis: Diagnosis) -> str:
        if not diagnosis.pk:
            return ""
        return transcript_html([run_entry(run) for run in diagnosis.runs.order_by("queued_at", "pk")])


@admin.register(CheckRun)
class CheckRunAdmin(RunInWords, MerchantNamedAdmin, ReadOnlyAdmin):
    list_display = [
        "queued_at",
        "merchant",
        "user",
        "step",
        "check_name",
        "status_words",
        "summary",
        "task_time",
    ]
    list_filter = ["status", "check_key", "page"]
    search_fields = ["uuid", "summary", "diagnosis__reference", "user__username", "task_id"]
    date_hierarchy = "queued_at"
    list_select_related = ["user"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "diagnosis_link",
                    "merchant",
                    "user",
                    "asked",
                    "page",
                    "revision",
                    "step",
                    "result",
                    "fixes_offered_list",
                    "fix_requested_words",
                ]
            },
        ),
        (_("When"), {"fields": ["queued_at", "started_at", "finished_at", "deadline", "task_time"]}),
        (
            _("For developers"),
            {"classes": ["collapse"], "fields": ["check_key", "block_id", "uuid", "task_id"]},
        ),
    ]
    readonly_fields = [
        "diagnosis_link",
        "merchant",
        "asked",
        "revision",
        "step",
        "check_name",
        "status_words",
        "result",
        "fixes_offered_list",
        "fix_requested_words",
        "task_time",
    ]

    class Media:
        css = TRANSCRIPT_MEDIA

    @admin.display(description=_("diagnosis"))
    def diagnosis_link(self, run):
        url = reverse("admin:checks_diagnosis_change", args=[run.diagnosis_id])
        return format_html('<a href="{}">{}</a>', url, run.diagnosis)

    @admin.display(description=_("what was asked"))
    def asked(self, run):
        """The merchant's inputs in words: the plugin by its name, the rest by their labels."""
        lines = (
            [said("Plugin: %(plugin)s", plugin=run.diagnosis.subject_label)]
            if run.diagnosis.subject_label
            else []
        )
        for name, value in (run.inputs or {}).items() if isinstance(run.inputs, dict) else ():
            if name == "subject_id" or value in ("", None):
                continue
            lines.append(said("%(input)s: %(value)s", input=_input_label(run, name), value=value))
        return format_html(
            '<ul class="kt-list">{}</ul>', format_html_join("", "<li>{}</li>", ((x,) for x in lines))
        )

    @admin.display(description=_("article revision"))
    def revision(self, run):
        return revision_words(run.page_revision)

    @admin.display(description=_("result"))
    def result(self, run):
        return transcript_html([run_entry(run)])

    @admin.display(description=_("fixes offered"))
    def fixes_offered_list(self, run):
        labels = [f.get("label") or f.get("key") for f in run.fixes_offered or [] if isinstance(f, dict)]
        if not labels:
            return _("None")
        return format_html(
            '<ul class="kt-list">{}</ul>', format_html_join("", "<li>{}</li>", ((x,) for x in labels))
        )

    @admin.display(description=_("fix asked for with this run"))
    def fix_requested_words(self, run):
        fix = run.fix_requested if isinstance(run.fix_requested, dict) else {}
        if not fix.get("key"):
            return _("None")
        offered = {f.get("key"): f.get("label") for f in run.fixes_offered or [] if isinstance(f, dict)}
        return fix.get("label") or offered.get(fix["key"]) or fix["key"].replace("_", " ").capitalize()

    @admin.display(description=_("task time"))
    def task_time(self, run):
        if run.task_seconds is None:
            return "—"
        return said("%(ms)s ms", ms=formats.number_format(run.task_seconds * 1000, 1))
