"""An article's preview: who may preview, the signed token that names a preview, its draft and its address."""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from ..models import PreviewSession

PREVIEW_TOKEN_SALT = "checks.preview"
PREVIEW_TOKEN_MAX_AGE = 12 * 60 * 60  # a preview left open overnight asks to be opened again


def may_preview(user) -> bool:
    """Editors (anyone who may use Wagtail's admin, where previews are) may check in a preview."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("wagtailadmin.access_admin"))


def preview_token(session: PreviewSession) -> str:
    """What the preview's forms send to name the preview session; signed, for its editor only."""
    return signing.dumps({"s": str(session.uuid), "u": session.user_id}, salt=PREVIEW_TOKEN_SALT)


def preview_session_for_user(user, token: str) -> PreviewSession:
    """The preview session a token names, if it is this user's and still fresh; otherwise a 404."""
    try:
        data = signing.loads(token, salt=PREVIEW_TOKEN_SALT, max_age=PREVIEW_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This preview has expired: open the preview again.") from None
    if not isinstance(data, dict) or data.get("u") != user.pk or not may_preview(user):
        raise Http404("No such preview.")
    try:
        session = (
            PreviewSession.objects.select_related("content_type")
            .filter(uuid=data.get("s"), user=user)
            .first()
        )
    except (ValueError, ValidationError):
        session = None
    if session is None:
        raise Http404("No such preview.")
    return session


def preview_article(session: PreviewSession):
    """The draft the preview shows, as a page, knowing it is a preview (views send the reader back to it)."""
    page = session.article()
    page.preview_session = session
    return page


def preview_url(session: PreviewSession) -> str:
    """Where a preview is shown again, for a form posted without JavaScript."""
    if session.page_id:
        return reverse("wagtailadmin_pages:preview_on_edit", args=[session.page_id])
    return reverse("wagtailadmin_home")
