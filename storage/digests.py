"""digests, and the queries a digest is made of: new relevant items with their topics, stories and copies."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.database import transaction


def last_sent(db: sqlite_utils.Database, reader: str) -> dict[str, Any] | None:
    """The reader's latest delivered (or deliberately empty) digest."""
    rows = list(
        db.query(
            "SELECT * FROM digests WHERE reader = ? AND status IN ('sent', 'empty') ORDER BY covers_to DESC LIMIT 1",
            [reader],
        )
    )
    return rows[0] if rows else None


def digest_for(db: sqlite_utils.Database, reader: str, day: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM digests WHERE reader = ? AND day = ?", [reader, day]))
    return rows[0] if rows else None


def begin(db: sqlite_utils.Database, reader: str, day: str, covers_from: str, covers_to: str) -> dict[str, Any]:
    """The reader's row for the day, created pending if new; an unsent row is reused (retries)."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO digests (reader, day, status, covers_from, covers_to) VALUES (?, ?, 'pending', ?, ?) "
            "ON CONFLICT(reader, day) DO UPDATE SET covers_from = excluded.covers_from, "
            "covers_to = excluded.covers_to WHERE digests.status IN ('pending', 'failed')",
            [reader, day, covers_from, covers_to],
        )
    row = digest_for(db, reader, day)
    assert row is not None
    return row


def finish(
    db: sqlite_utils.Database,
    digest_id: int,
    status: str,
    at: str,
    *,
    delivery: str | None = None,
    message_id: str | None = None,
    items: int = 0,
    stories: int = 0,
    error: str | None = None,
) -> None:
    with transaction(db) as conn:
        conn.execute(
            "UPDATE digests SET status = ?, delivery = COALESCE(?, delivery), message_id = COALESCE(?, message_id), "
            "item_count = ?, story_count = ?, error = ?, attempts = attempts + 1, "
            "sent_at = CASE WHEN ? IN ('sent', 'empty') THEN ? ELSE sent_at END WHERE id = ?",
            [status, delivery, message_id, items, stories, error, status, at, digest_id],
        )


def new_items(db: sqlite_utils.Database, since: str, until: str, min_relevance: float) -> list[dict[str, Any]]:
    """Relevant articles first stored in (since, until], with topics, story and copies, newest first."""
    rows = list(
        db.query(
            "SELECT a.id, a.title, a.canonical_url AS url, COALESCE(a.publisher, a.source) AS source, a.lang, "
            "a.published_at, a.published_date, a.published_precision, a.first_seen_at, "
            "a.summary, a.text, a.relevance, a.story_id, a.is_follow_up, s.title AS story_title, "
            "s.article_count AS story_size, (SELECT count(*) FROM copies c WHERE c.article_id = a.id) AS copies "
            "FROM articles a LEFT JOIN stories s ON s.id = a.story_id "
            "WHERE a.relevant = 1 AND a.relevance >= ? AND a.first_seen_at > ? AND a.first_seen_at <= ? "
            "ORDER BY COALESCE(a.published_at, a.first_seen_at) DESC, a.id DESC",
            [min_relevance, since, until],
        )
    )
    ids = [row["id"] for row in rows]
    topics: dict[int, list[tuple[str, float]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for article_id, topic, score in db.execute(
            f"SELECT article_id, topic, score FROM article_topics WHERE article_id IN ({marks}) "
            "ORDER BY article_id, score DESC, topic",
            chunk,
        ):
            topics[article_id].append((topic, score))
    for row in rows:
        row["topics"] = [topic for topic, _ in topics[row["id"]]]
    return rows


def earliest_in_story(db: sqlite_utils.Database, story_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each story's first article (title, source, date): what a follow-up follows up."""
    result: dict[int, dict[str, Any]] = {}
    for story_id in story_ids:
        rows = list(
            db.query(
                "SELECT id, title, COALESCE(publisher, source) AS source, "
                "COALESCE(published_at, first_seen_at) AS moment FROM articles "
                "WHERE story_id = ? ORDER BY moment, id LIMIT 1",
                [story_id],
            )
        )
        if rows:
            result[story_id] = rows[0]
    return result


def last_digest_sent(db: sqlite_utils.Database) -> str | None:
    """When any reader's digest last went out (or, for databases from before the digests table, when the
    digest job last ran)."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "digests" in tables:
        row = db.execute("SELECT max(sent_at) FROM digests WHERE status = 'sent'").fetchone()
        if row and row[0]:
            return str(row[0])
    if "schedule_state" in tables:
        row = db.execute("SELECT last_run_at FROM schedule_state WHERE job = 'digest'").fetchone()
        return row[0] if row else None
    return None
