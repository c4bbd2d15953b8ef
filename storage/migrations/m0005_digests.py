"""Migration 0005_digests."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # One row per reader per day: sent exactly once; a failed send stays here to be retried on the next run.
    db.table("digests").create(
        {
            "id": int,
            "reader": str,
            "day": str,
            "status": str,  # pending, sent, empty, failed
            "delivery": str,  # smtp or outbox
            "covers_from": str,
            "covers_to": str,
            "item_count": int,
            "story_count": int,
            "message_id": str,
            "sent_at": str,
            "attempts": int,
            "error": str,
        },
        pk="id",
        not_null={"reader", "day", "status"},
        defaults={"attempts": 0, "item_count": 0, "story_count": 0},
    )
    db.table("digests").create_index(["reader", "day"], unique=True)
