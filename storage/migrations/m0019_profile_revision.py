"""Migration 0019_profile_revision: each article profile counts the times it was saved, so that grouping can
keep the profiles it has read and know, from one small column, when one has changed (a profile saved again
keeps its rowid: article_id is its key)."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.conn.execute("ALTER TABLE article_profiles ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
