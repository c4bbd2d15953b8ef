"""RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed to entries, safely: no entity expansion, no network, any charset."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree

from chipwatch.errors import FeedError
from pipeline.encoding import decode_bytes
from spiders.entries import Entry
from spiders.safe_xml import child as _child
from spiders.safe_xml import children as _children
from spiders.safe_xml import local_name as _local
from spiders.safe_xml import parse_xml
from spiders.safe_xml import text as _text

MAX_SUMMARY_CHARS = 2000


FeedEntry = Entry


@dataclass
class Feed:
    title: str | None = None
    lang: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str | None = None  # set when the document was malformed and only partly read


def parse_feed(body: bytes, content_type: str | None = None) -> Feed:
    """Parse a feed; raises FeedError when the document is not an RSS, Atom or JSON feed."""
    if body.lstrip()[:1] == b"{":
        return _json_feed(body)
    root, problem = parse_xml(body, content_type)
    feed = _feed(root)
    feed.problem = problem
    return feed


def _feed(root: etree._Element) -> Feed:
    kind = etree.QName(root).localname.lower()
    if kind == "rss":
        channel = _child(root, "channel")
        if channel is None:
            raise FeedError("RSS feed without a <channel>")
        return _rss(channel, channel)
    if kind == "rdf":
        channel = _child(root, "channel")
        return _rss(channel if channel is not None else root, root)
    if kind == "feed":
        return _atom(root)
    raise FeedError(f"not a feed: the document's root element is <{kind}>")


def _first_text(element: etree._Element, *names: str) -> str | None:
    for name in names:
        value = _text(_child(element, name))
        if value:
            return value
    return None


def _plain(markup: str | None) -> str | None:
    """Feed summaries often carry escaped HTML; readers and the classifier want its text."""
    if not markup:
        return None
    if "<" in markup:
        from bs4 import BeautifulSoup  # imported with the first feed, not before the crawl's first request

        markup = BeautifulSoup(markup, "lxml").get_text(" ")
    text = " ".join(markup.split())
    return text[:MAX_SUMMARY_CHARS] or None


def _rss(channel: etree._Element, items_parent: etree._Element) -> Feed:
    feed = Feed(title=_first_text(channel, "title"), lang=_first_text(channel, "language"))
    for item in _children(items_parent, "item"):
        guid = _child(item, "guid")
        link = _first_text(item, "link")
        if not link and guid is not None and guid.get("isPermaLink", "true").lower() != "false":
            link = _text(guid)
        if not link:
            continue
        authors = [_text(node) for node in item if _local(node) in ("creator", "author")]
        feed.entries.append(
            FeedEntry(
                link=link,
                title=_plain(_first_text(item, "title")),
                published=_first_text(item, "pubdate", "date", "published", "updated"),
                summary=_plain(_first_raw(item, "description", "encoded", "summary")),
                authors=[author for author in authors if author],
                guid=_text(guid),
                publisher=_first_text(item, "source"),
            )
        )
    return feed


def _first_raw(element: etree._Element, *names: str) -> str | None:
    for name in names:
        child = _child(element, name)
        if child is not None and (child.text or len(child)):
            return child.text if not len(child) else etree.tostring(child, encoding="unicode", method="text")
    return None


def _atom(root: etree._Element) -> Feed:
    lang = root.get("{http://www.w3.org/XML/1998/namespace}lang")
    feed = Feed(title=_first_text(root, "title"), lang=lang)
    for entry in _children(root, "entry"):
        link = None
        for candidate in _children(entry, "link"):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate.get("href").strip()
                break
        if not link:
            continue
        authors = [_first_text(author, "name") for author in _children(entry, "author")]
        feed.entries.append(
            FeedEntry(
                link=link,
                title=_plain(_first_text(entry, "title")),
                published=_first_text(entry, "published", "issued", "updated"),
                summary=_plain(_first_raw(entry, "summary", "content")),
                authors=[author for author in authors if author],
                guid=_first_text(entry, "id"),
            )
        )
    return feed


def _json_feed(body: bytes) -> Feed:
    """JSON Feed 1.0/1.1 (jsonfeed.org)."""
    try:
        data = json.loads(decode_bytes(body, "application/json; charset=utf-8")[0])
    except ValueError as error:
        raise FeedError(f"not JSON: {error}") from None
    if not isinstance(data, dict) or "jsonfeed.org/version" not in str(data.get("version", "")):
        raise FeedError("not a feed: JSON without a jsonfeed.org version")
    feed = Feed(title=_json_text(data.get("title")), lang=_json_text(data.get("language")))
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = _json_text(item.get("url")) or _json_text(item.get("external_url"))
        if not link:
            continue
        people = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        authors = [_json_text(person.get("name")) for person in people if isinstance(person, dict)]
        summary = _json_text(item.get("summary")) or _plain(_json_text(item.get("content_html")))
        feed.entries.append(
            Entry(
                link=link,
                title=_plain(_json_text(item.get("title"))),
                published=_json_text(item.get("date_published")) or _json_text(item.get("date_modified")),
                summary=_plain(summary) or _json_text(item.get("content_text")),
                authors=[author for author in authors if author],
                guid=_json_text(item.get("id")),
                lang=_json_text(item.get("language")),
            )
        )
    return feed


def _json_text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
