"""Help-center pages: the home page with its articles, and troubleshooting articles."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.blocks import StreamBlockValidationError, StructBlockValidationError
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.rich_text import get_text_for_indexing
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField, TranslatableField

from apps.checks.fields import CheckSetField
from apps.checks.registry import check_choices, get_check
from apps.checks.sets import get_set

from .hooks import search_record
from .widgets import CheckChooser, check_on_two_steps

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul", "code"]
SUMMARY_CHARS = 160  # what search engines' result pages show before cutting


def page_summary(page: Page) -> str:
    """What a page is about in a line: the search description its editor gave it, else its introduction's start.

    An article written in the page editor rarely has a search description (it is on the Promote tab);
    its introduction says the same thing.
    """
    given = (getattr(page, "search_description", "") or "").strip()
    if given:
        return given
    intro = " ".join(get_text_for_indexing(str(getattr(page, "intro", "") or "")).split())
    return Truncator(intro).chars(SUMMARY_CHARS) if intro else ""


class CheckChoiceBlock(blocks.ChoiceBlock):
    """A step's check, chosen from cards that explain each; shown by its title (compare, history)."""

    def __init__(self, **kwargs):
        super().__init__(choices=check_choices, widget=CheckChooser(), **kwargs)

    def set_name(self, name):
        super().set_name(name)
        self.field.widget.group_label = self.label  # the radio group reads as the field's label does

    def render_basic(self, value, context=None):
        if not value:
            return gettext("No check")
        check = get_check(value)
        return check.title if check is not None else gettext("%(key)s (no longer a check)") % {"key": value}

    def deconstruct(self):
        # The choices are read from the registry, never stored in migrations.
        path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return "apps.help.models.CheckChoiceBlock", args, kwargs


class StepBlock(blocks.StructBlock):
    # Wagtail shows help text as HTML: escaped, "<title>" reads as written.
    title = blocks.CharBlock(
        max_length=200, label=_("Title"), help_text=_("Shown as “Step N. &lt;title&gt;”.")
    )
    body = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Body"))
    check = CheckChoiceBlock(
        required=False,
        label=_("Check"),
        help_text=_("A live check merchants can run on their own account from this step."),
    )

    class Meta:
        icon = "list-ol"
        label = _("Step")
        # The block's header in the editor: "Step 2 <title>" (check_chooser.js adds the number), never the
        # first filled field's value, which on a new step is its check's "No check".
        label_format = "{title}"
        template = "help/blocks/step.html"


class StillMissingBlock(blocks.StructBlock):
    # The heading's default is the English article's words: a translation has its own, from its source.
    heading = blocks.CharBlock(max_length=200, default="Still missing?", label=_("Heading"))
    body = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Body"))
    ticket_items = blocks.ListBlock(
        blocks.CharBlock(max_length=300),
        label=_("What to include in a support ticket"),
    )

    class Meta:
        icon = "help"
        label = _("Still missing?")
        template = "help/blocks/still_missing.html"


class ArticleBodyBlock(blocks.StreamBlock):
    """An article's steps and its "Still missing?"; no check on two steps (each of them says so)."""

    step = StepBlock()
    still_missing = StillMissingBlock()

    def clean(self, value):
        value = super().clean(value)
        steps_of: dict[str, list[tuple[int, int]]] = {}  # check key: [(block index, step number)]
        number = 0
        for position, child in enumerate(value):
            if child.block_type == "step":
                number += 1
                if key := child.value.get("check"):
                    steps_of.setdefault(key, []).append((position, number))
        errors = {}
        for key, steps in steps_of.items():
            for position, number in steps if len(steps) > 1 else ():
                other = next(n for _, n in steps if n != number)
                message = check_on_two_steps(key, other_step=other)
                errors[position] = StructBlockValidationError(
                    block_errors={"check": ValidationError(message)}
                )
        if errors:
            raise StreamBlockValidationError(block_errors=errors)
        return value


class HelpIndexPage(Page):
    """The help center's home: a search box and the list of articles."""

    intro = RichTextField(features=RICH_TEXT_FEATURES, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["help.TroubleshootingPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("help center home")

    def get_context(self, request, *args, **kwargs):
        from .selectors import help_articles_for_index, help_search_text, search_hits

        context = super().get_context(request, *args, **kwargs)
        query = help_search_text(request.GET.get("q", ""))
        context["query"] = query
        context["articles"] = help_articles_for_index(self, query=query)
        if query:
            context["hits"] = search_hits(context["articles"], query, index=self)
            context["search"] = search_record(query=query, results=len(context["articles"]))
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response.help_page_cacheable = True
        return response


class TroubleshootingPage(Page):
    """An article whose steps each rule out one cause, optionally with a live check."""

    intro = RichTextField(features=RICH_TEXT_FEATURES, blank=True)
    check_set = CheckSetField()
    body = StreamField(ArticleBodyBlock(), use_json_field=True)

    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("check_set"), FieldPanel("body")]
    # What translators translate (wagtail-localize). The check set and each step's check are the
    # source's in every language: a step's check is not text (wagtail-localize leaves choice blocks
    # to the source), and the set is kept in sync and cannot be overridden per translation.
    translatable_fields = [
        TranslatableField("title"),
        TranslatableField("slug"),
        TranslatableField("seo_title"),
        TranslatableField("search_description"),
        TranslatableField("intro"),
        TranslatableField("body"),
        SynchronizedField("check_set", overridable=False),
    ]
    parent_page_types = ["help.HelpIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("troubleshooting article")

    @cached_property
    def summary(self) -> str:
        """The line under its title in the help center's list (and its meta description)."""
        return page_summary(self)

    @cached_property
    def steps(self) -> list:
        """The step blocks in order, each with its number (1-based)."""
        return [block for block in self.body if block.block_type == "step"]

    def check_steps(self) -> list[tuple[str, int, str]]:
        """(block id, step number, check key) of each step that carries a check, in order.

        What the checks framework reads of an article: only this app knows a step block's shape.
        """
        return [
            (block.id, number, key)
            for number, block in enumerate(self.steps, start=1)
            if (key := block.value.get("check") or "")
        ]

    def clean(self):
        """Every step's check must be one of the article's check set (it runs with the set's inputs)."""
        super().clean()
        check_set = get_set(self.check_set)
        if check_set is None:
            return
        strays = [
            gettext("Step %(number)s (%(check)s)")
            % {"number": number, "check": get_check(key).title if get_check(key) else key}
            for number, key in enumerate((block.value.get("check") or "" for block in self.steps), start=1)
            if key and key not in check_set.check_keys
        ]
        if strays:
            # The steps are named as a list (values); the sentence around them is whole, by their count.
            message = ngettext(
                "%(steps)s carries a check that is not of the check set “%(set)s”: choose the set it "
                "belongs to, or another check for the step.",
                "%(steps)s carry checks that are not of the check set “%(set)s”: choose the set they "
                "belong to, or other checks for those steps.",
                len(strays),
            ) % {"steps": ", ".join(strays), "set": check_set.title}
            raise ValidationError({"check_set": message})

    def get_context(self, request, *args, **kwargs):
        from apps.checks.selectors.panel import check_panel
        from apps.checks.selectors.previews import may_preview
        from apps.checks.services.previews import preview_session_record
        from apps.checks.services.refusals import refusal_pop

        context = super().get_context(request, *args, **kwargs)
        if getattr(request, "is_preview", False) and may_preview(request.user):
            # A preview's checks run the draft as shown now, kept before the panel reads it.
            self.preview_session = preview_session_record(user=request.user, page=self)
        panel = check_panel(request, self, refusal=refusal_pop(request, self))
        numbered = []
        step_number = 0
        for block in self.body:
            if block.block_type == "step":
                step_number += 1
                numbered.append((step_number, block, panel.widgets.get(block.id)))
            else:
                numbered.append((None, block, None))
        context["numbered_blocks"] = numbered
        context["panel"] = panel
        context["has_checks"] = any(block.value.get("check") for block in self.steps)
        if panel.can_check and panel.preview is None:  # a preview files no tickets
            from apps.support.selectors import ticket_form_context

            context.update(ticket_form_context(panel.diagnosis))
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        # Only what an anonymous reader sees is shared: the middleware checks
        # the request carries no session before using this flag.
        response.help_page_cacheable = True
        return response
