"""labels: users' corrections of the classifier, and the articles they were made on."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage.database import transaction


def add_label(db: sqlite_utils.Database, article_id: int, relevant: bool, topics: list[str], now: str) -> None:
    """Store a reader's correction of one article."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO labels (article_id, relevant, topics, created_at) VALUES (?, ?, ?, ?)",
            [article_id, int(relevant), json.dumps(topics), now],
        )


def latest_labels(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The newest label of each labelled article, with what training needs of the article."""
    rows = db.query(
        "SELECT l.article_id, l.relevant, l.topics, a.title, a.text, a.lang FROM labels l "
        "JOIN articles a ON a.id = l.article_id "
        "WHERE l.id = (SELECT max(id) FROM labels WHERE article_id = l.article_id) ORDER BY l.article_id"
    )
    return [{**row, "relevant": bool(row["relevant"]), "topics": json.loads(row["topics"])} for row in rows]


def labelled_article_ids(db: sqlite_utils.Database) -> set[int]:
    return {row[0] for row in db.execute("SELECT DISTINCT article_id FROM labels")}
