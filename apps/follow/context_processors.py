"""The header's notifications bell: the chosen account's unread count, counted only when a page shows it."""

from functools import cached_property


class _Inbox:
    def __init__(self, account):
        self.merchant_id = account.merchant_id

    @cached_property
    def unread(self) -> int:
        from .selectors import unread_count

        return unread_count(self.merchant_id)


def inbox(request):
    account = getattr(request, "account", None)
    if account is None:
        return {}
    return {"inbox": _Inbox(account)}
