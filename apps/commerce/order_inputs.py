"""The inputs a merchant types about an order, and how each is cleaned (the page, the ticket form, the API)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from apps.checks.base import InputError
from kitty_troubleshoot.said import said, said_n

ORDER_NUMBER_MAX = 64
ORDER_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9\-_.#]+$")


def _decimal_digits_fold(value: str) -> str:
    """Every Unicode decimal digit (category Nd) as its ASCII digit; other characters unchanged."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None else ch
        for ch in value
    )


def clean_order_number(raw: str | None) -> str:
    """Trimmed, without a leading '#'; empty when not given. Raises InputError for garbage.

    Compatibility forms are folded first (NFKC): full-width digits typed on a
    Japanese keyboard ("１００４") or a full-width "＃" read as the order they mean.
    So does every other decimal digit Unicode knows (Arabic-Indic "١٠٠٤",
    Devanagari "१००४", ...): NFKC leaves those as they are, so each is folded to
    its ASCII digit by its decimal value.
    """
    value = (raw or "").strip()
    if len(value) <= ORDER_NUMBER_MAX * 4:  # folding a huge paste is not worth computing
        value = _decimal_digits_fold(unicodedata.normalize("NFKC", value)).strip()
    if len(value) > ORDER_NUMBER_MAX:
        raise InputError(
            "order_number",
            said_n(
                "An order number has at most %(count)s character.",
                "An order number has at most %(count)s characters.",
                ORDER_NUMBER_MAX,
            ),
        )
    if value and not ORDER_NUMBER_PATTERN.match(value):
        raise InputError(
            "order_number",
            said("An order number has only letters, digits and - _ . # (copy it from the source platform)."),
        )
    typed = value
    value = value.lstrip("#")
    if value == "" and typed:
        raise InputError("order_number", said("Type the order number after the #."))
    return value


# No marketplace order is older; earlier dates are typing mistakes (and overflow date arithmetic).
EARLIEST_PLACED_DATE = date(2000, 1, 1)


def clean_placed_date(raw: str | None) -> date | None:
    value = (raw or "").strip()
    if not value:
        return None
    # Only the plain YYYY-MM-DD a date field sends (fromisoformat would also take "2024-W01-1").
    try:
        placed = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        placed = None
    if placed is None:
        raise InputError("placed_date", said("Give the date the order was placed as YYYY-MM-DD."))
    if placed < EARLIEST_PLACED_DATE:
        raise InputError(
            "placed_date",
            said("Give a date after %(year)s: that is too long ago.", year=EARLIEST_PLACED_DATE.year),
        )
    if placed > date.today():
        raise InputError("placed_date", said("The date the order was placed cannot be in the future."))
    return placed
