"""Loading the demo network's manifest: outlets and articles, with every page's URL and bytes decided here."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

MANIFEST = Path(str(files("demo").joinpath("manifest.toml")))
DEFAULT_BASE = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    lang: str
    feed: str  # how crawlers find its articles: rss | atom | listing | sitemap | api | search
    chrome: str  # page template
    timezone: str
    date_style: str
    url_style: str  # dated | id | query
    encoding: str = "utf-8"
    declared_charset: str | None = "utf-8"
    charset_header: bool = True
    jsonld: bool = False
    opengraph: bool = False
    time_tag: bool = False
    feed_date_style: str = "rfc822"  # rfc822 | local (e.g. "2025-12-09 14:38:10", in the outlet's zone)
    tagline: str = ""
    # og:title ends with " | NAME" and no og:site_name says so: a name only its pages' shared pattern reveals.
    title_suffix: bool = False


@dataclass(frozen=True)
class Article:
    id: str
    outlet: str
    number: int
    title: str
    published: datetime
    lang: str
    relevant: bool
    topics: tuple[str, ...]
    story: str | None
    duplicate_of: str | None
    paragraphs: tuple[str, ...]
    byline: str | None
    path: str
    members_only: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)  # a Federal Register document's fields

    def setting(self, outlet: Outlet, name: str) -> Any:
        """A page setting: the article's own override, else its outlet's."""
        return self.overrides.get(name, getattr(outlet, name))


@dataclass(frozen=True)
class Network:
    outlets: dict[str, Outlet]
    articles: tuple[Article, ...]

    def by_path(self) -> dict[str, Article]:
        return {article.path: article for article in self.articles}

    def of_outlet(self, outlet_id: str) -> list[Article]:
        chosen = [a for a in self.articles if a.outlet == outlet_id]
        return sorted(chosen, key=lambda a: a.published, reverse=True)

    def truth(self, base: str = DEFAULT_BASE) -> list[dict[str, Any]]:
        """The manifest as tests and people read it: one row per article page that should be stored."""
        return [
            {
                "id": a.id,
                "url": base + a.path,
                "outlet": a.outlet,
                "title": a.title,
                "lang": a.lang,
                "published": a.published.isoformat(),
                "relevant": a.relevant,
                "topics": list(a.topics),
                "story": a.story,
                "duplicate_of": a.duplicate_of,
                "encoding": a.setting(self.outlets[a.outlet], "encoding"),
                "declared_charset": a.setting(self.outlets[a.outlet], "declared_charset"),
                "members_only": a.members_only,
            }
            for a in self.articles
        ]


OVERRIDABLE = {"encoding", "declared_charset", "charset_header", "jsonld", "opengraph", "time_tag", "date_style"}
# Traps real pages set for extractors, switched on per article (see render.py): html_lang (a region tag such
# as en-GB), meta_date = "compact" (ISO 8601's basic format) or "utc" (the moment in UTC while the page
# prints its local time), title_trap (entities and the site's name in
# og:title), widgets (a big recommendation and comment block, as portals have).
OVERRIDABLE |= {"html_lang", "meta_date", "title_trap", "widgets"}


def load_network(manifest: Path = MANIFEST) -> Network:
    data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    outlets = {entry["id"]: Outlet(**entry) for entry in data["outlet"]}
    raw = {entry["id"]: entry for entry in data["article"]}
    articles = []
    for number, entry in enumerate(data["article"], 1):
        outlet = outlets[entry["outlet"]]
        paragraphs = _paragraphs(entry, raw)
        published = datetime.fromisoformat(entry["published"])
        slug = entry.get("slug", entry["id"])
        path = _path(outlet, entry, slug, number, published)
        articles.append(
            Article(
                id=entry["id"],
                outlet=outlet.id,
                number=number,
                title=entry["title"],
                published=published,
                lang=entry.get("lang", outlet.lang),
                relevant=entry.get("relevant", True),
                topics=tuple(entry.get("topics", [])),
                story=entry.get("story"),
                duplicate_of=entry.get("copy_of"),
                paragraphs=paragraphs,
                byline=entry.get("byline"),
                path=path,
                members_only=entry.get("members_only", False),
                overrides={key: entry[key] for key in OVERRIDABLE if key in entry},
                document=dict(entry.get("document", {})),
            )
        )
    return Network(outlets, tuple(articles))


def _paragraphs(entry: dict[str, Any], raw: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    if "copy_of" in entry and "body" not in entry:
        # A syndicated copy: the wire text, trimmed and re-datelined the way carriers do.
        paragraphs = [p for p in (" ".join(p.split()) for p in raw[entry["copy_of"]]["body"].split("\n\n")) if p]
        if entry.get("drop_last"):
            paragraphs = paragraphs[:-1]
        if entry.get("dateline"):
            paragraphs[0] = f"{entry['dateline']} {paragraphs[0]}"
        paragraphs += entry.get("append", [])
        return tuple(paragraphs)
    return tuple(p for p in (" ".join(p.split()) for p in entry["body"].split("\n\n")) if p)


def _path(outlet: Outlet, entry: dict[str, Any], slug: str, number: int, published: datetime) -> str:
    # Outlets date their URLs in their own time, as they print the date.
    published = published.astimezone(ZoneInfo(outlet.timezone))
    if entry.get("members_only"):
        return f"/members/{outlet.id}/{slug}.html"
    if outlet.url_style == "dated":
        return f"/{outlet.id}/{published:%Y/%m/%d}/{slug}.html"
    if outlet.url_style == "id":
        return f"/{outlet.id}/news/{published:%Y%m}/{1000 + number}.shtml"
    return f"/{outlet.id}/article?id={1000 + number}"
