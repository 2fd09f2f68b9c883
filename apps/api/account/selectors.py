"""What the token page shows a signed-in person, and which tokens they may revoke.

A member sees and revokes the tokens they made for the account they work in.
An owner also sees every other member's working tokens there (who made it,
what it may do, when it was last used) and may revoke any of them: tokens act
for the account, and its owner answers for what acts for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from apps.checks.base import AccountAccess

from ..models import ApiToken
from ..tokens import scope_words

# Revoked and expired tokens stay listed as a record, the latest this many; the rest is in Django admin.
ENDED_SHOWN = 20


@dataclass(frozen=True)
class TokenRow:
    """One token as the page lists it."""

    token: ApiToken
    state: str  # "active", "revoked" or "expired"
    scopes: list[str]

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class TokenLists:
    mine: list[TokenRow] = field(default_factory=list)  # working ones first, then the latest ended
    ended_hidden: int = 0  # ended tokens of the person's not listed
    others: list[TokenRow] | None = None  # for an owner: other members' working tokens

    @property
    def mine_active(self) -> int:
        return sum(row.active for row in self.mine)


def _row(token: ApiToken, now) -> TokenRow:
    return TokenRow(token=token, state=token.state(now), scopes=scope_words(token.scopes))


def token_lists(account: AccountAccess, user, *, now=None) -> TokenLists:
    """The person's tokens in the account, and for an owner the other members' working tokens."""
    now = now or timezone.now()
    own = ApiToken.objects.filter(merchant_id=account.merchant_id, user=user)
    working = [_row(t, now) for t in own.filter(revoked_at=None, expires_at__gt=now)]
    ended_rows = own.exclude(pk__in=[row.token.pk for row in working])
    ended = [_row(t, now) for t in ended_rows[:ENDED_SHOWN]]
    hidden = ended_rows.count() - len(ended) if len(ended) == ENDED_SHOWN else 0
    others = None
    if account.is_owner:
        rows = (
            ApiToken.objects.filter(merchant_id=account.merchant_id, revoked_at=None, expires_at__gt=now)
            .exclude(user=user)
            .select_related("user")
            .order_by("user__username", "-created_at")
        )
        others = [_row(t, now) for t in rows]
    return TokenLists(mine=working + ended, ended_hidden=hidden, others=others)


def token_for_manager(account: AccountAccess | None, user, pk: int) -> ApiToken | None:
    """The token ``pk`` if the person may revoke it: theirs in this account, or any of it for its owner."""
    if account is None:
        return None
    tokens = ApiToken.objects.select_related("user").filter(merchant_id=account.merchant_id, pk=pk)
    if not account.is_owner:
        tokens = tokens.filter(user=user)
    return tokens.first()


def token_account(pk: int) -> int | None:
    """The account a token was made for, to offer a switch to a person who is a member of it."""
    return ApiToken.objects.filter(pk=pk).values_list("merchant_id", flat=True).first()
