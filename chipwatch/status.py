"""`chipwatch status`: per source the last run, its result and the next run; failures in the last day; the
digest's last send; the database's size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chipwatch.config import Options
from pipeline.dates import to_utc_iso
from spiders.sources import cron_trigger, load_sources
from storage import open_database


def status_report(options: Options, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    sources = load_sources(options.crawl.sources)
    db = open_database(options.storage.db, readonly=True)
    try:
        since = to_utc_iso(now - timedelta(hours=24))
        rows = []
        for source in sources:
            last = db.execute(
                "SELECT started_at, finished_at, status, pages_fetched, items_new, errors FROM crawl_runs "
                "WHERE source = ? ORDER BY id DESC LIMIT 1",
                [source.name],
            ).fetchone()
            failures = db.execute(
                "SELECT count(*) FROM crawl_runs WHERE source = ? AND started_at >= ? AND status != 'ok' "
                "AND status != 'running'",
                [source.name, since],
            ).fetchone()[0]
            upcoming = cron_trigger(source.schedule, options.daemon.timezone).get_next_fire_time(None, now)
            rows.append(
                {
                    "source": source.name,
                    "enabled": source.enabled,
                    "schedule": source.schedule,
                    "last_started": last[0] if last else None,
                    "last_status": last[2] if last else None,
                    "last_new": last[4] if last else None,
                    "last_errors": last[5] if last else None,
                    "next_run": upcoming.isoformat() if upcoming and source.enabled else None,
                    "failures_24h": failures,
                }
            )
        digest = _last_digest(db)
    finally:
        db.close()
    path = Path(options.storage.db)
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    return {"sources": rows, "digest_last_sent": digest, "db_path": str(path), "db_bytes": size}


def _last_digest(db: Any) -> str | None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "digests" in tables:
        row = db.execute("SELECT max(sent_at) FROM digests WHERE status = 'sent'").fetchone()
        if row and row[0]:
            return row[0]
    if "schedule_state" in tables:
        row = db.execute("SELECT last_run_at FROM schedule_state WHERE job = 'digest'").fetchone()
        return row[0] if row else None
    return None


def format_status(report: dict[str, Any]) -> str:
    lines = [f"{'source':<28} {'last run':<17} {'result':<10} {'new':>4} {'err':>4} {'fail 24h':>8}  next run"]
    for row in report["sources"]:
        last = (row["last_started"] or "never")[:16].replace("T", " ")
        nxt = (row["next_run"] or ("disabled" if not row["enabled"] else "-"))[:16].replace("T", " ")
        new = "-" if row["last_new"] is None else row["last_new"]
        errors = "-" if row["last_errors"] is None else row["last_errors"]
        lines.append(
            f"{row['source']:<28} {last:<17} {row['last_status'] or '-':<10} {new:>4} {errors:>4} "
            f"{row['failures_24h']:>8}  {nxt}"
        )
    lines.append("")
    lines.append(f"digest last sent: {report['digest_last_sent'] or 'never'}")
    lines.append(f"database: {report['db_path']} ({report['db_bytes'] / 1_000_000:.1f} MB)")
    return "\n".join(lines) + "\n"
