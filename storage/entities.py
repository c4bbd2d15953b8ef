"""entities: who and what each article names (company:nvidia, chip:h200, agency:samr, percent:25%)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils


def store_entities(conn: Any, article_id: int, entities: Iterable[tuple[str, str]]) -> None:
    """Replace an article's entities (inside the caller's transaction)."""
    conn.execute("DELETE FROM entities WHERE article_id = ?", [article_id])
    conn.executemany(
        "INSERT OR IGNORE INTO entities (article_id, kind, value) VALUES (?, ?, ?)",
        [(article_id, kind, value) for kind, value in sorted(set(entities))],
    )


def entities_of(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {article_id: [] for article_id in article_ids}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(
            f"SELECT article_id, kind, value FROM entities WHERE article_id IN ({marks}) ORDER BY kind, value", chunk
        ):
            result[row[0]].append(f"{row[1]}:{row[2]}")
    return result
