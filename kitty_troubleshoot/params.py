"""Reading what a request brings: integers, return addresses, JSON bodies, signatures.

Every view reads untrusted input through these, so garbage (a superscript
"²" for a page number, "help" for a return address, ten thousand nested
arrays, a full-width digit in an HMAC) gets the view's ordinary answer
instead of an exception. Nothing here imports an app: every layer may use it.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.utils.http import url_has_allowed_host_and_scheme

from .said import said

# Longer than any id or page number we hand out; int() of a huge string costs time.
_MAX_INT_DIGITS = 18


def int_param(
    value: object, *, default: int | None = None, minimum: int | None = None, maximum: int | None = None
):
    """``value`` as an int when it is a plain run of decimal digits within the bounds, else ``default``.

    Any script's decimal digits count ("١٢" is 12, as int() reads it); signs,
    spaces, superscripts ("²"), fractions and over-long strings do not.
    """
    if not isinstance(value, str) or not value or len(value) > _MAX_INT_DIGITS or not value.isdecimal():
        return default
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return default
    return number


def safe_next(request, value: object, default: str = "/help/") -> str:
    """Where to send the browser back to: ``value`` when it is a path or URL on this site, else ``default``.

    A bare word ("help") is refused rather than taken for a relative path
    (``redirect`` would read it as a URL name); an ``http://`` address is
    refused when the request itself came over HTTPS.
    """
    if not isinstance(value, str) or not value.startswith(("/", "https://", "http://")):
        return default
    if url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def same_secret(received: object, expected: str) -> bool:
    """Constant-time comparison of a signature or token someone sent with the one we expect.

    Compared as UTF-8 bytes: ``hmac.compare_digest`` refuses non-ASCII text
    with a TypeError, and a forged HMAC may well contain some.
    """
    if not isinstance(received, str) or not received:
        return False
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class BodyRefused(ValueError):
    """A request body that is not JSON we take; ``str()`` says why, in words fit for the sender."""


# Enough for any payload a platform posts to us (a few keys and strings).
JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 20


def json_body(body: bytes, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Parse a JSON request body of at most ``max_bytes`` nested at most ``max_depth`` deep.

    The depth is measured before parsing, so thousands of nested arrays are
    refused in words instead of exhausting the parser's recursion.
    """
    if len(body) > max_bytes:
        raise BodyRefused(said("The body is larger than %(limit)s bytes.", limit=max_bytes))
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                raise BodyRefused(
                    said("The JSON is nested more than %(limit)s levels deep.", limit=max_depth)
                )
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    try:
        return json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise BodyRefused(said("Expected JSON.")) from None
