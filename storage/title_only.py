"""Title-only articles (a news-search result stored from its feed entry) and the publisher's own article.

When both are stored, the full article is the article and the search result one of its copies, whichever
came first: readers get the text, and the story stays one.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.articles import reindex
from storage.database import transaction
from storage.story_summaries import refresh_summary

MOMENT = "COALESCE(published_at, first_seen_at)"


def full_article_titled(db: sqlite_utils.Database, key: str, earliest: str, latest: str, canonical: str) -> int | None:
    """The full (not title-only) article with this title key, published or first seen in [earliest, latest]."""
    row = db.execute(
        f"SELECT id FROM articles WHERE title_key = ? AND title_only = 0 AND canonical_url != ? "
        f"AND {MOMENT} BETWEEN ? AND ? ORDER BY id LIMIT 1",
        [key, canonical, earliest, latest],
    ).fetchone()
    return row[0] if row else None


def absorb_title_only(db: sqlite_utils.Database, article_id: int, key: str, earliest: str, latest: str) -> list[int]:
    """Title-only articles with this title key in [earliest, latest] become copies of article_id (their
    rows go, their labels move to it); the ids absorbed."""
    with transaction(db) as conn:
        rows = conn.execute(
            f"SELECT id, source, url, fetched_at, title, publisher, story_id FROM articles WHERE title_key = ? "
            f"AND title_only = 1 AND id != ? AND {MOMENT} BETWEEN ? AND ?",
            [key, article_id, earliest, latest],
        ).fetchall()
        for other, source, url, fetched_at, title, publisher, story in rows:
            conn.execute(
                "INSERT OR IGNORE INTO copies (article_id, source, url, fetched_at, title, publisher) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [article_id, source, url, fetched_at, title, publisher],
            )
            conn.execute("UPDATE copies SET article_id = ? WHERE article_id = ?", [article_id, other])
            conn.execute("UPDATE labels SET article_id = ? WHERE article_id = ?", [article_id, other])
            _delete(conn, other)
            if story is not None:
                refresh_summary(conn, story)
        if rows:
            reindex(conn, article_id)
    return [row[0] for row in rows]


def _delete(conn: Any, article_id: int) -> None:
    for table in ("article_topics", "entities", "article_profiles", "article_centrality"):
        conn.execute(f"DELETE FROM {table} WHERE article_id = ?", [article_id])
    # A title-only article has no text to fingerprint; the bands table has no article index to scan by.
    if conn.execute("SELECT 1 FROM minhash_signatures WHERE article_id = ?", [article_id]).fetchone():
        conn.execute("DELETE FROM minhash_signatures WHERE article_id = ?", [article_id])
        conn.execute("DELETE FROM minhash_bands WHERE article_id = ?", [article_id])
    conn.execute("DELETE FROM articles_fts WHERE rowid = ?", [article_id])
    conn.execute("DELETE FROM articles WHERE id = ?", [article_id])
