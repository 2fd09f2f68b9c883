"""README's per-platform tables name every registered platform, so a new one is not documented by half."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.platforms import registry

README = Path(__file__).resolve().parents[2] / "README.md"


def table_rows(header: str) -> list[str]:
    """The first cell of each row of the README table whose header line starts with ``header``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[1].strip())
    return rows


@pytest.mark.parametrize(
    "header",
    ["| platform | API | credentials | notes |", "| platform | importable | not yet (waits for) | never |"],
)
def test_every_registered_platform_has_a_row(header):
    labels = [row.split(" (")[0] for row in table_rows(header)]  # "eBay (`orderPaymentStatus`, …)" is eBay's

    missing = [line.label for line in registry.PROVIDERS if line.label not in labels]
    assert not missing, f"README's table {header!r} has no row for {', '.join(missing)}"
    unknown = [label for label in labels if label not in {line.label for line in registry.PROVIDERS}]
    assert not unknown, f"README's table {header!r} has rows for unregistered platforms: {', '.join(unknown)}"


def test_a_platform_added_to_the_table_is_missed_until_its_rows_are_written(monkeypatch):
    line = registry.Provider("oneline", "One Line", "tests.platforms.test_providers", client="OneLineClient")
    monkeypatch.setattr(registry, "PROVIDERS", (*registry.PROVIDERS, line))

    with pytest.raises(AssertionError, match="has no row for One Line"):
        test_every_registered_platform_has_a_row("| platform | API | credentials | notes |")
