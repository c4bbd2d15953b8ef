"""`chipwatch status`: per source the last run, its result and the next run; failures in the last day; the
digest's last send; the database's size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chipwatch.config import Options
from pipeline.dates import to_utc_iso
from spiders.sources import cron_trigger, load_sources
from storage import opened
from storage.digests import last_digest_sent
from storage.sources import health_rows


def status_report(options: Options, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    sources = load_sources(options.crawl.sources)
    with opened(options.storage.db, readonly=True) as db:
        health = health_rows(db, failures_since=to_utc_iso(now - timedelta(hours=24)))
        digest = last_digest_sent(db)
    rows = []
    for source in sources:
        entry = health.get(source.name, {})
        upcoming = cron_trigger(source.schedule, options.daemon.timezone).get_next_fire_time(None, now)
        rows.append(
            {
                "source": source.name,
                "enabled": source.enabled,
                "schedule": source.schedule,
                "last_started": entry.get("last_run_at"),
                "last_status": entry.get("last_status"),
                "last_new": entry.get("last_new"),
                "last_errors": entry.get("last_errors"),
                "next_run": upcoming.isoformat() if upcoming and source.enabled else None,
                "failures_24h": entry.get("failures", 0),
            }
        )
    path = Path(options.storage.db)
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    return {"sources": rows, "digest_last_sent": digest, "db_path": str(path), "db_bytes": size}


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
