"""The step block's check chooser: radio cards that say what each check does."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.checks.registry import get_check
from apps.checks.sets import sets_listing

# One sentence, said by the editor's script as a check is chosen and by the block's validation on saving.
# In the editor's language; {title} and {step} are filled in here and by check_chooser.js alike.
CHECK_ON_TWO_STEPS = _(
    "“{title}” is also the check of Step {step}. A check belongs to one step "
    "(a diagnosis runs each step's check once): choose another check, or No check."
)


def check_on_two_steps(check_key: str, *, other_step: int) -> str:
    check = get_check(check_key)
    return str(CHECK_ON_TWO_STEPS).format(
        title=check.title if check is not None else check_key, step=other_step
    )


class CheckChooser(forms.RadioSelect):
    """One card per check: its title, what it looks at, where it belongs and the fixes it can offer.

    A RadioSelect underneath, so Wagtail's StreamField reads and sets its value
    as it does any radio group.
    """

    template_name = "help/widgets/check_chooser.html"
    # Names the radio group: Django points a RadioSelect's <label> at no input, so the field's label names nothing.
    group_label = _("Check")

    class Media:
        css = {"all": ["css/check_chooser.css"]}
        js = ["js/check_chooser.js"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["on_two_steps"] = CHECK_ON_TWO_STEPS
        context["widget"]["group_label"] = self.group_label
        return context

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        option["check"] = get_check(str(value)) if value else None
        option["sets"] = " ".join(sets_listing(str(value))) if value else ""
        return option
