"""Migration 0012_site_names: the trailing segments of headlines ("| Foo Daily", "_新浪网") counted per site, so
a site's name is learned from the pattern its pages share and taken off their titles."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    db.conn.execute(
        "CREATE TABLE site_names (host TEXT NOT NULL, name TEXT NOT NULL, pages INTEGER NOT NULL DEFAULT 0, "
        "learned_at TEXT, PRIMARY KEY (host, name))"
    )
