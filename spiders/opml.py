"""OPML, the file feed readers exchange subscriptions in: the feeds an OPML file lists (to import them as
`feed` sources), and an OPML file of the feed sources a sources file holds (to take them elsewhere)."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import formatdate

from chipwatch.errors import ConfigError, FeedError
from spiders.safe_xml import local_name, parse_xml
from spiders.sources import NAME_PATTERN, Source

FEED_KINDS = ("feed", "search")


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    lang: str | None = None


@dataclass(frozen=True)
class Skipped:
    title: str
    url: str
    why: str


def read_opml(data: bytes, where: str) -> tuple[list[OpmlFeed], list[Skipped]]:
    """Every outline with a feed address (xmlUrl), at any depth (folders nest them), in order; outlines
    whose address is not http(s) are skipped with the reason."""
    try:
        root, problem = parse_xml(data, None, expected="an OPML file")
    except FeedError as error:
        raise ConfigError(f"{where}: {error}") from None
    if local_name(root) != "opml" or problem:
        raise ConfigError(f"{where}: not an OPML file ({problem or f'its root element is <{local_name(root)}>'})")
    feeds, skipped = [], []
    for outline in root.iter():
        if local_name(outline) != "outline":
            continue
        attributes = {str(key).lower(): value for key, value in outline.attrib.items()}
        url = (attributes.get("xmlurl") or "").strip()
        if not url:
            continue  # a folder
        title = " ".join((attributes.get("title") or attributes.get("text") or "").split())
        if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
            skipped.append(Skipped(title, url, "not an http(s) address"))
            continue
        lang = (attributes.get("language") or "").strip() or None
        feeds.append(OpmlFeed(title or url, url, lang))
    return feeds, skipped


def same_feed(url: str) -> str:
    """A feed address compared loosely: scheme, host case, a trailing slash and a fragment do not count."""
    parts = urllib.parse.urlsplit(url.strip())
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/') or '/'}?{parts.query}"


def source_name(title: str, url: str, taken: set[str]) -> str:
    """A source name from the feed's title (else its host), unique among taken."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].strip("-")
    if len(base) < 3:
        host = (urllib.parse.urlsplit(url).hostname or "feed").lower().removeprefix("www.")
        base = re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:48] or "feed"
    name, number = base, 2
    while name in taken or not NAME_PATTERN.match(name):
        name = f"{base}-{number}"
        number += 1
    return name


def toml_entry(name: str, feed: OpmlFeed, schedule: str) -> str:
    """The [[source]] table for an imported feed, as text appended to a sources file."""
    lines = [
        "[[source]]",
        f"name = {_toml_string(name)}",
        'kind = "feed"',
        f"url = {_toml_string(feed.url)}",
    ]
    if feed.lang and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z]{2,4})?", feed.lang):
        lines.append(f"lang = {_toml_string(feed.lang)}")
    lines.append(f"schedule = {_toml_string(schedule)}")
    lines.append(f"verified = {_toml_string('imported from OPML; unverified: run `chipwatch sources check`')}")
    if feed.title and feed.title != feed.url:
        lines.insert(1, f"# {' '.join(feed.title.split())[:100]}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def write_opml(sources: list[Source], title: str = "chipwatch sources") -> bytes:
    """OPML 2.0 with one outline per feed source (feeds and news-search feeds; other kinds have no feed)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ET.SubElement(root, "body")
    for source in sources:
        if source.kind not in FEED_KINDS:
            continue
        attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": source.url}
        if source.lang:
            attributes["language"] = source.lang
        ET.SubElement(body, "outline", attributes)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
