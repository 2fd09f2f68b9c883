"""What every word of a platform's status table must do, once read through its client: one assertion for all."""

from __future__ import annotations

from apps.commerce.importing import rule_importable_state
from apps.platforms.base import ImportOutcome, SourceOrder, StatusTable, StatusWord


def entry_id(entry: StatusWord) -> str:
    return f"{entry.field}={entry.word}" if entry.field else entry.word or "(empty)"


def every_word(table: StatusTable) -> dict:
    """``pytest.mark.parametrize`` arguments walking every word of ``table``."""
    return {"argnames": "entry", "argvalues": list(table), "ids": [entry_id(e) for e in table]}


def assert_step_six_follows(entry: StatusWord, order: SourceOrder) -> None:
    """The order, fetched with ``entry``'s word, is judged by the entry, and Step 6's sentence follows its outcome."""
    result = rule_importable_state(order)
    assert (order.state, order.outcome) == (entry.state, entry.outcome)
    assert result.evidence["outcome"] == entry.outcome.value
    assert order.platform_status in result.message
    if entry.outcome == ImportOutcome.IMPORTABLE:
        assert result.passed
        assert "is paid and confirmed on the platform" in result.message
        return
    assert result.failed
    if entry.outcome == ImportOutcome.NOT_YET:
        assert f"it is waiting for {entry.reason}," in result.message
        assert "will not import" not in result.message
    else:
        # Nobody is told to wait for an order that will never arrive.
        assert f"will not import: {entry.reason} (“" in result.message
        assert "create it by hand in Commerce Kitty" in result.message
        assert "waiting" not in result.message and "once" not in result.message
