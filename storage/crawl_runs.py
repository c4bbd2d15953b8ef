"""crawl_runs and crawl_errors: one row per crawl of a source, one per URL that failed in it."""

from __future__ import annotations

import os
from typing import Any

import sqlite_utils

from storage.database import transaction

COUNTERS = (
    "pages_fetched",
    "items_new",
    "items_updated",
    "items_unchanged",
    "items_dropped",
    "errors",
    "entries_found",
)
# Counters that stay NULL when nothing was measured (entries_found: no document was read).
NULLABLE = ("entries_found",)
STATUSES = ("running", "ok", "failed", "timed_out", "cancelled")
MAX_MESSAGE_CHARS = 2000


def start_run(db: sqlite_utils.Database, source: str, started_at: str) -> int:
    """Open a run for source; returns its id."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO crawl_runs (source, started_at, status, pid) VALUES (?, ?, 'running', ?)",
            [source, started_at, os.getpid()],
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def record_error(
    db: sqlite_utils.Database, run_id: int, source: str, url: str | None, kind: str, message: str, at: str
) -> None:
    """Remember one failed URL (or a failure of the whole source when url is None)."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO crawl_errors (run_id, source, url, kind, message, at) VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, source, url, kind, message[:MAX_MESSAGE_CHARS], at],
        )


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str, finished_at: str, counts: dict[str, int | None]
) -> None:
    """Close a run with its status and counters."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    values = {
        name: None if counts.get(name) is None and name in NULLABLE else int(counts.get(name) or 0) for name in COUNTERS
    }
    with transaction(db) as conn:
        assignments = ", ".join(f"{name} = ?" for name in values)
        conn.execute(
            f"UPDATE crawl_runs SET status = ?, finished_at = ?, {assignments} WHERE id = ?",
            [status, finished_at, *values.values(), run_id],
        )


def record_stopped_run(
    db: sqlite_utils.Database, source: str, pid: int, started_at: str, finished_at: str, status: str
) -> None:
    """A run of a crawl process stopped before it could record one itself."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO crawl_runs (source, started_at, finished_at, status, pid) VALUES (?, ?, ?, ?, ?)",
            [source, started_at, finished_at, status, pid],
        )


def get_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM crawl_runs WHERE id = ?", [run_id]))
    return rows[0] if rows else None


def errors_for_run(db: sqlite_utils.Database, run_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM crawl_errors WHERE run_id = ? ORDER BY id", [run_id]))
