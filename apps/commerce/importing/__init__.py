"""Importing orders: ``rules`` decides, ``sync`` fetches and writes, ``records`` notes what happened.

The names most callers need are importable from here as before.
"""

from .records import (
    notifications_record,
    notifications_resolve,
    plugin_authorization_record,
    plugin_rate_limit_record,
)
from .rules import (
    NOT_FETCHED,
    AccountState,
    ImportVerdict,
    RuleResult,
    RuleStatus,
    catalog_sku_map,
    import_verdict,
    order_unreadable,
    rule_authorized,
    rule_buyer_complete,
    rule_exactly_one_channel,
    rule_import_orders_on,
    rule_importable_state,
    rule_not_rate_limited,
    rule_placed_after_import_enabled,
    rule_skus_in_catalog,
)
from .sync import SYNC_LOOKBACK, plugin_sync, scheduled_sync_since

__all__ = [
    "NOT_FETCHED",
    "SYNC_LOOKBACK",
    "scheduled_sync_since",
    "AccountState",
    "ImportVerdict",
    "RuleResult",
    "RuleStatus",
    "catalog_sku_map",
    "import_verdict",
    "notifications_record",
    "notifications_resolve",
    "order_unreadable",
    "plugin_authorization_record",
    "plugin_rate_limit_record",
    "plugin_sync",
    "rule_authorized",
    "rule_buyer_complete",
    "rule_exactly_one_channel",
    "rule_import_orders_on",
    "rule_importable_state",
    "rule_not_rate_limited",
    "rule_placed_after_import_enabled",
    "rule_skus_in_catalog",
]
