"""Which articles a feed carries: `all` (every relevant article), `topic:ID`, `story:N` or `watch:NAME`,
newest first; the same for `chipwatch feed` and the feeds `chipwatch serve` publishes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chipwatch.errors import QueryError
from chipwatch.feeds.atom import FeedInfo, feed
from chipwatch.queries import check_topic
from pipeline.dates import utc_now_iso
from storage.search import SearchQuery, rows_for_ids, search
from storage.stories import story_title
from storage.watches import get_watch, matched_ids

if TYPE_CHECKING:
    from sqlite_utils import Database

SPEC = re.compile(r"^(all|topic:[a-z0-9-]+|story:\d+|watch:[A-Za-z0-9._-]+)$")
DEFAULT_LIMIT = 50


def parse_spec(spec: str) -> tuple[str, str]:
    """("all", ""), ("topic", ID), ("story", N) or ("watch", NAME), or a one-line QueryError."""
    if not SPEC.match(spec or ""):
        raise QueryError(f"unknown feed {spec!r}: all, topic:ID, story:N or watch:NAME")
    kind, _, value = spec.partition(":")
    return kind, value


def feed_path(kind: str, value: str) -> str:
    """Where `chipwatch serve` publishes the feed."""
    return "/feeds/all.atom" if kind == "all" else f"/feeds/{kind}/{value}.atom"


def feed_rows(db: Database, kind: str, value: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """The feed's title and its articles, newest first."""
    if kind == "all":
        return "chipwatch — all coverage", search(db, SearchQuery(relevant=True, limit=limit))
    if kind == "topic":
        check_topic(value)
        return f"chipwatch — {value}", search(db, SearchQuery(topic=value, relevant=True, limit=limit))
    if kind == "story":
        title = story_title(db, int(value))
        if title is None:
            raise QueryError(f"no story #{value} (see `chipwatch stories`)")
        return f"chipwatch — story: {title}", search(db, SearchQuery(story=int(value), limit=limit))
    watch = get_watch(db, value)
    if watch is None:
        raise QueryError(f"no watch named {value!r} (see `chipwatch watch list`)")
    return f"chipwatch — watch {value}", watch_articles(db, watch["id"], limit)


def watch_articles(db: Database, watch_id: int, limit: int) -> list[dict[str, Any]]:
    """A watch's latest matches, newest published first (`watch show` and the watch's feed)."""
    rows = rows_for_ids(db, matched_ids(db, watch_id, limit))
    rows.sort(key=lambda r: (r["moment"] or "", r["id"]), reverse=True)
    return rows


def render_feed(db: Database, spec: str, limit: int = DEFAULT_LIMIT, public_url: str = "") -> bytes:
    kind, value = parse_spec(spec)
    title, rows = feed_rows(db, kind, value, limit)
    base = public_url.rstrip("/")
    self_url = base + feed_path(kind, value) if base else None
    return feed(
        FeedInfo(f"{kind}/{value}" if value else kind, title, self_url, base + "/" if base else None),
        rows,
        utc_now_iso(),
    )
