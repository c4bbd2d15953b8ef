"""Migration 0006_publishers."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # The outlet that published an article, when the source is not the outlet (a search feed, a news sitemap).
    db.table("articles").add_column("publisher", str)
    db.table("copies").add_column("publisher", str)
    # Why a source last failed, for `chipwatch sources`.
    db.table("sources").add_column("last_failure_at", str)
    db.table("sources").add_column("last_error", str)
