"""The "Still missing?" ticket form: what the merchant may edit before it goes to support."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.checks.base import InputError
from apps.commerce.order_inputs import ORDER_NUMBER_MAX, clean_order_number
from kitty_troubleshoot.params import int_param

TRIED_MAX = 10_000
MESSAGE_MAX = 5_000


class SupportTicketForm(forms.Form):
    # Platform and plugin come from the diagnosis: shown, never taken from the POST.
    platform = forms.CharField(label=_("Platform"), required=False, disabled=True)
    plugin_label = forms.CharField(label=_("Plugin"), required=False, disabled=True)
    order_number = forms.CharField(
        label=_("Order number"),
        # A little slack for "#" and spaces; clean_order_number says what is wrong beyond that.
        max_length=ORDER_NUMBER_MAX + 8,
        error_messages={"required": _("Type the order number from the source platform.")},
    )
    placed_date = forms.DateField(
        label=_("When the order was placed"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Give the date the order was placed as YYYY-MM-DD.")},
    )
    tried = forms.CharField(
        label=_("What you have already tried"),
        widget=forms.Textarea,
        max_length=TRIED_MAX,
        error_messages={
            "required": _("Tell us what you have already tried (“nothing yet” is a fine answer)."),
        },
    )
    message = forms.CharField(
        label=_("Anything else support should know (optional)"),
        widget=forms.Textarea,
        required=False,
        max_length=MESSAGE_MAX,
    )
    # The article revision the merchant was reading; a stale or forged id is ignored.
    page_revision = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Limits are numbers in the reader's own way of writing them ("10,000", "10.000").
        self.fields["order_number"].error_messages["max_length"] = gettext(
            "An order number has at most %(limit)s characters."
        ) % {"limit": ORDER_NUMBER_MAX}
        for name, limit in (("tried", TRIED_MAX), ("message", MESSAGE_MAX)):
            self.fields[name].error_messages["max_length"] = gettext(
                "Keep this under %(limit)s characters."
            ) % {"limit": number_format(limit, force_grouping=True)}

    def clean_order_number(self) -> str:
        try:
            value = clean_order_number(self.cleaned_data["order_number"])
        except InputError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not value:
            raise forms.ValidationError(gettext("Type the order number from the source platform."))
        checked = self.initial.get("order_number")
        if checked and value != checked:
            # The ticket carries the checks of the diagnosis: they must be about this order.
            raise forms.ValidationError(
                gettext(
                    "These checks were about order #%(checked)s. To ask about order #%(number)s, type it "
                    "at the top of the article and run the checks for it first."
                )
                % {"checked": checked, "number": value}
            )
        return value

    def clean_placed_date(self):
        placed = self.cleaned_data.get("placed_date")
        if placed and placed > timezone.localdate():
            raise forms.ValidationError(gettext("The date the order was placed cannot be in the future."))
        return placed

    def clean_page_revision(self) -> int | None:
        raw = (self.cleaned_data.get("page_revision") or "").strip()
        return int_param(raw)


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    """The diagnosis uuid a form carried, or None for anything that is not one."""
    try:
        return uuid.UUID(str(raw or "").strip())
    except ValueError:
        return None
