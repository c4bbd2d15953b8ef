"""A site's name at the end of its headlines, found as the segment its pages share.

"Chip curbs widen | Foo Daily", "芯片新规出台_某某网": the extractor takes off names it recognises (the
page's og:site_name, words like News or 网); what it cannot recognise, the site's own pages reveal — the
same trailing segment on page after page is no part of any headline. storage/site_names.py counts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The separators sites put between headline and name: " | ", " - ", " – ", " — ", " · ", " » ", "_", "｜".
SEPARATOR = re.compile(r"\s+[|\-–—·»]\s+|\s*[_｜]\s*|\s*\|\s*")
MAX_NAME_CHARS = 40
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class TitleTail:
    head: str  # the headline without the segment
    name: str  # the segment, as a site's name would be (stripped)
    suffix: str  # the separator and the segment, exactly as they end the title


def title_tail(title: str | None) -> TitleTail | None:
    """The title's last segment after a separator, when it is short enough to be a site's name and the
    rest is longer; None otherwise."""
    if not title:
        return None
    separators = list(SEPARATOR.finditer(title))
    if not separators:
        return None
    last = separators[-1]
    head, name = title[: last.start()].rstrip(), title[last.end() :].strip()
    if not name or not head or len(name) > MAX_NAME_CHARS or len(name.split()) > MAX_NAME_WORDS:
        return None
    if len(head) <= len(name) or not any(char.isalnum() for char in name):
        return None
    return TitleTail(head, name, title[last.start() :])


def site_of(url: str | None) -> str | None:
    """The site a URL names: its host (and port, when it has one), lowercase, without www."""
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host
