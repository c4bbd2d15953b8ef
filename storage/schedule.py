"""schedule_state, and the crawl-run bookkeeping the daemon does for crawls it had to stop."""

from __future__ import annotations

import os

import sqlite_utils

from storage.database import transaction


def last_run(db: sqlite_utils.Database, job: str) -> str | None:
    row = db.execute("SELECT last_run_at FROM schedule_state WHERE job = ?", [job]).fetchone()
    return row[0] if row else None


def record_job(db: sqlite_utils.Database, job: str, at: str, status: str) -> None:
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO schedule_state (job, last_run_at, last_status) VALUES (?, ?, ?) "
            "ON CONFLICT(job) DO UPDATE SET last_run_at = excluded.last_run_at, last_status = excluded.last_status",
            [job, at, status],
        )


def settle_runs(db: sqlite_utils.Database, pid: int, status: str, at: str, only_unfinished: bool) -> int:
    """Mark the crawl runs of a stopped crawl process with the status the daemon knows better."""
    condition = " AND status = 'running'" if only_unfinished else ""
    with transaction(db) as conn:
        cursor = conn.execute(
            f"UPDATE crawl_runs SET status = ?, finished_at = COALESCE(finished_at, ?) WHERE pid = ?{condition}",
            [status, at, pid],
        )
        return cursor.rowcount


def settle_orphans(db: sqlite_utils.Database, at: str, source: str | None = None) -> int:
    """Runs still marked running whose process is gone (a daemon or machine killed mid-crawl) failed."""
    sql, params = "SELECT id, pid FROM crawl_runs WHERE status = 'running'", []
    if source is not None:
        sql, params = sql + " AND source = ?", [source]
    rows = db.execute(sql, params).fetchall()
    dead = [run_id for run_id, pid in rows if not _alive(pid)]
    if dead:
        with transaction(db) as conn:
            conn.executemany(
                "UPDATE crawl_runs SET status = 'failed', finished_at = ? WHERE id = ?",
                [(at, run_id) for run_id in dead],
            )
            conn.executemany(
                "INSERT INTO crawl_errors (run_id, source, url, kind, message, at) "
                "SELECT id, source, NULL, 'interrupted', 'the crawl process ended without finishing its run', ? "
                "FROM crawl_runs WHERE id = ?",
                [(at, run_id) for run_id in dead],
            )
    return len(dead)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
