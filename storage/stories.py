"""stories and article_profiles: the threads articles are grouped into, and what grouping compares."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlite_utils

from storage import story_summaries as summaries

# What tells a stored profile apart from the one read last time: its revision, which counts the saves of its
# words and topics and the rewrites of its article's entities (storage/entities.py).
PROFILE_COLUMNS = "p.article_id, p.revision, p.moment, p.earliest, p.latest, a.story_id"
# Articles naming one rare entity are few; this bounds the search for the archive's largest ones.
MAX_NAMING = 2000


class ProfileRow(NamedTuple):
    """A stored profile as listed: enough to place it in time and its story, and its revision, which changes
    whenever its words, topics or entities may have (read those with profile_details when it is new). A
    tuple: grouping lists a few hundred for every new article."""

    article_id: int
    moment: str
    earliest: str
    latest: str
    story_id: int
    revision: int


def _rows(cursor: Any) -> list[ProfileRow]:
    return [
        ProfileRow(article_id, moment, earliest or moment, latest or moment, story_id, revision)
        for article_id, revision, moment, earliest, latest, story_id in cursor
    ]


def recent_profiles(db: sqlite_utils.Database, earliest: str, latest: str) -> list[ProfileRow]:
    """Profiles of articles with a certain date, in a story, whose moment falls in [earliest, latest]:
    bounded by the news rate around that moment, not by the size of the archive."""
    return _rows(
        db.execute(
            f"SELECT {PROFILE_COLUMNS} FROM article_profiles p JOIN articles a ON a.id = p.article_id "
            # "+p.certain": the moment's index is the selective one; the certain index would scan them all.
            "WHERE p.moment BETWEEN ? AND ? AND +p.certain = 1 AND a.story_id IS NOT NULL",
            [earliest, latest],
        )
    )


def profiles_naming(
    db: sqlite_utils.Database, entities: list[str], earliest: str, latest: str, *, uncertain_only: bool
) -> list[ProfileRow]:
    """Profiles of articles in a story that name any of these entities and whose interval reaches into
    [earliest, latest] (the newest MAX_NAMING); only those dated by an estimate when uncertain_only.

    The estimates are found through their own index (few reach into any window: those first seen after
    its start), then checked for the entities; all profiles naming an entity, through the entity index."""
    if not entities:
        return []
    pairs = [key.partition(":") for key in entities]
    matches = " OR ".join("(e.kind = ? AND e.value = ?)" for _ in pairs)
    values = [value for kind, _, value in pairs for value in (kind, value)]
    if uncertain_only:
        sql = (
            f"SELECT {PROFILE_COLUMNS} FROM article_profiles p JOIN articles a ON a.id = p.article_id "
            "WHERE p.certain = 0 AND p.latest >= ? AND p.earliest <= ? AND a.story_id IS NOT NULL "
            f"AND EXISTS (SELECT 1 FROM entities e WHERE e.article_id = p.article_id AND ({matches})) "
            "ORDER BY p.article_id DESC LIMIT ?"
        )
        params = [earliest, latest, *values, MAX_NAMING]
    else:
        sql = (
            f"SELECT DISTINCT {PROFILE_COLUMNS} FROM entities e JOIN article_profiles p ON p.article_id = e.article_id "
            f"JOIN articles a ON a.id = p.article_id WHERE ({matches}) AND p.latest >= ? AND p.earliest <= ? "
            "AND a.story_id IS NOT NULL ORDER BY p.article_id DESC LIMIT ?"
        )
        params = [*values, earliest, latest, MAX_NAMING]
    return _rows(db.execute(sql, params))


def profile_details(db: sqlite_utils.Database, ids: list[int]) -> dict[int, tuple[str, str, list[str]]]:
    """Each profile's keywords and topics (JSON text, parsed by the caller) and its article's entities."""
    details: dict[int, tuple[str, str, list[str]]] = {}
    entities: dict[int, list[str]] = {article_id: [] for article_id in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for article_id, kind, value in db.execute(
            f"SELECT article_id, kind, value FROM entities WHERE article_id IN ({marks})", chunk
        ):
            entities[article_id].append(f"{kind}:{value}")
        for article_id, keywords, topics in db.execute(
            f"SELECT article_id, keywords, topics FROM article_profiles WHERE article_id IN ({marks})", chunk
        ):
            details[article_id] = (keywords, topics, entities[article_id])
    return details


def save_profile(
    conn: Any,
    article_id: int,
    moment: str,
    keywords: dict[str, float],
    topics: list[str],
    interval: tuple[str, str, bool] | None = None,
) -> None:
    """An article's profile; interval is (earliest, latest, certain), the moment itself when not given. A
    profile saved again starts with no centrality (its links are made again)."""
    earliest, latest, certain = interval or (moment, moment, True)
    conn.execute("DELETE FROM article_centrality WHERE article_id = ?", [article_id])
    conn.execute(
        "INSERT INTO article_profiles (article_id, moment, keywords, topics, earliest, latest, certain) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET moment = excluded.moment, "
        "keywords = excluded.keywords, topics = excluded.topics, earliest = excluded.earliest, "
        "latest = excluded.latest, certain = excluded.certain, revision = revision + 1",
        [
            article_id,
            moment,
            json.dumps(keywords, ensure_ascii=False),
            json.dumps(topics),
            earliest,
            latest,
            int(certain),
        ],
    )


def create_story(conn: Any, title: str, article_id: int, moment: str, now: str) -> int:
    cursor = conn.execute(
        "INSERT INTO stories (title, title_article_id, first_seen, last_seen, article_count, outlets, languages, "
        "topics, updated_at) VALUES (?, ?, ?, ?, 0, '[]', '[]', '[]', ?)",
        [title, article_id, moment, moment, now],
    )
    return cursor.lastrowid


def join_story(conn: Any, story_id: int, article_id: int, links: dict[int, float], now: str) -> None:
    """Put an article in a story; its links add to its own and its partners' centrality."""
    conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
    if links:
        # Its own centrality first, then its partners', as one statement each way (article_centrality keeps
        # them in rows of a few bytes: a hundred partners touch a few pages, not a hundred).
        conn.executemany(
            "INSERT INTO article_centrality (article_id, centrality) VALUES (?, ?) "
            "ON CONFLICT (article_id) DO UPDATE SET centrality = centrality + excluded.centrality",
            [(article_id, sum(links.values())), *((other, score) for other, score in links.items())],
        )
    conn.execute("UPDATE stories SET updated_at = ? WHERE id = ?", [now, story_id])
    if links:
        # A partner in another story gained centrality too: that story is read whole when it next changes.
        marks = ", ".join("?" for _ in links)
        conn.execute(
            f"UPDATE stories SET title_ids = NULL WHERE id != ? AND id IN "
            f"(SELECT story_id FROM articles WHERE id IN ({marks}))",
            [story_id, *links],
        )
    if not summaries.add_to_summary(conn, story_id, article_id, links):
        summaries.refresh_summary(conn, story_id)


def leave_story(conn: Any, article_id: int) -> None:
    """Take an article out of its story (a reader said it is not relevant): the story's title, span, counts
    and follow-ups are recomputed without it, and a story left empty goes."""
    row = conn.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
    if row is None or row[0] is None:
        return
    conn.execute("UPDATE articles SET story_id = NULL, is_follow_up = 0 WHERE id = ?", [article_id])
    summaries.refresh_summary(conn, row[0])


def story_titles(db: sqlite_utils.Database, story_ids: list[int], lang: str = "") -> dict[int, str]:
    """Each story's title: the one in lang when the story has an article in it (zh-Hant, else any zh-),
    else the story's own (its most central article's)."""
    result: dict[int, str] = {}
    primary = lang.split("-")[0]
    for start in range(0, len(story_ids), 500):
        chunk = story_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for story_id, title, titles in db.execute(
            f"SELECT id, title, titles FROM stories WHERE id IN ({marks})", chunk
        ):
            by_lang = json.loads(titles) if titles else {}
            chosen = by_lang.get(lang) if lang else None
            if lang and chosen is None:
                chosen = next((t for code, t in sorted(by_lang.items()) if code.split("-")[0] == primary), None)
            result[story_id] = chosen or title
    return result


def merge_stories(conn: Any, keep: int, drop: int) -> None:
    """Fold story drop into story keep (one development whose coverage arrived out of order); keep's summary
    is then read whole when it next changes."""
    conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [keep, drop])
    conn.execute("DELETE FROM stories WHERE id = ?", [drop])
    conn.execute("UPDATE stories SET title_ids = NULL WHERE id = ?", [keep])


def list_stories(
    db: sqlite_utils.Database, since: str | None = None, topic: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    where, params = [], []
    if since:
        where.append("last_seen >= ?")
        params.append(since)
    if topic:
        where.append("EXISTS (SELECT 1 FROM json_each(stories.topics) WHERE value = ?)")
        params.append(topic)
    sql = "SELECT * FROM stories" + (" WHERE " + " AND ".join(where) if where else "")
    rows = db.query(sql + " ORDER BY last_seen DESC, id DESC LIMIT ?", [*params, limit])
    return [_decoded(row) for row in rows]


def story_articles(db: sqlite_utils.Database, story_id: int) -> list[dict[str, Any]]:
    """The story's articles in date order, each with its entities and the outlets that also carried it."""
    rows = list(
        db.query(
            "SELECT a.id, a.title, a.canonical_url AS url, a.source, a.publisher, a.lang, a.published_at, "
            "a.first_seen_at, "
            "a.summary, a.is_follow_up, p.moment FROM articles a LEFT JOIN article_profiles p ON p.article_id = a.id "
            "WHERE a.story_id = ? ORDER BY COALESCE(p.moment, a.published_at, a.first_seen_at), a.id",
            [story_id],
        )
    )
    for row in rows:
        row["copies"] = [
            dict(zip(("source", "url", "title", "outlet"), copy, strict=True))
            for copy in db.execute(
                "SELECT source, url, title, COALESCE(publisher, source) FROM copies WHERE article_id = ? ORDER BY id",
                [row["id"]],
            )
        ]
        row["entities"] = [
            f"{kind}:{value}"
            for kind, value in db.execute(
                "SELECT kind, value FROM entities WHERE article_id = ? ORDER BY kind, value", [row["id"]]
            )
        ]
    return rows


def get_story(db: sqlite_utils.Database, story_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
    if not rows:
        return None
    return _decoded(rows[0])


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A stories row with its JSON lists read."""
    for key in ("outlets", "languages", "topics"):
        row[key] = json.loads(row[key] or "[]")
    return row


def story_of_articles(db: sqlite_utils.Database) -> dict[int, int | None]:
    """Every article's story (None for an article in none)."""
    return {row[0]: row[1] for row in db.execute("SELECT id, story_id FROM articles")}


def story_title(db: sqlite_utils.Database, story_id: int) -> str | None:
    """The story's stored title, or None when there is no such story."""
    row = db.execute("SELECT title FROM stories WHERE id = ?", [story_id]).fetchone()
    return None if row is None else str(row[0] or f"story {story_id}")
