"""Making, checking and revoking personal access tokens; what a token may do; recording its calls.

A token reads ``kt_`` + a public prefix + a secret (``kt_<12>.<40>``), about
300 bits from ``secrets``: it is long and random enough that a plain SHA-256
of it is what a password hash is for weaker secrets, and checking it costs
microseconds on every call.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.checks.base import AccountAccess
from apps.checks.registry import account_directory

from .models import ApiCall, ApiToken

# A token's last use is written at most this often: a bot polling twice a second costs no write each time.
LAST_USED_EVERY = timedelta(minutes=1)
EXPIRY_DAYS = (7, 30, 90, 365)
DEFAULT_EXPIRY_DAYS = 30
_TOKEN = re.compile(r"kt_([A-Za-z0-9]{12})\.([A-Za-z0-9_-]{40})")


class Scope(enum.StrEnum):
    """What a token may do. Every token may read; ``diagnose`` and ``fix`` add starting checks and applying fixes."""

    READ = "read"
    DIAGNOSE = "diagnose"
    FIX = "fix"


SCOPE_WORDS = {
    Scope.READ: "Read articles, plugins, diagnoses, watches and notifications",
    Scope.DIAGNOSE: "Run checks and diagnoses, and watch orders",
    Scope.FIX: "Apply the fixes checks offer",
}


class TokenRefused(Exception):
    """The token cannot be used (malformed, unknown, revoked, expired, or its user left the account)."""


@dataclass(frozen=True)
class TokenAccess:
    """A checked token: who it acts for, in which account, with which scopes."""

    token: ApiToken
    user: object
    account: AccountAccess

    def allows(self, scope: Scope | str) -> bool:
        return Scope(scope) == Scope.READ or str(scope) in (self.token.scopes or [])


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_clean(scopes) -> list[str]:
    """The scopes asked for, known ones only, in their order; ``read`` is always among them."""
    asked = {str(s).strip().lower() for s in scopes or []}
    unknown = asked - {s.value for s in Scope}
    if unknown:
        raise ValueError(f"Unknown scope: {', '.join(sorted(unknown))}. Choose from read, diagnose and fix.")
    return [s.value for s in Scope if s == Scope.READ or s.value in asked]


def token_create(
    *, user, merchant_id: int, name: str, scopes, expires_in_days: int = DEFAULT_EXPIRY_DAYS
) -> tuple[ApiToken, str]:
    """A new token for ``user`` in ``merchant_id`` (of which they must be a member); returns it and its secret.

    The secret is returned here only: it is never stored, so it cannot be shown again.
    Raises ValueError (saying why) for a name, scope or expiry that cannot be used,
    and LookupError when the user is not a member of the account.
    """
    name = " ".join(str(name or "").split())[:80]
    if not name:
        raise ValueError("Give the token a name, so you know later what uses it.")
    if expires_in_days not in EXPIRY_DAYS:
        raise ValueError(f"A token expires after {', '.join(map(str, EXPIRY_DAYS))} days.")
    if account_directory().membership_for(user, merchant_id=merchant_id) is None:
        raise LookupError("not a member of that account")
    prefix = "".join(
        secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(12)
    )
    raw = f"kt_{prefix}.{secrets.token_urlsafe(30)}"
    token = ApiToken.objects.create(
        user=user,
        merchant_id=merchant_id,
        name=name,
        scopes=scopes_clean(scopes),
        prefix=prefix,
        secret_hash=_hash(raw),
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    return token, raw


def token_authenticate(raw: str, *, now=None) -> TokenAccess:
    """The access a presented token gives, or TokenRefused saying why it gives none."""
    now = now or timezone.now()
    match = _TOKEN.fullmatch(raw or "")
    if match is None:
        raise TokenRefused("That is not a Kitty Troubleshoot token.")
    token = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        raise TokenRefused("That token is not known.")
    if token.revoked_at is not None:
        raise TokenRefused("That token has been revoked.")
    if now >= token.expires_at:
        raise TokenRefused("That token has expired. Make a new one on your account's API tokens page.")
    user = token.user
    if not user.is_active:
        raise TokenRefused("That token's user can no longer sign in.")
    account = account_directory().membership_for(user, merchant_id=token.merchant_id)
    if account is None:
        raise TokenRefused("That token's user is no longer a member of its account.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return TokenAccess(token=token, user=user, account=account)


def token_revoke(*, token: ApiToken) -> bool:
    """Revoke the token for good; False when it already was. Takes effect on its next call."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def api_call_record(
    access: TokenAccess, *, door: str, action: str, diagnosis=None, runs=(), outcome: str = ""
) -> ApiCall:
    """Record a call that started checks, applied a fix or changed a watch, with the token that made it."""
    return ApiCall.objects.create(
        token=access.token,
        door=door,
        action=action,
        diagnosis=diagnosis,
        run_uuids=[str(run.uuid) for run in runs],
        outcome=str(outcome)[:300],
    )


def user_named(username: str):
    return get_user_model().objects.filter(username=username).first()
