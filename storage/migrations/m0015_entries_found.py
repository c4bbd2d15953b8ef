"""Migration 0015_entries_found: each crawl run records how many entries its source's documents listed (feed
items, sitemap URLs, links a listing's selector found), so a source whose selector or feed suddenly finds far
fewer than usual is flagged before it goes silent. Runs recorded before say nothing (NULL)."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.conn.execute("ALTER TABLE crawl_runs ADD COLUMN entries_found INTEGER")
