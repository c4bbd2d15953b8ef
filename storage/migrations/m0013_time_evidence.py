"""Migration 0013_time_evidence: each article profile keeps the interval its article was published in
(earliest, latest) and whether that is a date (certain) or an estimate, for story grouping. Profiles stored
before had only a moment: it becomes their interval. Stories keep a title per language (JSON), so a reader
sees a story under a headline in their own language when it has one."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute("ALTER TABLE article_profiles ADD COLUMN earliest TEXT")
    conn.execute("ALTER TABLE article_profiles ADD COLUMN latest TEXT")
    conn.execute("ALTER TABLE article_profiles ADD COLUMN certain INTEGER NOT NULL DEFAULT 1")
    conn.execute("UPDATE article_profiles SET earliest = moment, latest = moment")
    conn.execute("CREATE INDEX article_profiles_uncertain ON article_profiles (certain, latest)")
    conn.execute("ALTER TABLE stories ADD COLUMN titles TEXT")
