"""entities: who and what each article names (company:nvidia, chip:h200, agency:samr, percent:25%)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def store_entities(conn: Any, article_id: int, entities: Iterable[tuple[str, str]]) -> None:
    """Replace an article's entities (inside the caller's transaction)."""
    conn.execute("DELETE FROM entities WHERE article_id = ?", [article_id])
    conn.executemany(
        "INSERT OR IGNORE INTO entities (article_id, kind, value) VALUES (?, ?, ?)",
        [(article_id, kind, value) for kind, value in sorted(set(entities))],
    )
