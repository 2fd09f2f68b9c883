"""Reading a response the way a person reads the page."""

import re
from html import unescape


def text(html: str) -> str:
    """The words of an HTML page or fragment, tags dropped, entities decoded, spaces collapsed."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()
