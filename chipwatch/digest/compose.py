"""Choosing and arranging a reader's items: by topic, inside a topic by story, top stories first."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chipwatch.config import TOPIC_IDS, Reader

TOPIC_LABELS = {
    "export-controls": "Export controls",
    "revenue-share": "Revenue share",
    "legislation": "Congress and legislation",
    "china-response": "China's response",
    "china-chips": "China's own chips",
    "market": "Market",
    "enforcement": "Enforcement",
    "industry": "Industry positions",
}
LANG_LABELS = {"en": "English", "zh-Hans": "中文（简体）", "zh-Hant": "中文（繁體）"}
SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
# Characters that can make scraped text lie about itself: bidi overrides, zero-width joiners, BOMs.
INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\x00-\x08\x0b\x0c\x0e-\x1f]")
TOP_STORIES = 5
SNIPPET_CHARS = 320


@dataclass
class Item:
    id: int
    title: str
    url: str | None  # None when the stored URL is not http(s)
    outlet: str
    date: str
    lang: str
    snippet: str
    topics: list[str]
    copies: int
    follow_up_to: str | None
    story_id: int | None


@dataclass
class StoryGroup:
    story_id: int | None
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class TopicSection:
    id: str
    label: str
    stories: list[StoryGroup]
    more: int  # items over the per-topic cap, not shown


@dataclass
class WatchSection:
    """A daily watch's matches, shown in its reader's digest under "Your watches"."""

    name: str
    items: list[Item]
    more: int
    more_at: str | None


def watch_sections(messages: list[dict[str, Any]]) -> list[WatchSection]:
    """The daily watches' pending messages for a reader, as digest sections (one per watch, merged)."""
    by_watch: dict[str, WatchSection] = {}
    for message in messages:
        body = message["payload"]
        section = by_watch.setdefault(body["watch"], WatchSection(clean(body["watch"]), [], 0, body.get("more_at")))
        section.more += body.get("more", 0)
        for entry in body["items"]:
            section.items.append(
                Item(
                    id=entry["id"],
                    title=clean(entry["title"]) or "(untitled)",
                    url=safe_url(entry["url"]),
                    outlet=clean(entry["outlet"]),
                    date=(entry.get("published_at") or "")[:10],
                    lang=LANG_LABELS.get(entry.get("lang") or "", entry.get("lang") or "?"),
                    snippet=clean(entry.get("snippet")),
                    topics=list(entry.get("topics") or []),
                    copies=0,
                    follow_up_to=None,
                    story_id=entry.get("story_id"),
                )
            )
    return list(by_watch.values())


@dataclass
class Digest:
    reader: Reader
    day: str
    subject: str
    items: int
    stories: int
    top_stories: list[tuple[str, int]]  # (story title, new items)
    sections: list[TopicSection]
    covers_from: str
    covers_to: str
    attention: list[tuple[str, str, str]] = field(default_factory=list)  # (source, status, why) to look at
    watches: list[WatchSection] = field(default_factory=list)  # "Your watches": daily watches' matches
    watch_deliveries: list[int] = field(default_factory=list)  # marked sent when this digest is


def clean(text: str | None) -> str:
    return " ".join(INVISIBLE.sub("", text or "").split())


def safe_url(url: str | None) -> str | None:
    """Only http(s) links reach a digest."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else None


def snippet(text: str | None, summary: str | None) -> str:
    """Two sentences of the article (or its summary), at most SNIPPET_CHARS characters."""
    source = clean(text or summary)
    sentences = [s for s in SENTENCE_END.split(source) if s]
    result = "".join(s if s[-1] in "。！？" else s + " " for s in sentences[:2]).strip()
    return result if len(result) <= SNIPPET_CHARS else result[: SNIPPET_CHARS - 1].rstrip() + "…"


def compose(
    reader: Reader,
    day: str,
    rows: list[dict[str, Any]],
    first_articles: dict[int, dict[str, Any]],
    story_titles: dict[int, str],
    zone: str,
    max_per_topic: int,
    covers: tuple[str, str],
) -> Digest:
    local = ZoneInfo(zone)
    subscribed = [t for t in TOPIC_IDS if t in reader.topics]
    by_topic: dict[str, list[Item]] = defaultdict(list)
    shown_ids: set[int] = set()
    for row in rows:
        topics = [t for t in row["topics"] if t in subscribed]
        if not topics:
            continue
        first = first_articles.get(row["story_id"]) if row["story_id"] else None
        follow_up_to = clean(first["title"]) if row["is_follow_up"] and first and first["id"] != row["id"] else None
        if row.get("published_precision") in ("day", "month") and row.get("published_date"):
            date = row["published_date"]  # the day as the page states it, never shifted by a zone
        else:
            moment = row["published_at"] or row["first_seen_at"]
            date = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(local).strftime("%Y-%m-%d %H:%M")
        item = Item(
            id=row["id"],
            title=clean(row["title"]) or "(untitled)",
            url=safe_url(row["url"]),
            outlet=clean(row["source"]),
            date=date,
            lang=LANG_LABELS.get(row["lang"], row["lang"] or "?"),
            snippet=snippet(row["text"], row["summary"]),
            topics=topics,
            copies=row["copies"],
            follow_up_to=follow_up_to,
            story_id=row["story_id"],
        )
        by_topic[topics[0]].append(item)  # each item once, under its main topic
        shown_ids.add(row["id"])
    sections = []
    story_counts: Counter[int] = Counter()
    top_titles: dict[int, str] = {}
    for topic in subscribed:
        items = by_topic.get(topic, [])
        if not items:
            continue
        groups: dict[Any, StoryGroup] = {}
        for item in items:
            key = item.story_id if item.story_id is not None else f"single-{item.id}"
            if key not in groups:
                title = item.title
                if item.story_id is not None and item.story_id in story_titles:
                    title = clean(story_titles[item.story_id]) or item.title
                groups[key] = StoryGroup(item.story_id, title)
            groups[key].items.append(item)
        ordered = sorted(groups.values(), key=lambda g: -len(g.items))
        shown, kept = 0, []
        for group in ordered:
            room = max_per_topic - shown
            if room <= 0:
                break
            kept.append(StoryGroup(group.story_id, group.title, group.items[:room]))
            shown += len(kept[-1].items)
        sections.append(TopicSection(topic, TOPIC_LABELS[topic], kept, len(items) - shown))
        for item in items:
            if item.story_id is not None:
                story_counts[item.story_id] += 1
                top_titles[item.story_id] = clean(story_titles.get(item.story_id) or item.title)
    total = len(shown_ids)
    stories = len({i.story_id if i.story_id is not None else f"s{i.id}" for t in by_topic.values() for i in t})
    top = [(top_titles[s], n) for s, n in story_counts.most_common(TOP_STORIES)]
    if total:
        items_word = "item" if total == 1 else "items"
        stories_word = "story" if stories == 1 else "stories"
        subject = f"chipwatch — {day}: {total} new {items_word} in {stories} {stories_word}"
    else:
        subject = f"chipwatch — {day}: nothing new"
    return Digest(reader, day, subject, total, stories, top, sections, *covers)


def shrink(digest: Digest) -> Digest | None:
    """The same digest with one item fewer in its longest topic; None when nothing can go."""
    longest = max(digest.sections, key=lambda s: sum(len(g.items) for g in s.stories), default=None)
    if longest is None or sum(len(g.items) for g in longest.stories) <= 1:
        return None
    for group in reversed(longest.stories):
        if group.items:
            group.items.pop()
            longest.more += 1
            if not group.items:
                longest.stories.remove(group)
            return digest
    return None
