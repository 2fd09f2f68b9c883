"""Django's makemessages, knowing the project's own gettext keywords (kitty_troubleshoot/said.py)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=said",
        "--keyword=said_n:1,2",
        "--keyword=said_p:1c,2",
    ]
