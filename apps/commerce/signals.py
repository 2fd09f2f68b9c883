"""What the commerce app tells other apps about."""

from django.dispatch import Signal

# Sent after a sync that imported at least one order (even one that stopped on an
# error afterwards), with ``plugin`` and ``run`` (its SyncRun). Receivers must not
# raise: the sync has already written what it imported.
orders_imported = Signal()
