"""The sources table: the configured sources as last seen, and their crawl health."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.database import transaction


def sync_sources(db: sqlite_utils.Database, sources: list[dict[str, Any]], now: str) -> None:
    """Upsert the configured sources, keeping their health columns."""
    with transaction(db) as conn:
        for source in sources:
            conn.execute(
                "INSERT INTO sources (name, kind, url, lang, schedule, timezone, enabled, expect_items_days, "
                "updated_at) VALUES (:name, :kind, :url, :lang, :schedule, :timezone, :enabled, :expect_items_days, "
                ":now) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, url = excluded.url, "
                "lang = excluded.lang, schedule = excluded.schedule, timezone = excluded.timezone, "
                "enabled = excluded.enabled, expect_items_days = excluded.expect_items_days, "
                "updated_at = excluded.updated_at",
                {
                    "expect_items_days": None,
                    **source,
                    "enabled": int(bool(source.get("enabled", True))),
                    "now": now,
                },
            )


def record_outcome(db: sqlite_utils.Database, name: str, succeeded: bool, now: str, error: str | None = None) -> None:
    """Update a source's health after a run."""
    with transaction(db) as conn:
        if succeeded:
            conn.execute("UPDATE sources SET last_success_at = ?, consecutive_failures = 0 WHERE name = ?", [now, name])
        else:
            conn.execute(
                "UPDATE sources SET consecutive_failures = consecutive_failures + 1, last_failure_at = ?, "
                "last_error = ? WHERE name = ?",
                [now, error, name],
            )


def get_validators(db: sqlite_utils.Database, name: str) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified the source's server last sent, exactly as sent."""
    row = db.execute("SELECT etag, last_modified FROM sources WHERE name = ?", [name]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_validators(db: sqlite_utils.Database, name: str, etag: str | None, last_modified: str | None) -> None:
    with transaction(db) as conn:
        conn.execute("UPDATE sources SET etag = ?, last_modified = ? WHERE name = ?", [etag, last_modified, name])


def health_rows(
    db: sqlite_utils.Database, recent_runs: int = 10, failures_since: str | None = None
) -> dict[str, dict[str, Any]]:
    """Per source: its health columns and what its runs say (last run, items per run, last new item, and
    the failed runs started since failures_since)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in db.query("SELECT name, last_success_at, consecutive_failures, last_failure_at, last_error FROM sources"):
        rows[row["name"]] = {**row, "runs": 0, "last_run_at": None, "last_status": None, "last_new": None}
    for row in db.query(
        "SELECT source, count(*) AS runs, max(started_at) AS last_run_at, "
        "max(CASE WHEN items_new > 0 THEN started_at END) AS last_new_item_at FROM crawl_runs GROUP BY source"
    ):
        rows.setdefault(row["source"], {"name": row["source"]}).update(row)
    for row in db.query(
        "SELECT source, count(*) AS failures FROM crawl_runs WHERE started_at >= ? "
        "AND status NOT IN ('ok', 'running', 'cancelled') GROUP BY source",
        [failures_since or ""],
    ):
        rows.setdefault(row["source"], {"name": row["source"]})["failures"] = row["failures"]
    for name, entry in rows.items():
        entry.setdefault("failures", 0)
        recent = db.execute(
            "SELECT status, items_new, errors FROM crawl_runs WHERE source = ? AND status != 'running' "
            "ORDER BY id DESC LIMIT ?",
            [name, recent_runs],
        ).fetchall()
        if recent:
            entry["last_status"], entry["last_new"], entry["last_errors"] = recent[0]
            entry["items_per_run"] = round(sum(r[1] for r in recent) / len(recent), 1)
    return rows


def known_sources(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every source the database knows (configured when last synced, or crawled), by name."""
    rows = {row["name"]: row for row in db.query("SELECT * FROM sources ORDER BY name")}
    for (name,) in db.execute("SELECT DISTINCT source FROM crawl_runs WHERE source NOT IN (SELECT name FROM sources)"):
        rows[name] = {"name": name, "kind": "?", "url": None, "schedule": None, "enabled": 1, "timezone": None}
    return [rows[name] for name in sorted(rows)]


def new_items_by_day(db: sqlite_utils.Database, since: str) -> dict[str, dict[str, int]]:
    """Per source, per UTC day with at least one successful run since `since`: the new items those runs
    stored (days without a run are missing, not zero: a machine that was off says nothing of the site)."""
    result: dict[str, dict[str, int]] = {}
    for source, day, new in db.execute(
        "SELECT source, substr(started_at, 1, 10), sum(items_new) FROM crawl_runs WHERE started_at >= ? "
        "AND status = 'ok' GROUP BY 1, 2",
        [since],
    ):
        result.setdefault(source, {})[day] = new or 0
    return result


def entries_by_run(db: sqlite_utils.Database, since: str) -> dict[str, list[int]]:
    """Per source, oldest first: the entries each finished run's documents listed since `since` (runs that
    read no document, such as a 304 Not Modified, are left out)."""
    result: dict[str, list[int]] = {}
    for source, found in db.execute(
        "SELECT source, entries_found FROM crawl_runs WHERE started_at >= ? AND status = 'ok' "
        "AND entries_found IS NOT NULL ORDER BY started_at, id",
        [since],
    ):
        result.setdefault(source, []).append(found)
    return result
