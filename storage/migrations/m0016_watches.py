"""Migration 0016_watches: saved searches (watches), the articles each has matched, and their deliveries.

A watch remembers the last article id it has looked at (matched_through): article ids only grow, and SQLite
commits one writer at a time, so "id above the mark" is exactly "stored since the watch last looked". Each
(watch, article) is recorded once (the primary key); matches are gathered into batches (one message per watch
per run, its payload frozen when made), and each batch has one delivery row per email address or webhook,
pending until sent. Nothing here is deleted when a delivery fails: it stays pending, to be retried.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute(
        "CREATE TABLE watches (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, query TEXT, "
        "topic TEXT, entity TEXT, lang TEXT, source TEXT, min_relevance REAL, emails TEXT NOT NULL DEFAULT '[]', "
        "webhooks TEXT NOT NULL DEFAULT '[]', every TEXT NOT NULL DEFAULT 'run', origin TEXT NOT NULL, "
        "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, matched_through INTEGER NOT NULL DEFAULT 0, "
        "last_matched_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE watch_matches (watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE, "
        "article_id INTEGER NOT NULL, matched_at TEXT NOT NULL, batch_id INTEGER, "
        "PRIMARY KEY (watch_id, article_id)) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX watch_matches_unbatched ON watch_matches (watch_id, batch_id)")
    conn.execute(
        "CREATE TABLE watch_batches (id INTEGER PRIMARY KEY AUTOINCREMENT, watch_id INTEGER NOT NULL, "
        "watch TEXT NOT NULL, created_at TEXT NOT NULL, item_count INTEGER NOT NULL, "
        "more_count INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE watch_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "batch_id INTEGER NOT NULL REFERENCES watch_batches(id), channel TEXT NOT NULL, target TEXT NOT NULL, "
        "status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, "
        "last_attempt_at TEXT, last_error TEXT, sent_at TEXT, how TEXT)"
    )
    conn.execute("CREATE INDEX watch_deliveries_pending ON watch_deliveries (status, channel, target, id)")
    conn.execute("CREATE INDEX watch_deliveries_batch ON watch_deliveries (batch_id)")
