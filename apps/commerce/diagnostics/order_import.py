"""The check set of "An Order Did Not Import": an order number and the date it was placed, on one plugin."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_noop

from apps.checks.base import InputError
from apps.checks.sets import CheckSet, SummaryWords, TypedInput, register_set
from apps.platforms.base import OrderNumberProblem
from apps.platforms.registry import provider
from kitty_troubleshoot.said import said

from ..importing.rules import platform_says
from ..models import Plugin
from ..order_inputs import clean_order_number, clean_placed_date

ORDER_NUMBER = TypedInput(
    "order_number",
    said("Order number"),
    clean_order_number,
    placeholder=said("e.g. #1001"),
    missing=said("Type the missing order's number (as the source platform shows it)."),
    identifies=True,
)
PLACED_DATE = TypedInput(
    "placed_date",
    said("Placed on"),
    clean_placed_date,
    kind="date",
    optional=True,
    stored=lambda value: value.isoformat() if isinstance(value, date) else "",
)


class OrderOnPlugin(CheckSet):
    """An order looked for through one of the account's plugins: what every order article asks."""

    inputs = (ORDER_NUMBER, PLACED_DATE)
    subject_label = said("Plugin")
    subject_missing = said("Choose the plugin the order should import through.")
    subject_placeholder = said("Choose a plugin…")

    @classmethod
    def subject_for(cls, merchant_id: int, subject_id: int, values: dict[str, Any]):
        """The plugin's name, and the order number as its platform writes it (an Amazon id typed as 17 digits is 3-7-7)."""
        found = (
            Plugin.objects.filter(merchant_id=merchant_id, pk=subject_id)
            .values_list("name", "platform")
            .first()
        )
        if found is None:
            return None
        name, platform = found
        number = values.get("order_number") or ""
        if not number:
            return name, values
        try:
            return name, {**values, "order_number": provider(platform).order_number(number)}
        except OrderNumberProblem as exc:
            raise InputError("order_number", platform_says(exc)) from None


@register_set
class OrderImport(OrderOnPlugin):
    key = "order-import"
    title = "An Order Did Not Import"
    before_step_one = "order_already_imported"
    check_keys = (
        "import_orders_enabled",
        "plugin_on_one_channel",
        "order_age",
        "plugin_errors",
        "plugin_authorized",
        "source_order_state",
        "manual_sync",
    )
    words = SummaryWords(
        about=gettext_noop("order #%(reference)s"),
        already_here=gettext_noop("Order #%(reference)s is already in Commerce Kitty."),
        already_here_then=gettext_noop(
            "It did import, so the steps below do not apply. Look for it in your orders list."
        ),
        keeps_out=gettext_noop("Step %(step)s keeps the order out: %(verdict)s"),
        all_passed_then=gettext_noop(
            "If the order is still missing, open a support ticket: it will carry this diagnosis."
        ),
        watch_needs_reference=gettext_noop("Type the missing order's number and check it first."),
        watch_wait=gettext_noop(
            "Wait until the checks of order #%(reference)s have finished, then watch it."
        ),
        watch_never=gettext_noop(
            "There is nothing to watch for: order #%(reference)s will not arrive by itself. %(verdict)s"
        ),
        watch_absent=gettext_noop(
            "There is nothing to watch for: the platform has no order #%(reference)s for this plugin. "
            "Check the number, and the plugin whose store it was placed in."
        ),
        watch_blocked=gettext_noop(
            "Order #%(reference)s will not arrive by itself until Step %(step)s is resolved: %(verdict)s"
        ),
    )
