"""Migration 0014_title_only: articles stored from a feed entry alone (a news-search result whose link
cannot be followed) are marked title_only, and every article keeps a title_key (its title lowercased, letters
and digits only) with an index, so such an item meets the publisher's own article when that is stored.
Rows stored before cannot say whether they were title-only: they count as full articles."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute("ALTER TABLE articles ADD COLUMN title_only INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE articles ADD COLUMN title_key TEXT")
    rows = conn.execute("SELECT id, title FROM articles").fetchall()
    for article_id, title in rows:
        key = "".join(char for char in (title or "").lower() if char.isalnum())[:200]
        conn.execute("UPDATE articles SET title_key = ? WHERE id = ?", [key or None, article_id])
    conn.execute("CREATE INDEX articles_title_key ON articles (title_key)")
