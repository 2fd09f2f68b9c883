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
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.checks.base import AccountAccess
from apps.checks.registry import account_directory
from kitty_troubleshoot.said import said

from .models import ApiCall, ApiToken

# A token's last use is written at most this often: a bot polling twice a second costs no write each time.
LAST_USED_EVERY = timedelta(minutes=1)
EXPIRY_DAYS = (7, 30, 90, 365)  # named in expiry_clean's sentence
DEFAULT_EXPIRY_DAYS = 30
# Enough for every tool one person runs; a page or script making tokens in a loop stops here.
ACTIVE_TOKENS_MAX = 20
NAME_MAX = ApiToken._meta.get_field("name").max_length
_PREFIX_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
# Control characters and bidirectional overrides: a name with them could read as another in a list.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_TOKEN = re.compile(r"kt_([A-Za-z0-9]{12})\.([A-Za-z0-9_-]{40})")


class Scope(enum.StrEnum):
    """What a token may do. Every token may read; ``diagnose`` and ``fix`` add starting checks and applying fixes."""

    READ = "read"
    DIAGNOSE = "diagnose"
    FIX = "fix"


SCOPE_WORDS = {
    Scope.READ: _("Read articles, plugins, diagnoses, watches and notifications"),
    Scope.DIAGNOSE: _("Run checks and diagnoses, and watch orders"),
    Scope.FIX: _("Apply the fixes checks offer"),
}


class TokenInvalid(ValueError):
    """A token cannot be made as asked; the message says why, ``field`` which input it is about (or None)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class TokenAlreadyMade(Exception):
    """The form this token is asked from has made one already (it was sent again); ``token`` is that one."""

    def __init__(self, token: ApiToken):
        super().__init__(said("%(name)s was already made from this form.", name=token.name))
        self.token = token


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
        # Quoted and cut short: the words are shown back to whoever sent them, whatever they sent.
        named = ", ".join(f"“{value[:30]}”" for value in sorted(unknown)[:3])
        raise TokenInvalid(
            said("Unknown scope: %(named)s. Choose from read, diagnose and fix.", named=named), field="scopes"
        )
    return [s.value for s in Scope if s == Scope.READ or s.value in asked]


def scope_words(scopes) -> list[str]:
    """What a token's scopes let it do, in the words the token page offers them."""
    return [SCOPE_WORDS[s] for s in Scope if s == Scope.READ or s.value in (scopes or [])]


def name_clean(name) -> str:
    """The name as it will be stored: control characters dropped, runs of spaces made one."""
    printable = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in str(name or "")
        if ch in "\t\n\r" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )
    name = " ".join(printable.split())
    if not name:
        raise TokenInvalid(said("Give the token a name, so you know later what uses it."), field="name")
    if len(name) > NAME_MAX:
        raise TokenInvalid(
            said(
                "Keep the name to %(most)s characters (this one has %(count)s).",
                most=NAME_MAX,
                count=len(name),
            ),
            field="name",
        )
    return name


def expiry_clean(days) -> int:
    """The days until a token expires, when they are one of the choices on offer."""
    if type(days) is not int or days not in EXPIRY_DAYS:
        # A whole sentence naming EXPIRY_DAYS (translated as one): change both together.
        raise TokenInvalid(said("A token expires after 7, 30, 90 or 365 days."), field="expires_in_days")
    return days


def tokens_active(*, user, merchant_id: int, now=None):
    """The user's tokens in the account that still work (unless the user left it)."""
    return ApiToken.objects.filter(
        user=user, merchant_id=merchant_id, revoked_at=None, expires_at__gt=now or timezone.now()
    )


def token_create(
    *,
    user,
    merchant_id: int,
    name: str,
    scopes,
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    form_key: str = "",
) -> tuple[ApiToken, str]:
    """A new token for ``user`` in ``merchant_id`` (of which they must be a member); returns it and its secret.

    The secret is returned here only: it is never stored, so it cannot be shown again.
    Raises TokenInvalid, a ValueError (saying why), for a name, scope or expiry that
    cannot be used, or when the user has ``ACTIVE_TOKENS_MAX`` working tokens in the
    account; LookupError when the user is not a member of the account; TokenAlreadyMade
    when ``form_key`` (the token page's form, sent again) has made one already.
    """
    name = name_clean(name)
    clean_scopes = scopes_clean(scopes)
    expires_in_days = expiry_clean(expires_in_days)
    if account_directory().membership_for(user, merchant_id=merchant_id) is None:
        raise LookupError("not a member of that account")
    with transaction.atomic():
        # One creation at a time per user: two pages sent together cannot both take the last place.
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
        form_key = str(form_key or "")[:32]
        if form_key:
            made = ApiToken.objects.filter(user=user, form_key=form_key).first()
            if made is not None:
                raise TokenAlreadyMade(made)
        if tokens_active(user=user, merchant_id=merchant_id).count() >= ACTIVE_TOKENS_MAX:
            raise TokenInvalid(
                said(
                    "You already have %(count)s working tokens in this account, the most one person may have. "
                    "Revoke one you no longer use, then make the new one.",
                    count=ACTIVE_TOKENS_MAX,
                )
            )
        for _attempt in range(3):
            prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(12))
            raw = f"kt_{prefix}.{secrets.token_urlsafe(30)}"
            try:
                with transaction.atomic():
                    token = ApiToken.objects.create(
                        user=user,
                        merchant_id=merchant_id,
                        name=name,
                        scopes=clean_scopes,
                        prefix=prefix,
                        secret_hash=_hash(raw),
                        expires_at=timezone.now() + timedelta(days=expires_in_days),
                        form_key=form_key,
                    )
            except IntegrityError:
                continue  # the prefix is taken (one chance in 10^21): draw another
            return token, raw
    raise RuntimeError("Could not draw a free token prefix.")


def token_authenticate(raw: str, *, now=None) -> TokenAccess:
    """The access a presented token gives, or TokenRefused saying why it gives none."""
    now = now or timezone.now()
    match = _TOKEN.fullmatch(raw if isinstance(raw, str) else "")
    if match is None:
        raise TokenRefused(said("That is not a Kitty Troubleshoot token."))
    token = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        raise TokenRefused(said("That token is not known."))
    if token.revoked_at is not None:
        raise TokenRefused(said("That token has been revoked."))
    if now >= token.expires_at:
        raise TokenRefused(said("That token has expired. Make a new one on your account's API tokens page."))
    user = token.user
    if not user.is_active:
        raise TokenRefused(said("That token's user can no longer sign in."))
    account = account_directory().membership_for(user, merchant_id=token.merchant_id)
    if account is None:
        raise TokenRefused(said("That token's user is no longer a member of its account."))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # Conditional, so calls arriving together in several processes write it once between them.
        ApiToken.objects.filter(
            Q(last_used_at=None) | Q(last_used_at__lte=now - LAST_USED_EVERY), pk=token.pk
        ).update(last_used_at=now)
        token.last_used_at = now
    return TokenAccess(token=token, user=user, account=account)


def token_revoke(*, token: ApiToken) -> bool:
    """Revoke the token for good; False when it already was. Takes effect on its next call."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def tokens_revoke_of_leaver(*, user_id: int, merchant_id: int) -> int:
    """Revoke what a person who left an account made for it; how many tokens that was.

    A token already stops working when its user leaves (``token_authenticate``
    asks for the membership on every call); revoking it too means that being
    added back later does not wake up a token made for the earlier stay.
    """
    return ApiToken.objects.filter(user_id=user_id, merchant_id=merchant_id, revoked_at=None).update(
        revoked_at=timezone.now()
    )


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
