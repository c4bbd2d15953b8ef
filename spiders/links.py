"""Which links a source may follow, and where a search result really points."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from urllib.parse import parse_qs, urlsplit

# Second-level labels under which registries sell names (example.co.uk, gov.cn, com.cn).
SECOND_LEVEL = {"co", "com", "gov", "org", "net", "edu", "ac", "or", "ne", "go", "gob", "mil"}
EMBEDDED_URL = re.compile(rb"https?://[\x21-\x7e]+")
# Google News article ids of the older kind carry the publisher's URL inside (base64 of a small protobuf).
GOOGLE_ARTICLE_ID = re.compile(r"/articles/([A-Za-z0-9_-]{20,})")


def site_of(url_or_host: str) -> str:
    """The registrable site of a URL or host: news.example.co.uk -> example.co.uk, feeds.reuters.com ->
    reuters.com, www.mofcom.gov.cn -> mofcom.gov.cn; an IP address stays itself."""
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split(":")[0]
    host = (host or "").lower().strip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def allowed_sites(source_url: str, extra: tuple[str, ...]) -> set[str]:
    return {site_of(source_url), *(site_of(domain) for domain in extra if domain != "*")}


def link_allowed(url: str, sites: set[str]) -> bool:
    return site_of(url) in sites


def publisher_url(link: str) -> str | None:
    """The publisher's own URL hidden in a search feed's link, or None when the link does not carry it.

    Handles a `url=` parameter and Google News article ids that embed the URL; newer Google ids are opaque
    and return None.
    """
    parts = urlsplit(link)
    for key in ("url", "u"):
        values = parse_qs(parts.query).get(key)
        if values and values[0].startswith(("http://", "https://")):
            return values[0]
    match = GOOGLE_ARTICLE_ID.search(parts.path)
    if not match:
        return None
    encoded = match.group(1)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    found = EMBEDDED_URL.search(raw)
    return found.group().decode("ascii") if found else None


def is_search_redirect(link: str) -> bool:
    """A link that goes through the search engine rather than to the publisher."""
    host = (urlsplit(link).hostname or "").lower()
    return host == "news.google.com" or bool(GOOGLE_ARTICLE_ID.search(urlsplit(link).path))
