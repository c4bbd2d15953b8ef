"""Sitemaps to entries: a urlset (with the Google News `news:` extension) or a sitemap index of children.

Parsed like feeds: no entity expansion, no network, any charset; gzip-compressed sitemaps are unpacked
up to a size limit.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field

from chipwatch.errors import FeedError
from spiders.entries import Entry
from spiders.safe_xml import child as _child
from spiders.safe_xml import local_name as _local
from spiders.safe_xml import parse_xml
from spiders.safe_xml import text as _text

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class ChildSitemap:
    url: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    entries: list[Entry] = field(default_factory=list)
    children: list[ChildSitemap] = field(default_factory=list)  # set for a sitemap index
    problem: str | None = None  # set when the document was malformed and only partly read

    @property
    def is_index(self) -> bool:
        return bool(self.children)


def unpack(body: bytes, max_bytes: int) -> bytes:
    """A .xml.gz sitemap's XML; FeedError when it is broken or would unpack beyond max_bytes."""
    if not body.startswith(GZIP_MAGIC):
        return body
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(f"broken gzip sitemap: {error}") from None
    if len(data) > max_bytes:
        raise FeedError(f"gzip sitemap unpacks to more than {max_bytes} bytes")
    return data


def parse_sitemap(body: bytes, content_type: str | None = None, max_bytes: int = 50 * 1024 * 1024) -> Sitemap:
    """Parse a sitemap or sitemap index; FeedError when the document is neither."""
    try:
        root, problem = parse_xml(unpack(body, max_bytes), content_type, expected="a sitemap")
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise FeedError(f"broken sitemap: {error}") from None
    kind = _local(root)
    sitemap = Sitemap(problem=problem)
    if kind == "sitemapindex":
        for node in root:
            if _local(node) == "sitemap":
                loc = _text(_child(node, "loc"))
                if loc:
                    sitemap.children.append(ChildSitemap(loc, _text(_child(node, "lastmod"))))
        return sitemap
    if kind != "urlset":
        raise FeedError(f"not a sitemap: the document's root element is <{kind}>")
    for node in root:
        if _local(node) != "url":
            continue
        loc = _text(_child(node, "loc"))
        if not loc:
            continue
        news = _child(node, "news")
        publication = _child(news, "publication")
        keywords = _text(_child(news, "keywords"))
        sitemap.entries.append(
            Entry(
                link=loc,
                title=_text(_child(news, "title")),
                published=_text(_child(news, "publication_date")) or _text(_child(node, "lastmod")),
                publisher=_text(_child(publication, "name")),
                lang=_text(_child(publication, "language")),
                keywords=[word.strip() for word in (keywords or "").split(",") if word.strip()],
            )
        )
    return sitemap
