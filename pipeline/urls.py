"""URL identity: the canonical form two fetches of the same article share."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMETERS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid", "smid", "spm")


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no default port, no fragment, no tracking parameters, sorted query."""
    parts = urlsplit(url.strip())
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(TRACKING_PARAMETERS)
    ]
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    rebuilt = urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))
    return canonicalize_url(rebuilt)


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same host or one is a subdomain of the other's."""
    first, second = (urlsplit(u).hostname or "" for u in (url, other))
    if not first or not second:
        return False
    return first == second or first.endswith("." + second) or second.endswith("." + first)


def choose_canonical(fetched_url: str, declared: str | None) -> str:
    """The page's declared canonical URL when it is http(s) on the same site, else the fetched URL."""
    if declared and declared.startswith(("http://", "https://")) and same_site(fetched_url, declared):
        return canonical_url(declared)
    return canonical_url(fetched_url)
