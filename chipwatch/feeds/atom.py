"""An Atom 1.0 feed (RFC 4287) of articles: stable tag: ids, updated times, links to the originals, a
summary with outlet and topics. Built as an XML tree, so whatever a title holds stays text."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chipwatch import __version__
from chipwatch.digest.text import safe_url

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The tag: URI authority and date (RFC 4151) of every id chipwatch mints; fixed, so ids never change.
TAG = "tag:chipwatch,2025:"
# Characters XML 1.0 cannot carry (and bidi overrides, which would make a title lie about itself).
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
SUMMARY_CHARS = 400

ET.register_namespace("", ATOM)


@dataclass(frozen=True)
class FeedInfo:
    key: str  # all, topic/export-controls, story/3, watch/h200 - part of the feed's id
    title: str
    self_url: str | None = None  # where the feed is served, when known
    html_url: str | None = None


def entry_id(canonical_url: str) -> str:
    """The same for an article wherever and whenever it appears (it does not depend on database ids)."""
    return f"{TAG}article:{hashlib.sha256(canonical_url.encode('utf-8')).hexdigest()[:24]}"


def _text(value: object) -> str:
    return " ".join(NOT_XML.sub("", str(value or "")).split())


def _stamp(value: str | None) -> str | None:
    """An RFC 3339 date-time (Atom's date construct) from a stored UTC time or day."""
    if not value:
        return None
    if len(value) == 10:
        return value + "T00:00:00Z"
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def feed(info: FeedInfo, rows: Iterable[dict[str, Any]], generated_at: str) -> bytes:
    """The feed document (UTF-8 bytes) of these articles, newest first as given."""
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "id", f"{TAG}feed:{info.key}")
    _sub(root, "title", _text(info.title), type="text")
    entries = [_entry(row) for row in rows]
    updated = max((stamp for _, stamp in entries), default=None) or generated_at
    _sub(root, "updated", updated)
    author = _sub(root, "author")
    _sub(author, "name", "chipwatch")
    _sub(root, "generator", "chipwatch", version=__version__)
    if info.self_url:
        _sub(root, "link", rel="self", type="application/atom+xml", href=info.self_url)
    if info.html_url:
        _sub(root, "link", rel="alternate", type="text/html", href=info.html_url)
    for entry, _ in entries:
        root.append(entry)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _entry(row: dict[str, Any]) -> tuple[ET.Element, str]:
    entry = ET.Element(f"{{{ATOM}}}entry")
    if row.get("lang"):
        entry.set(XML_LANG, str(row["lang"]))
    _sub(entry, "id", entry_id(row["url"]))
    _sub(entry, "title", _text(row.get("title")) or "(untitled)", type="text")
    published = _stamp(row.get("published_at"))
    updated = _stamp(row.get("updated_at")) or published or _stamp(row.get("first_seen_at")) or "1970-01-01T00:00:00Z"
    updated = max(updated, published or updated)
    _sub(entry, "updated", updated)
    if published:
        _sub(entry, "published", published)
    link = safe_url(row.get("url"))
    if link:
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
    outlet = _text(row.get("publisher") or row.get("source"))
    if outlet:
        author = _sub(entry, "author")
        _sub(author, "name", outlet)
    topics = [topic["id"] if isinstance(topic, dict) else str(topic) for topic in row.get("topics", [])]
    for topic in topics:
        _sub(entry, "category", term=topic, scheme=f"{TAG}topic", label=topic)
    excerpt = _text(row.get("excerpt") or row.get("summary"))
    if len(excerpt) > SUMMARY_CHARS:
        excerpt = excerpt[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    head = " · ".join(part for part in (outlet, ", ".join(topics)) if part)
    _sub(entry, "summary", f"{head} — {excerpt}" if head and excerpt else head or excerpt or "", type="text")
    return entry, updated
