"""The header's notifications bell: the account's unread count, counted only when a page shows it."""

from functools import cached_property


class _Inbox:
    def __init__(self, user):
        self._user = user

    @cached_property
    def merchant_id(self) -> int | None:
        from .selectors import merchant_id_for

        return merchant_id_for(self._user)

    @cached_property
    def unread(self) -> int:
        from .selectors import unread_count

        return unread_count(self.merchant_id) if self.merchant_id is not None else 0


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": _Inbox(user)}
