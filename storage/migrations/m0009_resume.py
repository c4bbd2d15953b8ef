"""Migration 0009_resume: What lets an interrupted crawl resume and a crawl lock leave no file behind: how far each
source's pagination was read completely, which sitemaps were read, entries whose page failed (retried with backoff,
then given up), and crawl leases (one crawl per source at a time, inside the database).
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    """What lets an interrupted crawl resume and a crawl lock leave no file behind: how far each source's
    pagination was read completely, which sitemaps were read, entries whose page failed (retried with
    backoff, then given up), and crawl leases (one crawl per source at a time, inside the database)."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE pagination (source TEXT PRIMARY KEY, resume_url TEXT, resume_page INTEGER, "
        "caught_up INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE sitemaps_read (source TEXT NOT NULL, url TEXT NOT NULL, lastmod TEXT, read_at TEXT NOT NULL, "
        "PRIMARY KEY (source, url))"
    )
    conn.execute(
        "CREATE TABLE failed_entries (source TEXT NOT NULL, url TEXT NOT NULL, title TEXT, kind TEXT, message TEXT, "
        "attempts INTEGER NOT NULL DEFAULT 1, first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL, "
        "next_try_at TEXT, given_up INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, url))"
    )
    conn.execute(
        "CREATE TABLE crawl_leases (source TEXT PRIMARY KEY, pid INTEGER NOT NULL, process_start TEXT, "
        "since TEXT NOT NULL)"
    )
    conn.execute("ALTER TABLE sources ADD COLUMN expect_items_days REAL")
