"""The step block's check chooser: radio cards that say what each check does."""

from __future__ import annotations

from django import forms

from apps.checks.registry import get_check


class CheckChooser(forms.RadioSelect):
    """One card per check: its title, what it looks at, where it belongs and the fixes it can offer.

    A RadioSelect underneath, so Wagtail's StreamField reads and sets its value
    as it does any radio group.
    """

    template_name = "help/widgets/check_chooser.html"

    class Media:
        css = {"all": ["css/check_chooser.css"]}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        option["check"] = get_check(str(value)) if value else None
        return option
