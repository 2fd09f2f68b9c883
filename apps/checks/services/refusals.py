"""A refused start, kept in the session for the article loaded again without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sets import CheckSet, set_of

REFUSAL_KEY = "checks:refusal:{page_id}"


def typed_fields(check_set: type[CheckSet]) -> tuple[str, ...]:
    """The panel's fields: shown again as typed when a start is refused without JavaScript."""
    return ("subject", *(i.name for i in check_set.inputs))


@dataclass
class Refusal:
    """Why a check did not start, for the article page loaded again without JavaScript."""

    block_id: str  # the step whose button was pressed; "" for "Check every step"
    message: str
    field_name: str = ""  # the input at fault, if one is
    typed: dict = field(default_factory=dict)  # the subject and the set's inputs, as they were posted


def refusal_keep(request, page, refusal: Refusal) -> None:
    """Keep ``refusal`` for the next load of ``page`` in this session."""
    request.session[REFUSAL_KEY.format(page_id=page.pk)] = {
        "block_id": refusal.block_id,
        "message": refusal.message,
        "field": refusal.field_name,
        "typed": refusal.typed,
    }


def refusal_pop(request, page) -> Refusal | None:
    """The refusal kept for ``page``, taken out of the session: it is shown once."""
    data = request.session.pop(REFUSAL_KEY.format(page_id=page.pk), None)
    if not isinstance(data, dict):
        return None
    return Refusal(
        block_id=str(data.get("block_id", "")),
        message=str(data.get("message", "")),
        field_name=str(data.get("field", "")),
        typed={k: str(v) for k, v in (data.get("typed") or {}).items() if k in typed_fields(set_of(page))},
    )
