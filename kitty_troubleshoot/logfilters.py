"""Logging filters (stdlib only: they are loaded while logging is configured, before any app)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# Path segments that name an API's version, not anybody: v1, v3, v2.1, 2024-01 (Shopify).
_VERSION_SEGMENT = re.compile(r"v\d+(\.\d+)?|\d{4}-\d{2}")


def path_for_log(path: str) -> str:
    """``path`` without its query and with every identifier in it replaced by ``{id}``.

    Platforms put order numbers (eBay, Amazon, Etsy, BigCommerce), shop ids and
    store hashes in their paths; each of them has a digit, the fixed words of an
    API path have none (versions apart). ``/sell/fulfillment/v1/order/12-34567-89012``
    is logged as ``/sell/fulfillment/v1/order/{id}``.
    """
    segments = path.split("?", 1)[0].split("/")
    return "/".join(
        "{id}" if any(ch.isdigit() for ch in part) and not _VERSION_SEGMENT.fullmatch(part) else part
        for part in segments
    )


def _path_only(value):
    # httpx passes its URL object; anything else that looks like a URL is a string.
    if hasattr(value, "scheme") and hasattr(value, "path") and hasattr(value, "query"):
        return path_for_log(value.path)
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return path_for_log(urlsplit(value).path)
    return value


class PathOnlyURLs(logging.Filter):
    """Log a URL as its path with its identifiers left out: a store's host name, a query
    (``search=<order number>``, sometimes keys) and an order number in the path are the
    merchant's, not the log's (see apps/platforms/http.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        elif isinstance(record.msg, str) and record.msg.startswith(("http://", "https://")):
            record.msg = _path_only(record.msg)
        return True
