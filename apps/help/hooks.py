"""What the help pages let the apps above them plug in, set by those apps when Django starts.

The help pages sit below ``apps.insights`` in the layer order (``tests/test_layers.py``)
and never import it: insights hands its search log in here (``InsightsConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Called as recorder(query=..., results=...); returns the logged search, whose ``uuid``
# routes the result links through the click log, or None when it logged nothing.
SearchRecorder = Callable[..., Any]

_search_recorder: SearchRecorder | None = None


def set_search_recorder(recorder: SearchRecorder | None) -> None:
    """Called once by the app that keeps the search log (``apps.insights``)."""
    global _search_recorder
    _search_recorder = recorder


def search_record(*, query: str, results: int) -> Any:
    """Log one search of the help center; the logged search, or None (nothing logs searches)."""
    if _search_recorder is None:
        return None
    return _search_recorder(query=query, results=results)
