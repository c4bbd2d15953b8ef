"""Migration 0018_watch_counterparties: a watch can name a counterparty file (a CSV of names, as `screen`
reads), so a team is told when a screening list's new or revised entry matches one of theirs. NULL: none."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.conn.execute("ALTER TABLE watches ADD COLUMN counterparties TEXT")
