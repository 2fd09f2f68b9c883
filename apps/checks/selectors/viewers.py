"""Who may see what: the diagnoses and runs a viewer may open, and the diagnosis the article shows them."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..base import AccountAccess
from ..models import CheckRun, Diagnosis
from ..services.running import check_run_expire_if_overdue
from .articles import with_article
from .previews import may_preview

SESSION_KEY = "checks:diagnosis:{page_id}"


def session_diagnosis(request, page, *, merchant_id: int | None = None) -> Diagnosis | None:
    """The diagnosis this reader last started on the article, if it is the request's account's."""
    uuid = request.session.get(SESSION_KEY.format(page_id=page.pk))
    if not uuid:
        return None
    if merchant_id is None:
        account = getattr(request, "account", None)
        if account is None:
            return None
        merchant_id = account.merchant_id
    return Diagnosis.objects.filter(uuid=uuid, merchant_id=merchant_id, preview_session=None).first()


def diagnosis_for_viewer(user, account: AccountAccess | None, diagnosis_uuid) -> Diagnosis | None:
    """The diagnosis with this id, if it is of ``user``'s own article preview or of ``account``; else None.

    Read in one query by its id alone, with its article and preview session:
    the query names no account, so answering for a preview never reads the
    editor's own. Whose it is is then decided on the row: a preview's belongs
    to its editor (while they may still preview), any other to its account.
    Anyone else's (another account's, another editor's preview's), a
    read-only one or a malformed id is None.
    """
    try:
        diagnosis = (
            with_article(Diagnosis.objects.filter(uuid=diagnosis_uuid, read_only=False))
            .select_related("preview_session")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
    return diagnosis if diagnosis is not None and _seen_by(diagnosis, user, account) else None


def _seen_by(diagnosis: Diagnosis, user, account: AccountAccess | None) -> bool:
    if diagnosis.preview_session_id is not None:
        # Permissions asked last: a merchant's look at their own account's costs no lookup of them.
        return (
            getattr(user, "is_authenticated", False)
            and diagnosis.preview_session.user_id == user.pk
            and may_preview(user)
        )
    return account is not None and diagnosis.merchant_id == account.merchant_id


def diagnosis_for_account(account: AccountAccess | None, diagnosis_uuid) -> Diagnosis | None:
    """The account's own diagnosis with this id; None for anyone else's, a preview's or a malformed id."""
    return diagnosis_for_viewer(None, account, diagnosis_uuid) if account is not None else None


def diagnosis_merchant_id(diagnosis_uuid) -> int | None:
    """Whose diagnosis this is (the caller must not show it unless the user is a member of that account)."""
    try:
        return (
            Diagnosis.objects.filter(uuid=diagnosis_uuid, read_only=False, preview_session=None)
            .values_list("merchant_id", flat=True)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def run_for_viewer(user, account: AccountAccess | None, run_uuid) -> CheckRun | None:
    """The check run with this id (expired if overdue), if ``user``'s preview's or ``account``'s; else None.

    One query by its id alone, with its diagnosis and article; whose it is is
    decided as for :func:`diagnosis_for_viewer`.
    """
    try:
        run = (
            with_article(CheckRun.objects.filter(uuid=run_uuid))
            .select_related("diagnosis", "diagnosis__preview_session")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
    if run is None or not _seen_by(run.diagnosis, user, account):
        return None
    return check_run_expire_if_overdue(run)
