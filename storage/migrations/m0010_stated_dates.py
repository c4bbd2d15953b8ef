"""Migration 0010_stated_dates: Articles keep the day their page states and how precise the date is (second, minute,
day, month). Older rows have only the UTC moment: its day is the best they have, precision unknown.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    """Articles keep the day their page states and how precise the date is (second, minute, day, month).
    Older rows have only the UTC moment: its day is the best they have, precision unknown."""
    conn = db.conn
    conn.execute("ALTER TABLE articles ADD COLUMN published_date TEXT")
    conn.execute("ALTER TABLE articles ADD COLUMN published_precision TEXT")
    conn.execute("UPDATE articles SET published_date = substr(published_at, 1, 10) WHERE published_at IS NOT NULL")
