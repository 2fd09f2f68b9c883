"""Logging filters (stdlib only: they are loaded while logging is configured, before any app)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit


def _path_only(value):
    # httpx passes its URL object; anything else that looks like a URL is a string.
    if hasattr(value, "scheme") and hasattr(value, "path") and hasattr(value, "query"):
        return value.path
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return urlsplit(value).path
    return value


class PathOnlyURLs(logging.Filter):
    """Log a URL as its path: a store's host name and a query (``search=<order number>``,
    sometimes keys) are the merchant's, not the log's (see apps/platforms/http.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        elif isinstance(record.msg, str) and record.msg.startswith(("http://", "https://")):
            record.msg = _path_only(record.msg)
        return True
