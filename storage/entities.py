"""entities: who and what each article names (company:nvidia, chip:h200, agency:samr, percent:25%)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils


def store_entities(conn: Any, article_id: int, entities: Iterable[tuple[str, str]]) -> None:
    """Replace an article's entities (inside the caller's transaction). Its profile's revision counts the
    change: grouping, which keeps the profiles it has read, then reads this one again."""
    conn.execute("DELETE FROM entities WHERE article_id = ?", [article_id])
    conn.executemany(
        "INSERT OR IGNORE INTO entities (article_id, kind, value) VALUES (?, ?, ?)",
        [(article_id, kind, value) for kind, value in sorted(set(entities))],
    )
    conn.execute("UPDATE article_profiles SET revision = revision + 1 WHERE article_id = ?", [article_id])


def entities_of(db: sqlite_utils.Database, article_ids: list[int]) -> dict[int, list[str]]:
    """Each article's entities as KIND:VALUE keys, in the order names are most telling (companies, chips,
    agencies first)."""
    order = {"company": 0, "chip": 1, "agency": 2, "bill": 3, "person": 4}
    result: dict[int, list[str]] = {article_id: [] for article_id in article_ids}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(f"SELECT article_id, kind, value FROM entities WHERE article_id IN ({marks})", chunk)
        for article_id, kind, value in sorted(rows, key=lambda r: (r[0], order.get(r[1], 9), r[2])):
            result[article_id].append(f"{kind}:{value}")
    return result
