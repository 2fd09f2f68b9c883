"""Checks registered by stable key, looked up by the help pages and the task.

``apps.checks`` knows nothing about orders: apps that own the data register
their checks here (``apps.commerce.diagnostics``) when Django starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import AccountDirectory, Check

_REGISTRY: dict[str, type[Check]] = {}


def register(check_class: type[Check]) -> type[Check]:
    """Class decorator: make a check available under its ``key``."""
    key = check_class.key
    existing = _REGISTRY.get(key)
    if existing is not None and existing is not check_class:
        raise ValueError(f"Two checks claim the key {key!r}: {existing!r} and {check_class!r}.")
    _REGISTRY[key] = check_class
    return check_class


def get_check(key: str) -> type[Check] | None:
    return _REGISTRY.get(key)


def check_catalog() -> list[type[Check]]:
    """Every registered check, in the order of the steps they were written for."""
    return sorted(_REGISTRY.values(), key=lambda c: (c.article, c.step or 0, c.title))


def check_choices() -> list[tuple[str, str]]:
    """Choices for the step block's check field, read when the editor opens: each check by its title.

    The chooser (``apps.help.widgets.CheckChooser``) shows the rest: what it
    looks at, where it belongs, and its fixes.
    """
    return [(check.key, check.title) for check in check_catalog()]


_directory: AccountDirectory | None = None


def set_account_directory(directory: AccountDirectory) -> None:
    """Called once by the app that owns merchant accounts (``apps.commerce``)."""
    global _directory
    _directory = directory


def account_directory() -> AccountDirectory:
    if _directory is None:
        raise RuntimeError("No account directory is registered: is apps.commerce installed?")
    return _directory
