"""An article's preview: the draft its checks run, and the editor's sandbox account built again."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Diagnosis, PreviewSession
from ..registry import account_directory


def preview_session_record(*, user, page) -> PreviewSession:
    """Keep the draft ``user`` is previewing (its blocks as they are now), for the preview's checks."""
    body = page.body.get_prep_value()  # gives every block its id, as the preview renders them
    content_type = ContentType.objects.get_for_model(page)
    page_id = page.pk or None
    session = PreviewSession.objects.filter(user=user, page_id=page_id, content_type=content_type).first()
    if session is None:
        try:
            with transaction.atomic():
                return PreviewSession.objects.create(
                    user=user, page_id=page_id, content_type=content_type, title=page.title, body=body
                )
        except IntegrityError:  # the same preview, rendered twice at once
            session = PreviewSession.objects.get(user=user, page_id=page_id)
    if session.body != body or session.title != page.title:
        session.body, session.title, session.updated_at = body, page.title, timezone.now()
        session.save(update_fields=["body", "title", "updated_at"])
    return session


def preview_sandbox_reset(*, editor) -> int:
    """Build ``editor``'s sandbox account again, every cause staged anew, and forget its preview runs."""
    with transaction.atomic():
        Diagnosis.objects.filter(preview_session__user=editor).delete()
        return account_directory().preview_account(editor, rebuild=True)
