"""What the reading room reads: coverage per day (by topic, or by language for one story), the language mix,
the stories page with each story's daily counts, and counts for "N of M" results. Read-only queries."""

from __future__ import annotations

from typing import Any

import sqlite_utils

MOMENT = "COALESCE(a.published_at, a.first_seen_at)"  # what the articles_moment index covers
DAY = f"substr({MOMENT}, 1, 10)"
PRIMARY_TOPIC = (
    "(SELECT t.topic FROM article_topics t WHERE t.article_id = a.id ORDER BY t.score DESC, t.topic LIMIT 1)"
)


def newest_day(db: sqlite_utils.Database) -> str | None:
    """The day of the newest relevant article (what "the last 30 days" end at): the moment index walked
    from its newest end, not a scan."""
    row = db.execute(
        f"SELECT {DAY} FROM articles a INDEXED BY articles_moment WHERE a.relevant = 1 ORDER BY {MOMENT} DESC LIMIT 1"
    ).fetchone()
    return row[0] if row and row[0] else None


def coverage_by_topic(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[tuple[str, str, int]]:
    """(day, primary topic, relevant articles) from first_day to last_day; each article counted once. The
    range is asked of the moment index, so a month costs that month's rows, whatever is stored."""
    rows = db.execute(
        f"SELECT {DAY} AS day, {PRIMARY_TOPIC} AS topic, count(*) FROM articles a INDEXED BY articles_moment "
        f"WHERE {MOMENT} >= ? AND {MOMENT} < ? AND a.relevant = 1 GROUP BY day, topic ORDER BY day",
        [first_day, _day_after(last_day)],
    )
    return [(day, topic or "untagged", count) for day, topic, count in rows]


def _day_after(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day[:10]) + timedelta(days=1)).isoformat()


def story_coverage_by_lang(db: sqlite_utils.Database, story_id: int) -> list[tuple[str, str, int]]:
    """(day, language, articles) of one story, copies included (a copy is coverage too)."""
    rows = db.execute(
        f"SELECT day, lang, count(*) FROM ("
        f" SELECT {DAY} AS day, COALESCE(a.lang, '?') AS lang FROM articles a WHERE a.story_id = ?"
        f" UNION ALL SELECT substr(c.fetched_at, 1, 10), COALESCE(a.lang, '?') FROM copies c"
        f" JOIN articles a ON a.id = c.article_id WHERE a.story_id = ?"
        f") GROUP BY day, lang ORDER BY day",
        [story_id, story_id],
    )
    return [(day, lang, count) for day, lang, count in rows]


def language_mix(db: sqlite_utils.Database, stored_since: str) -> list[tuple[str, int]]:
    """(language, relevant articles first stored since), most first."""
    rows = db.execute(
        "SELECT COALESCE(lang, '?'), count(*) FROM articles WHERE relevant = 1 AND first_seen_at > ? "
        "GROUP BY 1 ORDER BY 2 DESC",
        [stored_since],
    )
    return [(lang, count) for lang, count in rows]


def stories_page(
    db: sqlite_utils.Database,
    *,
    topic: str | None = None,
    lang: str | None = None,
    since: str | None = None,
    limit: int = 30,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Stories most recently active first (those with an article in lang, a topic, active since a day),
    and how many there are in all."""
    where, params = [], []
    if topic:
        where.append("EXISTS (SELECT 1 FROM json_each(s.topics) WHERE value = ?)")
        params.append(topic)
    if lang:
        where.append("EXISTS (SELECT 1 FROM json_each(s.languages) WHERE value = ? OR value LIKE ?)")
        params += [lang, f"{lang}-%"]
    if since:
        where.append("s.last_seen >= ?")
        params.append(since)
    clause = " WHERE " + " AND ".join(where) if where else ""
    total = db.execute(f"SELECT count(*) FROM stories s{clause}", params).fetchone()[0]
    rows = list(
        db.query(
            f"SELECT s.* FROM stories s{clause} ORDER BY s.last_seen DESC, s.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    )
    return rows, int(total)


def story_days(db: sqlite_utils.Database, story_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each story's articles per day."""
    result: dict[int, dict[str, int]] = {story_id: {} for story_id in story_ids}
    if not story_ids:
        return result
    marks = ", ".join("?" for _ in story_ids)
    for story_id, day, count in db.execute(
        f"SELECT a.story_id, {DAY} AS day, count(*) FROM articles a WHERE a.story_id IN ({marks}) "
        "GROUP BY a.story_id, day",
        story_ids,
    ):
        result[story_id][day] = count
    return result
