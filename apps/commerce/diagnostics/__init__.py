"""The order-import checks behind "An Order Did Not Import": a dry run of the importer.

A diagnosis fetches the order from the platform once, judges it with the
importer's own ``import_verdict`` and the account as it is now, and each
step shows the rules it is about (``RULES_BY_CHECK``). So no step can pass
while its rule keeps the order out, and no check can disagree with the
importer. Registered into ``apps.checks`` at startup:
``accounts`` (who may check what, and the preview sandboxes), ``dry_run``
(one importer verdict per diagnosis task) and ``checks`` (the article's steps).
"""

from __future__ import annotations

from . import accounts, checks, imported_twice, order_import  # noqa: F401  (registering is importing)
from .dry_run import CHECK_OF_NOTIFICATION, CHECK_OF_RULE, INTERACTIVE_TIMEOUT

__all__ = ["CHECK_OF_NOTIFICATION", "CHECK_OF_RULE", "INTERACTIVE_TIMEOUT"]
