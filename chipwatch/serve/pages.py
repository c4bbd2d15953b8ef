"""The reading room's pages, as data: what each page shows, read from storage. Rendering is the templates'
(chipwatch/serve/templates/); the routes are the plugin's (plugins/chipwatch_reading_room.py)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chipwatch.digest.text import LANG_LABELS, TOPIC_LABELS, clean, safe_url
from chipwatch.errors import QueryError
from chipwatch.queries import check_topic, search_request
from chipwatch.reports.snippets import query_terms, snippet
from chipwatch.serve.charts import days_between, series_by_day, sparkline, stacked_bars
from pipeline.dates import to_utc_iso
from storage.articles import article_details, texts_for
from storage.digests import earliest_in_story, new_items
from storage.reading import (
    coverage_by_topic,
    language_mix,
    newest_day,
    stories_page,
    story_coverage_by_lang,
    story_days,
)
from storage.search import count_matches, search
from storage.stories import story_titles

PAGE_SIZE = 20
TOP_STORIES = 5
MARK = ("⟦", "⟧")  # around matched words in a snippet; turned into <mark> after escaping


def lang_label(lang: str | None) -> str:
    return LANG_LABELS.get(lang or "", lang or "?")


def _article_line(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": clean(row.get("title")) or "(untitled)",
        "url": safe_url(row.get("url")),
        "outlet": clean(row.get("publisher") or row.get("source")),
        "date": (row.get("published_at") or row.get("first_seen_at") or "")[:10],
        "lang": lang_label(row.get("lang")),
        "topics": [t["id"] if isinstance(t, dict) else t for t in row.get("topics", [])],
        "story_id": row.get("story_id"),
    }


def today(db: Any, now: datetime | None = None) -> dict[str, Any]:
    """Top stories with their new articles, what changed since yesterday, 30 days of coverage by topic,
    the language mix, sources needing attention."""
    now = now or datetime.now(UTC)
    since, before = to_utc_iso(now - timedelta(hours=24)), to_utc_iso(now - timedelta(hours=48))
    rows = new_items(db, since, to_utc_iso(now), 0.0)
    previous = new_items(db, before, since, 0.0)
    by_story: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_story[row["story_id"] or f"single-{row['id']}"].append(row)
    story_ids = [key for key in by_story if isinstance(key, int)]
    titles = story_titles(db, story_ids)
    firsts = earliest_in_story(db, story_ids)
    top = []
    for key, items in sorted(by_story.items(), key=lambda pair: -len(pair[1]))[:TOP_STORIES]:
        title = titles.get(key) if isinstance(key, int) else None
        top.append(
            {
                "story_id": key if isinstance(key, int) else None,
                "title": clean(title or items[0]["title"]),
                "articles": [_article_line(item) for item in items[:6]],
                "more": max(0, len(items) - 6),
            }
        )
    changes = []
    now_topics = Counter(topic for row in rows for topic in row["topics"][:1])
    then_topics = Counter(topic for row in previous for topic in row["topics"][:1])
    for topic in TOPIC_LABELS:
        if now_topics[topic] or then_topics[topic]:
            changes.append(
                {"label": TOPIC_LABELS[topic], "topic": topic, "now": now_topics[topic], "then": then_topics[topic]}
            )
    started: list[dict[str, Any]] = [
        {"id": story_id, "title": clean(titles.get(story_id)), "size": len(by_story[story_id])}
        for story_id in story_ids
        if firsts.get(story_id) and any(item["id"] == firsts[story_id]["id"] for item in by_story[story_id])
    ]
    last = newest_day(db)
    chart = ""
    if last:
        first = (datetime.fromisoformat(last) - timedelta(days=29)).date().isoformat()
        days = days_between(first, last)
        series = series_by_day(coverage_by_topic(db, first, last), days, [*TOPIC_LABELS, "untagged"])
        labelled = {TOPIC_LABELS.get(key, key): values for key, values in series.items()}
        chart = stacked_bars(days, labelled, title=f"Relevant articles per day by main topic, {first} to {last}")
    from chipwatch.reports.health import source_health

    attention = [h for h in source_health(db, "UTC") if h.status in ("failing", "silent", "overdue", "declining")]
    return {
        "new_count": len(rows),
        "top": top,
        "changes": changes,
        "started": sorted(started, key=lambda story: -story["size"])[:12],
        "started_count": len(started),
        "chart": chart,
        "languages": [(lang_label(lang), count) for lang, count in language_mix(db, since)],
        "attention": [{"name": h.name, "status": h.status, "reason": h.reason} for h in attention],
        "since": since,
    }


def stories(db: Any, args: dict[str, str]) -> dict[str, Any]:
    topic = args.get("topic") or None
    check_topic(topic)
    lang = args.get("lang") or None
    since = _day(args.get("since"), "since")
    page = _page(args)
    rows, total = stories_page(db, topic=topic, lang=lang, since=since, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    counts = story_days(db, [row["id"] for row in rows])
    shown = []
    for row in rows:
        daily = counts.get(row["id"], {})
        days = days_between(min(daily), max(daily)) if daily else []
        values = [daily.get(day, 0) for day in days]
        shown.append(
            {
                "id": row["id"],
                "title": clean(row["title"]),
                "first": (row["first_seen"] or "")[:10],
                "last": (row["last_seen"] or "")[:10],
                "articles": row["article_count"],
                "outlets": json.loads(row["outlets"] or "[]"),
                "languages": [lang_label(code) for code in json.loads(row["languages"] or "[]")],
                "topics": json.loads(row["topics"] or "[]"),
                "sparkline": sparkline(values, label=f"{row['article_count']} articles, {len(days)} days"),
            }
        )
    return {
        "stories": shown,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": {"topic": topic or "", "lang": lang or "", "since": args.get("since") or ""},
        "topics": TOPIC_LABELS,
    }


def story(db: Any, story_id: int) -> dict[str, Any]:
    from chipwatch.reports.stories import timeline

    story_row = timeline(db, story_id)
    coverage = story_coverage_by_lang(db, story_id)
    chart = ""
    if coverage:
        days = days_between(coverage[0][0], coverage[-1][0])
        series = series_by_day(coverage, days)
        chart = stacked_bars(
            days,
            {lang_label(key): values for key, values in series.items()},
            title=f"Coverage per day by language, {days[0]} to {days[-1]}",
        )
    articles = []
    for article in story_row["articles"]:
        articles.append(
            {
                **_article_line(article),
                "follow_up": article["follow_up"],
                "added": article["added"][:8],
                "entities": article["entities"],
                "copies": [{"outlet": clean(c["outlet"]), "url": safe_url(c["url"])} for c in article["copies"]],
            }
        )
    return {
        "story": {
            "id": story_id,
            "title": clean(story_row["title"]),
            "articles": articles,
            "first": (story_row.get("first_seen") or "")[:10],
            "last": (story_row.get("last_seen") or "")[:10],
        },
        "chart": chart,
        "feed": f"/feeds/story/{story_id}.atom",
    }


def find(db: Any, args: dict[str, str]) -> dict[str, Any]:
    """Search with chipwatch's rules: the CLI's parser and index, snippets, "N of M" and pages."""
    text = (args.get("q") or "").strip() or None
    filters = {key: args.get(key) or None for key in ("topic", "lang", "source", "since", "until", "stored_since")}
    page = _page(args)
    context: dict[str, Any] = {
        "q": text or "",
        "filters": {k: v or "" for k, v in filters.items()},
        "topics": TOPIC_LABELS,
        "results": [],
        "total": 0,
        "page": page,
        "pages": 1,
    }
    if text is None and not any(filters.values()):
        return context
    request = search_request(text, PAGE_SIZE, **filters)
    request = replace(request, offset=(page - 1) * PAGE_SIZE)
    rows = search(db, request)
    total = count_matches(db, request)
    texts = texts_for(db, [row["id"] for row in rows]) if text else {}
    terms = query_terms(request.text)
    results = []
    for row in rows:
        # The marks in the text itself are made plain brackets, so only ours become <mark>.
        plain = (texts.get(row["id"]) or "").replace(MARK[0], "[").replace(MARK[1], "]")
        passage = snippet(plain, terms, mark=MARK) if text else None
        results.append({**_article_line(row), "passage": clean(passage or row.get("excerpt") or "")[:400]})
    context.update(
        results=results,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        first=(page - 1) * PAGE_SIZE + 1 if rows else 0,
        last=(page - 1) * PAGE_SIZE + len(rows),
    )
    return context


def article(db: Any, article_id: int) -> dict[str, Any]:
    details = article_details(db, article_id)
    if details is None:
        raise QueryError(f"no article #{article_id}")
    return {
        "article": {
            **_article_line({**details, "url": details.get("canonical_url")}),
            "topics": [
                {
                    "id": t["id"],
                    "label": TOPIC_LABELS.get(t["id"], t["id"]),
                    "score": t["score"],
                    "evidence": [clean(e) for e in t["evidence"]][:8],
                }
                for t in details["topics"]
            ],
            "story": details["story"] and {**details["story"], "title": clean(details["story"]["title"])},
            "copies": [{"outlet": clean(c["outlet"]), "url": safe_url(c["url"])} for c in details["copies"]],
            "entities": details["entities"],
            "text": clean(details.get("text"))[:1500],
        }
    }


def _page(args: dict[str, str]) -> int:
    try:
        return max(1, min(int(args.get("page") or 1), 10_000))
    except ValueError:
        raise QueryError("page: a whole number") from None


def _day(value: str | None, name: str) -> str | None:
    from chipwatch.queries import since_option

    return since_option(value, name) if value else None
