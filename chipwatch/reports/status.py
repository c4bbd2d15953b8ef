"""`chipwatch status`: per source the last run, its result and (while a daemon runs) the next run; failures in
the last day; whether a daemon holds the database; the digest's last send; the database's size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from chipwatch.crawl.locks import DaemonHolder
from chipwatch.reports.health import source_health, stored_source
from chipwatch.reports.watches import format_delivery_problems
from pipeline.dates import to_utc_iso
from spiders.sources import cron_trigger
from storage.deliveries import delivery_problems
from storage.digests import last_digest_sent
from storage.sources import health_rows, known_sources


def status_report(
    db: Database, db_path: Path, timezone: str, daemon: DaemonHolder | None, now: datetime | None = None
) -> dict[str, Any]:
    """Per source the database knows: last run, result, failures in the last day and, while a daemon holds
    the database, the next run; whether a daemon runs; the digest's last send; the database's size."""
    now = now or datetime.now(UTC)
    health = health_rows(db, failures_since=to_utc_iso(now - timedelta(hours=24)))
    judged = {h.name: h for h in source_health(db, timezone, now)}
    rows = []
    for known in known_sources(db):
        source = stored_source(known)
        entry = health.get(source.name, {})
        upcoming = None
        if daemon is not None and source.enabled:
            upcoming = cron_trigger(source.schedule, timezone).get_next_fire_time(None, now)
        rows.append(
            {
                "source": source.name,
                "enabled": source.enabled,
                "schedule": source.schedule,
                "last_started": entry.get("last_run_at"),
                "last_status": entry.get("last_status"),
                "last_new": entry.get("last_new"),
                "last_errors": entry.get("last_errors"),
                "next_run": upcoming.isoformat() if upcoming else None,
                "failures_24h": entry.get("failures", 0),
                "health": judged[source.name].status if source.name in judged else None,
                "health_reason": judged[source.name].reason if source.name in judged else None,
            }
        )
    size = sum(p.stat().st_size for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")) if p.exists())
    return {
        "sources": rows,
        "daemon": {"pid": daemon.pid, "since": daemon.since} if daemon else None,
        "digest_last_sent": last_digest_sent(db),
        # Watch messages waiting after a failed delivery, one entry per watch and target.
        "deliveries_failing": delivery_problems(db),
        "db_path": str(db_path),
        "db_bytes": size,
    }


def format_status(report: dict[str, Any]) -> str:
    header = f"{'source':<28} {'last run':<17} {'result':<10} {'new':>4} {'err':>4} {'fail 24h':>8}  "
    lines = [header + ("next run" if report["daemon"] else "schedule")]
    for row in report["sources"]:
        last = (row["last_started"] or "never")[:16].replace("T", " ")
        nxt = (row["next_run"] or "")[:16].replace("T", " ") if report["daemon"] else row["schedule"] or "-"
        if not row["enabled"]:
            nxt = "disabled"
        new = "-" if row["last_new"] is None else row["last_new"]
        errors = "-" if row["last_errors"] is None else row["last_errors"]
        lines.append(
            f"{row['source']:<28} {last:<17} {row['last_status'] or '-':<10} {new:>4} {errors:>4} "
            f"{row['failures_24h']:>8}  {nxt}"
        )
    if not report["sources"]:
        lines.append("(no sources here yet: the database learns its sources from a crawl)")
    for row in report["sources"]:
        if row.get("health") in ("failing", "silent", "overdue", "declining", "gave-up"):
            lines.append(f"  ! {row['source']}: {row['health']} — {row['health_reason']}")
    lines.append("")
    daemon = report["daemon"]
    if daemon:
        lines.append(f"daemon: running, PID {daemon['pid']} since {daemon['since'][:16].replace('T', ' ')}")
    else:
        lines.append("daemon: not running on this database (next runs are shown while one runs)")
    lines.append(f"digest last sent: {report['digest_last_sent'] or 'never'}")
    if report["deliveries_failing"]:
        lines.append("watch deliveries failing (kept, retried on later runs):")
        lines.extend(format_delivery_problems(report["deliveries_failing"]))
    lines.append(f"database: {report['db_path']} ({report['db_bytes'] / 1_000_000:.1f} MB)")
    lines.extend(format_cluster(report.get("cluster"), report.get("workers") or []))
    return "\n".join(lines) + "\n"


def format_cluster(cluster: dict[str, Any] | None, workers: list[dict[str, Any]]) -> list[str]:
    """The cluster's lines of `status`: its Redis, queue lengths, and one line per worker or writer."""
    if cluster is None:
        return []
    lines = ["", f"cluster: {cluster['redis']}"]
    if cluster.get("error"):
        return [*lines, f"  ! {cluster['error']}"]
    queues = cluster.get("queues", {})
    lines.append(
        f"  crawls waiting {queues.get('crawls_waiting', 0)}, running {queues.get('crawls_taken', 0)}; "
        f"page requests queued {queues.get('page_requests', 0)}, in flight {queues.get('page_requests_taken', 0)}; "
        f"results to write {queues.get('results_stream', 0)} ({queues.get('results_unacknowledged', 0)} being written)"
    )
    if not workers:
        lines.append("  no workers seen: start `chipwatch worker` on any machine that reaches this Redis")
    for member in workers:
        seen = member.get("seconds_since_heartbeat")
        state = member.get("state", "?") if member.get("alive") else f"gone ({member.get('state', '?')})"
        heard = f"{seen:.0f}s ago" if isinstance(seen, int | float) else "never"
        if member.get("role") == "writer":
            detail = f"{member.get('entries_applied', 0)} results written"
        else:
            detail = f"pages {member.get('pages_fetched', 0)}, errors {member.get('errors', 0)}"
        lines.append(
            f"  {member.get('role', '?'):<7} {member.get('name', '?'):<36} {state:<14} heartbeat {heard:<9} {detail}"
        )
    return lines
