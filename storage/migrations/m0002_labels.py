"""Migration 0002_labels."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # Corrections from users: the newest label of an article wins, and training learns from all of them.
    db.table("labels").create(
        {"id": int, "article_id": int, "relevant": int, "topics": str, "created_at": str},
        pk="id",
        not_null={"article_id", "relevant", "topics", "created_at"},
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("labels").create_index(["article_id", "id"])
