"""watch_batches and watch_deliveries: the messages watches send, and each one's delivery to each target.

A batch is one message's content (its payload, frozen when made, so a retry sends the same bytes); a
delivery is that message to one email address, webhook or reader's digest. A delivery is pending until the
target takes it (SMTP accepts it, the webhook answers 2xx, the digest goes out), then sent, never again.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from storage.database import transaction


def add_batch(
    conn: sqlite3.Connection,
    watch_id: int,
    watch: str,
    now: str,
    payload: dict[str, Any],
    more: int,
    targets: list[tuple[str, str]],
) -> int:
    """Inside the caller's transaction: one message and a pending delivery to each (channel, target)."""
    cursor = conn.execute(
        "INSERT INTO watch_batches (watch_id, watch, created_at, item_count, more_count, payload) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [watch_id, watch, now, len(payload["items"]), more, json.dumps(payload, ensure_ascii=False)],
    )
    batch_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT INTO watch_deliveries (batch_id, channel, target) VALUES (?, ?, ?)",
        [(batch_id, channel, target) for channel, target in targets],
    )
    return batch_id


def pending(db: sqlite_utils.Database, channels: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every pending delivery on these channels, oldest first, with its message."""
    marks = ", ".join("?" for _ in channels)
    rows = db.query(
        "SELECT d.*, b.watch, b.watch_id, b.payload, b.created_at AS batch_created_at, b.more_count "
        f"FROM watch_deliveries d JOIN watch_batches b ON b.id = d.batch_id "
        f"WHERE d.status = 'pending' AND d.channel IN ({marks}) ORDER BY d.id",
        list(channels),
    )
    return [_with_payload(row) for row in rows]


def pending_for_digest(db: sqlite_utils.Database, reader: str) -> list[dict[str, Any]]:
    """The daily watches' messages waiting for this reader's digest, oldest first."""
    rows = db.query(
        "SELECT d.*, b.watch, b.watch_id, b.payload, b.more_count FROM watch_deliveries d "
        "JOIN watch_batches b ON b.id = d.batch_id "
        "WHERE d.status = 'pending' AND d.channel = 'digest' AND d.target = ? ORDER BY d.id",
        [reader],
    )
    return [_with_payload(row) for row in rows]


def _with_payload(row: dict[str, Any]) -> dict[str, Any]:
    row["payload"] = json.loads(row["payload"])
    return row


def attempted(db: sqlite_utils.Database, delivery_id: int, now: str) -> None:
    """Recorded before each try: a try that never came back still counts."""
    with transaction(db) as conn:
        conn.execute(
            "UPDATE watch_deliveries SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ?",
            [now, delivery_id],
        )


def sent(db: sqlite_utils.Database, delivery_ids: list[int], now: str, how: str) -> None:
    with transaction(db) as conn:
        conn.executemany(
            "UPDATE watch_deliveries SET status = 'sent', sent_at = ?, how = ?, last_error = NULL, "
            "next_attempt_at = NULL WHERE id = ? AND status = 'pending'",
            [(now, how, delivery_id) for delivery_id in delivery_ids],
        )


def failed(db: sqlite_utils.Database, delivery_id: int, error: str, retry_at: str) -> None:
    """Kept pending, to be tried again from retry_at on."""
    with transaction(db) as conn:
        conn.execute(
            "UPDATE watch_deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'",
            [error[:500], retry_at, delivery_id],
        )


def delivery_problems(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Targets with pending deliveries that have failed at least once: what `status` shows."""
    return list(
        db.query(
            "SELECT d.channel, d.target, b.watch, count(*) AS pending, max(d.attempts) AS attempts, "
            "min(b.created_at) AS pending_since, max(d.last_attempt_at) AS last_attempt_at, "
            "(SELECT d2.last_error FROM watch_deliveries d2 WHERE d2.target = d.target AND d2.status = 'pending' "
            " AND d2.last_error IS NOT NULL ORDER BY d2.id LIMIT 1) AS last_error, "
            "min(d.next_attempt_at) AS next_attempt_at "
            "FROM watch_deliveries d JOIN watch_batches b ON b.id = d.batch_id "
            "WHERE d.status = 'pending' AND d.attempts > 0 GROUP BY d.channel, d.target, b.watch "
            "ORDER BY d.channel, d.target"
        )
    )


def delivered_article_ids(db: sqlite_utils.Database, watch_id: int) -> list[int]:
    """The article ids listed in the watch's messages that reached some target, in the order they were sent."""
    ids: list[int] = []
    for (payload,) in db.execute(
        "SELECT b.payload FROM watch_batches b WHERE b.watch_id = ? AND EXISTS "
        "(SELECT 1 FROM watch_deliveries d WHERE d.batch_id = b.id AND d.status = 'sent') ORDER BY b.id",
        [watch_id],
    ):
        ids.extend(item["id"] for item in json.loads(payload)["items"])
    return ids


def has_pending(db: sqlite_utils.Database, channels: tuple[str, ...]) -> bool:
    marks = ", ".join("?" for _ in channels)
    sql = f"SELECT 1 FROM watch_deliveries WHERE status = 'pending' AND channel IN ({marks}) LIMIT 1"
    return db.execute(sql, list(channels)).fetchone() is not None
