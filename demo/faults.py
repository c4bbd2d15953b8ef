"""The mirror's fault catalogue: what a hostile or broken site can do to a crawler, one switch per kind.

`chipwatch mirror` serves every fault at /faults/<kind> (feeds at /faults/<kind>/feed.xml point their
entries at pages that misbehave the same way); tests switch one on for any path with MirrorServer.add_fault().
Each fault is a Reply, or for the ones that misbehave on the wire (a reset, a drip, a page that never
ends) a Reply with a `wire` behaviour the request handler acts out.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from demo.render import FICTION_NOTICE


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    wire: str | None = None  # reset | drip | endless | hang | close
    delay: float = 0.0


def _page(title: str, text: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1><p>{text}</p><p>{FICTION_NOTICE}</p></article></body></html>"
    ).encode()


def _feed(base: str, links: list[str], title: str = "Fault feed") -> bytes:
    items = "".join(
        f"<item><title>{title} item {n}</title><link>{link}</link>"
        f"<pubDate>Tue, 09 Dec 2025 08:00:00 GMT</pubDate><description>Nvidia H200 chip item {n}</description></item>"
        for n, link in enumerate(links, 1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{base}/</link><description>{FICTION_NOTICE}</description>{items}</channel></rss>"
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    b"<link>http://127.0.0.1/never</link></item></channel></rss>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
    b"<link>/faults/ok/page.html</link><description>&xxe;</description></item></channel></rss>"
)


def gzip_bomb(unpacked_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A small gzip body that unpacks to unpacked_bytes of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(unpacked_bytes // len(chunk))]
    return b"".join(parts) + compressor.flush()


def fault_reply(kind: str, base: str, path: str) -> Reply | None:
    """The reply for a fault kind at path (None for an unknown kind)."""
    maker = FAULTS.get(kind)
    return maker(base, path) if maker else None


def _status(code: int, headers: dict[str, str] | None = None) -> Callable[[str, str], Reply]:
    return lambda base, path: Reply(code, _page(f"HTTP {code}", "An error page."), headers=headers or {})


def _redirect_loop(base: str, path: str) -> Reply:
    # Served for the path with or without ?loop (the query does not change the route): it redirects to
    # itself for ever.
    return Reply(302, b"", headers={"Location": path + "?loop"})


CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><noscript>Enable JavaScript and "
    b"cookies to continue</noscript><script>document.cookie='__jsl_clearance=1700000000.1|0|fiction';"
    b"location.reload();</script></body></html>"
)
LOGIN = _page(
    "Sign in", "Sign in to continue reading. <form action='/login' method='post'><input type='password'></form>"
)


FAULTS: dict[str, Callable[[str, str], Reply]] = {
    "ok": lambda base, path: Reply(200, _page("A fine page about the Nvidia H200", "Nothing wrong here. " * 20)),
    "not-found": _status(404),
    "gone": _status(410),
    "server-error": _status(500),
    "unavailable": _status(503, {"Retry-After": "1"}),
    "rate-limited": _status(429, {"Retry-After": "1"}),
    "rate-limited-no-header": _status(429),
    "rate-limited-long": _status(429, {"Retry-After": "86400"}),
    "redirect-loop": _redirect_loop,
    # What sites that defeat scrapers answer, and a source whose address moved for good.
    "challenge": lambda base, path: Reply(403, CHALLENGE),
    "login": lambda base, path: Reply(200, LOGIN),
    "moved": lambda base, path: Reply(301, b"", headers={"Location": base + "/pacific-wire/feed.xml"}),
    "redirect-offsite": lambda base, path: Reply(302, b"", headers={"Location": "http://offsite.invalid/page.html"}),
    "timeout": lambda base, path: Reply(200, _page("late", "too late"), wire="hang"),
    "reset": lambda base, path: Reply(200, _page("reset", "cut " * 5000), wire="reset"),
    "drip": lambda base, path: Reply(200, _page("drip", "slow " * 200), wire="drip"),
    "endless": lambda base, path: Reply(200, b"<html><body>", wire="endless"),
    "empty": lambda base, path: Reply(200, b""),
    "wrong-content-type": lambda base, path: Reply(200, _page("typed", "a page sent as an image"), "image/png"),
    "html-instead-of-feed": lambda base, path: Reply(200, _page("502 Bad Gateway", "The feed is unavailable.")),
    "truncated-xml": lambda base, path: Reply(
        200, _feed(base, [f"{base}/faults/ok/a.html"] * 3)[:150], "application/rss+xml"
    ),
    "xml-bomb": lambda base, path: Reply(200, BILLION_LAUGHS, "application/rss+xml"),
    "external-entity": lambda base, path: Reply(200, EXTERNAL_ENTITY, "application/rss+xml"),
    "gzip-bomb": lambda base, path: Reply(200, gzip_bomb(), headers={"Content-Encoding": "gzip"}),
    "truncated-gzip": lambda base, path: Reply(
        200, gzip.compress(_page("t", "truncated " * 500))[:300], headers={"Content-Encoding": "gzip"}
    ),
    "huge-page": lambda base, path: Reply(
        200, b"<html><body><p>" + b"chip " * (4 * 1024 * 1024) + b"</p></body></html>"
    ),
    "huge-feed": lambda base, path: Reply(
        200, _feed(base, [f"{base}/faults/ok/item-{n}.html" for n in range(10_000)]), "application/rss+xml"
    ),
    "invalid-utf8": lambda base, path: Reply(
        200,
        _page("Nvidia H200 and broken bytes", "Export rules for the H200 chip. " * 20).replace(b"rules", b"r\xffu\xc3"),
    ),
    "nul-bytes": lambda base, path: Reply(200, _page("Nvidia H200 with NUL", "text with \x00 NUL \x00 bytes")),
    "api-error": lambda base, path: Reply(
        200, b'{"errors": {"conditions": "is not a valid filter"}, "status": 400}', "application/json"
    ),
    "sitemap-self-index": lambda base, path: Reply(
        200,
        (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}{path}</loc></sitemap></sitemapindex>"
        ).encode(),
        "application/xml",
    ),
}
