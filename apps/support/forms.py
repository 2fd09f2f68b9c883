"""The "Still missing?" ticket form: what the merchant may edit before it goes to support."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from apps.checks.base import InputError
from apps.commerce.order_inputs import ORDER_NUMBER_MAX, clean_order_number
from kitty_troubleshoot.params import int_param

TRIED_MAX = 10_000
MESSAGE_MAX = 5_000


class SupportTicketForm(forms.Form):
    # Platform and plugin come from the diagnosis: shown, never taken from the POST.
    platform = forms.CharField(label="Platform", required=False, disabled=True)
    plugin_label = forms.CharField(label="Plugin", required=False, disabled=True)
    order_number = forms.CharField(
        label="Order number",
        # A little slack for "#" and spaces; clean_order_number says what is wrong beyond that.
        max_length=ORDER_NUMBER_MAX + 8,
        error_messages={
            "required": "Type the order number from the source platform.",
            "max_length": f"An order number has at most {ORDER_NUMBER_MAX} characters.",
        },
    )
    placed_date = forms.DateField(
        label="When the order was placed",
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the date the order was placed as YYYY-MM-DD."},
    )
    tried = forms.CharField(
        label="What you have already tried",
        widget=forms.Textarea,
        max_length=TRIED_MAX,
        error_messages={
            "required": "Tell us what you have already tried (“nothing yet” is a fine answer).",
            "max_length": f"Keep this under {TRIED_MAX:,} characters.",
        },
    )
    message = forms.CharField(
        label="Anything else support should know (optional)",
        widget=forms.Textarea,
        required=False,
        max_length=MESSAGE_MAX,
        error_messages={"max_length": f"Keep this under {MESSAGE_MAX:,} characters."},
    )
    # The article revision the merchant was reading; a stale or forged id is ignored.
    page_revision = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_order_number(self) -> str:
        try:
            value = clean_order_number(self.cleaned_data["order_number"])
        except InputError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not value:
            raise forms.ValidationError("Type the order number from the source platform.")
        checked = self.initial.get("order_number")
        if checked and value != checked:
            # The ticket carries the checks of the diagnosis: they must be about this order.
            raise forms.ValidationError(
                f"These checks were about order #{checked}. To ask about order #{value}, type it "
                "at the top of the article and run the checks for it first."
            )
        return value

    def clean_placed_date(self):
        placed = self.cleaned_data.get("placed_date")
        if placed and placed > timezone.localdate():
            raise forms.ValidationError("The date the order was placed cannot be in the future.")
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
