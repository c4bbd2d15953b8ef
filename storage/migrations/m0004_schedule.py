"""Migration 0004_schedule."""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # When each scheduled job (a source's crawl, the digest) last ran: `run-due` and the daemon resume from it.
    db.table("schedule_state").create({"job": str, "last_run_at": str, "last_status": str}, pk="job")
