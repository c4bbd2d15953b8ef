"""watches and watch_matches: saved searches, and which articles each has matched (each once)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from storage.database import transaction

# The fields that define a watch (the rest is bookkeeping).
DEFINITION = (
    "query", "topic", "entity", "lang", "source", "min_relevance", "emails", "webhooks", "every", "counterparties",
)  # fmt: skip


def save_watch(db: sqlite_utils.Database, name: str, definition: dict[str, Any], origin: str, now: str) -> str:
    """Create or update the named watch: "added", "updated" or "unchanged". Its matches are kept on update."""
    values = _encoded(definition)
    with transaction(db) as conn:
        row = conn.execute(f"SELECT {', '.join(DEFINITION)}, origin FROM watches WHERE name = ?", [name]).fetchone()
        if row is None:
            conn.execute(
                f"INSERT INTO watches (name, {', '.join(DEFINITION)}, origin, created_at, updated_at) "
                f"VALUES (?, {', '.join('?' for _ in DEFINITION)}, ?, ?, ?)",
                [name, *values, origin, now, now],
            )
            return "added"
        if list(row) == [*values, origin]:
            return "unchanged"
        assignments = ", ".join(f"{column} = ?" for column in DEFINITION)
        conn.execute(
            f"UPDATE watches SET {assignments}, origin = ?, updated_at = ? WHERE name = ?",
            [*values, origin, now, name],
        )
        return "updated"


def _encoded(definition: dict[str, Any]) -> list[Any]:
    return [
        json.dumps(list(definition.get(column) or []), ensure_ascii=False)
        if column in ("emails", "webhooks")
        else definition.get(column)
        for column in DEFINITION
    ]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row["emails"] = json.loads(row["emails"] or "[]")
    row["webhooks"] = json.loads(row["webhooks"] or "[]")
    return row


def get_watch(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM watches WHERE name = ?", [name]))
    return _decoded(rows[0]) if rows else None


def list_watches(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every watch with how many articles it has matched and how many deliveries are still pending."""
    rows = db.query(
        "SELECT w.*, (SELECT count(*) FROM watch_matches m WHERE m.watch_id = w.id) AS matches, "
        "(SELECT count(*) FROM watch_deliveries d JOIN watch_batches b ON b.id = d.batch_id "
        " WHERE b.watch_id = w.id AND d.status = 'pending') AS pending, "
        "(SELECT max(d.sent_at) FROM watch_deliveries d JOIN watch_batches b ON b.id = d.batch_id "
        " WHERE b.watch_id = w.id AND d.status = 'sent') AS last_sent_at "
        "FROM watches w ORDER BY w.name"
    )
    return [_decoded(row) for row in rows]


def remove_watch(db: sqlite_utils.Database, name: str) -> bool:
    """Remove the watch and its matches; its undelivered messages are cancelled (kept, marked so)."""
    with transaction(db) as conn:
        row = conn.execute("SELECT id FROM watches WHERE name = ?", [name]).fetchone()
        if row is None:
            return False
        conn.execute(
            "UPDATE watch_deliveries SET status = 'cancelled' WHERE status = 'pending' "
            "AND batch_id IN (SELECT id FROM watch_batches WHERE watch_id = ?)",
            [row[0]],
        )
        conn.execute("DELETE FROM watch_matches WHERE watch_id = ?", [row[0]])
        conn.execute("DELETE FROM watches WHERE id = ?", [row[0]])
    return True


def config_watch_names(db: sqlite_utils.Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT name FROM watches WHERE origin = 'config' ORDER BY name")]


def newest_article_id(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT COALESCE(max(id), 0) FROM articles").fetchone()[0])


def record_matches(
    conn: sqlite3.Connection, watch_id: int, seen_through: int, through: int, article_ids: list[int], now: str
) -> list[int] | None:
    """Inside the caller's transaction: record the watch's matches among the articles above seen_through up
    to through, and move its mark. Returns the ids newly matched, or None when another process moved the
    mark first (it matched these articles; nothing is recorded twice)."""
    moved = conn.execute(
        "UPDATE watches SET matched_through = ?, last_matched_at = ? WHERE id = ? AND matched_through = ?",
        [through, now, watch_id, seen_through],
    ).rowcount
    if not moved:
        return None
    added = []
    for article_id in article_ids:
        inserted = conn.execute(
            "INSERT OR IGNORE INTO watch_matches (watch_id, article_id, matched_at) VALUES (?, ?, ?)",
            [watch_id, article_id, now],
        ).rowcount
        if inserted:
            added.append(article_id)
    return added


def unbatched_matches(conn: sqlite3.Connection, watch_id: int) -> list[int]:
    """Matched articles not yet in any message (a daily watch's matches since its last one), oldest first."""
    rows = conn.execute(
        "SELECT article_id FROM watch_matches WHERE watch_id = ? AND batch_id IS NULL ORDER BY article_id",
        [watch_id],
    )
    return [row[0] for row in rows]


def assign_batch(conn: sqlite3.Connection, watch_id: int, article_ids: list[int], batch_id: int) -> None:
    conn.executemany(
        "UPDATE watch_matches SET batch_id = ? WHERE watch_id = ? AND article_id = ?",
        [(batch_id, watch_id, article_id) for article_id in article_ids],
    )


def matched_ids(db: sqlite_utils.Database, watch_id: int, limit: int | None = None) -> list[int]:
    """The watch's matched article ids, newest stored first."""
    sql = "SELECT article_id FROM watch_matches WHERE watch_id = ? ORDER BY article_id DESC"
    params: list[Any] = [watch_id]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [row[0] for row in db.execute(sql, params)]


def start_after(db: sqlite_utils.Database, name: str, article_id: int) -> None:
    """The watch looks only at articles stored after this one (`watch add --from-now`)."""
    with transaction(db) as conn:
        conn.execute("UPDATE watches SET matched_through = ? WHERE name = ?", [article_id, name])
