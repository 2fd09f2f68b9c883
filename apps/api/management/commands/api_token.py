"""Make, list and revoke API tokens from a shell: for scripts, CI and the demo.

    ./manage.py api_token create merchant --scope diagnose --scope fix --name "Support bot"
    ./manage.py api_token list merchant
    ./manage.py api_token revoke kt_AbCdEfGh2345

``create`` prints the token on its last line, alone, so a script can take it
with ``| tail -n 1``; the lines before it say what it is.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.checks.registry import account_directory
from kitty_troubleshoot.words import when

from ...models import ApiToken
from ...tokens import (
    DEFAULT_EXPIRY_DAYS,
    EXPIRY_DAYS,
    TokenInvalid,
    token_create,
    token_revoke,
    user_named,
)


class Command(BaseCommand):
    help = "Make (create), list or revoke personal access tokens for the JSON API and the MCP server."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Make a token; it is printed on the last line, once.")
        create.add_argument("username")
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            help="diagnose and/or fix, once each (read is always included).",
        )
        create.add_argument(
            "--name", default="Command line", help="What will use it (default: Command line)."
        )
        create.add_argument(
            "--days",
            type=int,
            default=DEFAULT_EXPIRY_DAYS,
            choices=EXPIRY_DAYS,
            help=f"Days until it expires (default: {DEFAULT_EXPIRY_DAYS}).",
        )
        create.add_argument(
            "--account",
            type=int,
            dest="merchant_id",
            help="The account's id; default: the user's first account.",
        )
        listing = actions.add_parser("list", help="A user's tokens, in every account.")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token, named by its prefix (kt_… as listed).")
        revoke.add_argument("prefix")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username: str):
        user = user_named(username)
        if user is None:
            raise CommandError(f"No user is called “{username}”.")
        return user

    def _create(self, *, username: str, scopes: list[str], name: str, days: int, merchant_id, **_):
        user = self._user(username)
        account = account_directory().membership_for(user, merchant_id=merchant_id)
        if account is None:
            if merchant_id is None:
                raise CommandError(
                    f"{username} is not a member of any account, so a token could act for none."
                )
            raise CommandError(f"{username} is not a member of account {merchant_id}.")
        try:
            token, raw = token_create(
                user=user, merchant_id=account.merchant_id, name=name, scopes=scopes, expires_in_days=days
            )
        except TokenInvalid as exc:
            raise CommandError(str(exc)) from None
        except LookupError:
            raise CommandError(f"{username} is not a member of account {account.merchant_id}.") from None
        out = self.stdout.write
        out(f"Token “{token.name}” ({token.shown_prefix}) for {username} in “{account.merchant_name}”.")
        out(f"  May: {', '.join(token.scopes)}. Expires {when(token.expires_at)}.")
        out("  Shown this once; only its fingerprint is kept. The token:")
        out(raw)

    def _list(self, *, username: str, **_):
        user = self._user(username)
        tokens = list(ApiToken.objects.filter(user=user).order_by("merchant_id", "-created_at"))
        if not tokens:
            self.stdout.write(f"{username} has no tokens.")
            return
        names = {a.merchant_id: a.merchant_name for a in account_directory().memberships_for(user)}
        now = timezone.now()
        for token in tokens:
            account = names.get(token.merchant_id, f"account {token.merchant_id} (no longer a member)")
            state = token.state(now)
            ended = {"revoked": token.revoked_at, "expired": token.expires_at}.get(state)
            self.stdout.write(
                f"kt_{token.prefix}  {state}{f' {when(ended)}' if ended else ''}  “{token.name}”  in {account}  "
                f"may {', '.join(token.scopes)}  expires {when(token.expires_at)}  "
                + (f"last used {when(token.last_used_at)}" if token.last_used_at else "never used")
            )

    def _revoke(self, *, prefix: str, **_):
        # The prefix as listed (kt_…, with or without the ellipsis), or the whole token pasted.
        bare = prefix.strip().removeprefix("kt_").split(".")[0].rstrip("…")
        token = ApiToken.objects.select_related("user").filter(prefix=bare).first() if bare else None
        if token is None:
            raise CommandError(f"No token starts with “{prefix}”. `api_token list USERNAME` shows them.")
        if token_revoke(token=token):
            self.stdout.write(
                f"Revoked “{token.name}” ({token.shown_prefix}) of {token.user.get_username()}."
            )
        else:
            self.stdout.write(f"“{token.name}” ({token.shown_prefix}) was already revoked.")
