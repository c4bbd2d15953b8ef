"""Choosing and arranging a reader's items: each story once, under its main topic, its articles in time
order (the original first); top stories first, with what is new in each; a week of coverage by topic."""

from __future__ import annotations

import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chipwatch.config import TOPIC_IDS, Reader
from chipwatch.digest.text import LANG_LABELS, TOPIC_LABELS, clean, gloss, lead, reads, safe_url, snippet

__all__ = ["LANG_LABELS", "TOPIC_LABELS", "Digest", "clean", "compose", "safe_url", "shrink", "watch_sections"]

TOP_STORIES = 5
MORE_LISTED = 25  # items over a topic's cap still listed, one compact line each
CHART_DAYS = 7
SHADES = ("#ffffff", "#dce9f5", "#b3cde6", "#7fa9d3", "#4a82bd", "#1f5a96")


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
    follow_up: bool
    story_id: int | None
    moment: str = ""
    gloss: str | None = None  # an English line of names and topics, for a reader who does not read lang


@dataclass
class StoryGroup:
    story_id: int | None
    title: str
    items: list[Item] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # the story's other topics
    url: str | None = None  # its page in the reading room, when there is one
    follows: str | None = None  # the story's original, when it is not among today's items


@dataclass
class TopicSection:
    id: str
    label: str
    stories: list[StoryGroup]
    more: int  # items over the per-topic cap, not shown in full
    more_items: list[Item] = field(default_factory=list)  # the first of them, one line each
    more_url: str | None = None  # all of them in the reading room


@dataclass
class TopStory:
    title: str
    url: str | None
    count: int
    lead: str


@dataclass
class ChartRow:
    label: str
    cells: list[tuple[int, str]]  # (articles, shade) per day


@dataclass
class WatchSection:
    """A daily watch's matches, shown in its reader's digest under "Your watches"."""

    name: str
    items: list[Item]
    more: int
    more_at: str | None


@dataclass
class DatedDocument:
    """A Federal Register document by the date a reader must act on: it takes effect, or comments close."""

    title: str
    url: str | None
    number: str
    doc_type: str
    citation: str | None
    date: str


@dataclass
class RulesSection:
    """ "Rules and lists", shown first: what changed on the screening lists, and the rules' dates ahead."""

    changes: list[Item] = field(default_factory=list)  # list-change items, one per list and citation
    effective: list[DatedDocument] = field(default_factory=list)  # taking effect this week
    closing: list[DatedDocument] = field(default_factory=list)  # comment periods closing soon

    def __bool__(self) -> bool:
        return bool(self.changes or self.effective or self.closing)


@dataclass
class Digest:
    reader: Reader
    day: str
    subject: str
    items: int
    stories: int
    top_stories: list[TopStory]
    sections: list[TopicSection]
    covers_from: str
    covers_to: str
    attention: list[tuple[str, str, str]] = field(default_factory=list)  # (source, status, why) to look at
    watches: list[WatchSection] = field(default_factory=list)  # "Your watches": daily watches' matches
    watch_deliveries: list[int] = field(default_factory=list)  # marked sent when this digest is
    chart_days: list[str] = field(default_factory=list)
    chart: list[ChartRow] = field(default_factory=list)
    rules: RulesSection = field(default_factory=RulesSection)


@dataclass(frozen=True)
class Context:
    """What compose needs beside the rows: the stories' first articles and titles, entities, coverage."""

    first_articles: dict[int, dict[str, Any]]
    story_titles: dict[int, str]
    zone: str
    max_per_topic: int
    covers: tuple[str, str]
    public_url: str = ""
    entities: dict[int, list[str]] = field(default_factory=dict)
    coverage: list[tuple[str, str, int]] = field(default_factory=list)  # (day, main topic, articles)
    list_items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # list-change rows: their changes
    effective: list[dict[str, Any]] = field(default_factory=list)  # documents taking effect this week
    closing: list[dict[str, Any]] = field(default_factory=list)  # documents whose comments close soon


def _item(row: dict[str, Any], topics: list[str], reader: Reader, context: Context) -> Item:
    if row.get("published_precision") in ("day", "month") and row.get("published_date"):
        shown = row["published_date"]  # the day as the page states it, never shifted by a zone
    else:
        moment = row["published_at"] or row["first_seen_at"]
        local = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(ZoneInfo(context.zone))
        shown = local.strftime("%Y-%m-%d %H:%M")
    english = None
    if not reads(reader.languages, row["lang"]):
        english = gloss(context.entities.get(row["id"], []), topics) or None
    return Item(
        id=row["id"],
        title=clean(row["title"]) or "(untitled)",
        url=safe_url(row["url"]),
        outlet=clean(row["source"]),
        date=shown,
        lang=LANG_LABELS.get(row["lang"], row["lang"] or "?"),
        snippet=snippet(row["text"], row["summary"]),
        topics=topics,
        copies=row["copies"],
        follow_up=bool(row["is_follow_up"]),
        story_id=row["story_id"],
        moment=row["published_at"] or row["first_seen_at"] or "",
        gloss=english,
    )


def _groups(items: list[Item], context: Context) -> list[StoryGroup]:
    """One group per story (an article in none is its own), articles in time order, the original first."""
    by_story: dict[Any, list[Item]] = {}
    for item in items:
        by_story.setdefault(item.story_id if item.story_id is not None else f"single-{item.id}", []).append(item)
    groups = []
    for key, members in by_story.items():
        members.sort(key=lambda item: (item.moment, item.id))
        story_id = key if isinstance(key, int) else None
        first = context.first_articles.get(story_id) if story_id is not None else None
        if first is not None:
            members.sort(key=lambda item: item.id != first["id"])  # the original first (a stable sort)
        title = members[0].title
        if story_id is not None and context.story_titles.get(story_id):
            title = clean(context.story_titles[story_id]) or title
        follows = None
        if first is not None and all(item.id != first["id"] for item in members):
            follows = f"{clean(first['title'])} ({clean(first['source'])}, {str(first['moment'])[:10]})"
        url = f"{context.public_url.rstrip('/')}/stories/{story_id}" if story_id and context.public_url else None
        groups.append(StoryGroup(story_id, title, members, url=url, follows=follows))
    return groups


def _main_topic(group: StoryGroup, subscribed: list[str]) -> tuple[str, list[str]]:
    """The topic a story is shown under (its articles' most common main topic) and its other topics."""
    counts = Counter(item.topics[0] for item in group.items)
    main = min(counts, key=lambda topic: (-counts[topic], subscribed.index(topic)))
    others = sorted({t for item in group.items for t in item.topics} - {main}, key=subscribed.index)
    return main, others


def compose(reader: Reader, day: str, rows: list[dict[str, Any]], context: Context) -> Digest:
    subscribed = [t for t in TOPIC_IDS if t in reader.topics]
    items, changes = [], []
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        topics = [t for t in row["topics"] if t in subscribed]
        if topics:
            # A list's changes are shown once, under "Rules and lists", not again under their topic.
            item = _item(row, topics, reader, context)
            if row["id"] in context.list_items:
                item.snippet = _named(context.list_items[row["id"]])
                # Its stored URL downloads the whole list: link to the item in the reading room instead.
                item.url = f"{context.public_url.rstrip('/')}/articles/{item.id}" if context.public_url else None
                changes.append(item)
            else:
                items.append(item)
    groups = _groups(items, context)
    by_topic: dict[str, list[StoryGroup]] = {}
    for group in groups:
        main, group.tags = _main_topic(group, subscribed)
        by_topic.setdefault(main, []).append(group)
    sections = [_section(topic, by_topic[topic], context) for topic in subscribed if topic in by_topic]
    top = _top_stories(groups, by_id)
    total = len(items) + len(changes)
    # A list change that joined no story of today's is a story of its own, as a lone article is.
    grouped = {group.story_id for group in groups if group.story_id is not None}
    stories = len(groups) + len({c.story_id if c.story_id else f"single-{c.id}" for c in changes} - grouped)
    if total:
        items_word = "item" if total == 1 else "items"
        stories_word = "story" if stories == 1 else "stories"
        subject = f"chipwatch — {day}: {total} new {items_word} in {stories} {stories_word}"
    else:
        subject = f"chipwatch — {day}: nothing new"
    digest = Digest(reader, day, subject, total, stories, top, sections, *context.covers)
    digest.chart_days, digest.chart = _chart(day, context.coverage, subscribed)
    digest.rules = RulesSection(
        sorted(changes, key=lambda item: item.id), _dated(context.effective, "effective_on"),
        _dated(context.closing, "comments_close_on"),
    )  # fmt: skip
    return digest


def _named(changes: list[dict[str, Any]], shown: int = 8) -> str:
    """The parties a list change item is about, in both scripts, with their countries: what a compliance
    reader scans for (the item's own text says the rest)."""
    names = []
    for change in changes[:shown]:
        name = change["name"]
        if change.get("original_name") and change["original_name"] != name:
            name += f" ({change['original_name']})"
        if change.get("countries"):
            name += f" [{', '.join(change['countries'])}]"
        names.append(("removed: " if change["kind"] == "removed" else "") + name)
    more = f"; and {len(changes) - shown} more" if len(changes) > shown else ""
    return "; ".join(names) + more


def _dated(rows: list[dict[str, Any]], column: str) -> list[DatedDocument]:
    return [
        DatedDocument(
            clean(row["title"]) or row["document_number"],
            safe_url(row["url"]),
            row["document_number"],
            row["doc_type"] or "document",
            row["citation"],
            row[column],
        )
        for row in rows
    ]


def _section(topic: str, groups: list[StoryGroup], context: Context) -> TopicSection:
    ordered = sorted(groups, key=lambda g: (-len(g.items), -max(item.id for item in g.items)))
    room, kept, rest = context.max_per_topic, [], []
    for group in ordered:
        shown = group.items[: max(0, room)]
        rest.extend(group.items[len(shown) :])
        room -= len(shown)
        if shown:
            kept.append(StoryGroup(group.story_id, group.title, shown, group.tags, group.url, group.follows))
    more_url = None
    if context.public_url:
        query = urllib.parse.urlencode({"topic": topic, "stored_since": context.covers[0][:10]})
        more_url = f"{context.public_url.rstrip('/')}/find?{query}"
    return TopicSection(topic, TOPIC_LABELS[topic], kept, len(rest), rest[:MORE_LISTED], more_url)


def _top_stories(groups: list[StoryGroup], rows: dict[int, dict[str, Any]]) -> list[TopStory]:
    stories = [group for group in groups if group.story_id is not None]
    stories.sort(key=lambda g: (-len(g.items), -max(item.id for item in g.items)))
    top = []
    for group in stories[:TOP_STORIES]:
        newest = max(group.items, key=lambda item: (item.moment, item.id))
        row = rows[newest.id]
        top.append(TopStory(group.title, group.url or newest.url, len(group.items), lead(row["text"], row["summary"])))
    return top


def _chart(day: str, coverage: list[tuple[str, str, int]], subscribed: list[str]) -> tuple[list[str], list[ChartRow]]:
    """A week of coverage by main topic as rows of shaded cells (mail clients draw tables, not images)."""
    last = date.fromisoformat(day)
    days = [(last - timedelta(days=n)).isoformat() for n in range(CHART_DAYS - 1, -1, -1)]
    counts: dict[str, dict[str, int]] = {}
    for when, topic, count in coverage:
        if topic in subscribed and when in days:
            counts.setdefault(topic, {})[when] = counts.get(topic, {}).get(when, 0) + count
    top = max((n for per_day in counts.values() for n in per_day.values()), default=0)
    rows = []
    for topic in subscribed:
        if topic not in counts:
            continue
        cells = []
        for when in days:
            n = counts[topic].get(when, 0)
            shade = SHADES[0] if not n else SHADES[min(len(SHADES) - 1, 1 + (len(SHADES) - 2) * n // max(top, 1))]
            cells.append((n, shade))
        rows.append(ChartRow(TOPIC_LABELS[topic], cells))
    return (days, rows) if rows else ([], [])


def shrink(digest: Digest) -> Digest | None:
    """The same digest with one item fewer shown in full in its longest topic (listed on one line instead,
    or only counted once that list is full); None when nothing can go."""
    longest = max(digest.sections, key=lambda s: sum(len(g.items) for g in s.stories), default=None)
    if longest is not None and sum(len(g.items) for g in longest.stories) > 1:
        for group in reversed(longest.stories):
            if group.items:
                longest.more_items.insert(0, group.items.pop())
                longest.more += 1
                del longest.more_items[MORE_LISTED:]
                if not group.items:
                    longest.stories.remove(group)
                return digest
    listed = max(digest.sections, key=lambda s: len(s.more_items), default=None)
    if listed is not None and listed.more_items:
        listed.more_items.pop()
        return digest
    return None


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
                    follow_up=False,
                    story_id=entry.get("story_id"),
                )
            )
    return list(by_watch.values())
