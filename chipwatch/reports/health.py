"""`chipwatch sources`: each source's health — when it last worked, how often it fails, how much it finds,
which entries it gave up on — flagged when it has failed or stayed silent for longer than it should.

Computed once, from the database alone (the sources it knows: configured when last crawled, or crawled),
so it works from any directory and on a read-only copy; `status` reads the same rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from pipeline.dates import parse_date
from spiders.sources import Source, cron_trigger
from storage.crawl_state import failed_entry_counts
from storage.sources import entries_by_run, health_rows, known_sources, new_items_by_day

# A source may miss this many scheduled runs (a busy machine, a short outage) before it counts as failing.
MISSED_RUNS_ALLOWED = 2
# A source's own rate of new items: the last RECENT_DAYS against the days before them within RATE_DAYS; flagged
# "declining" when the recent rate falls below the usual one minus DEVIATIONS standard deviations (and under
# half of it), once there are MIN_HISTORY_DAYS with a run to judge from and it usually finds MIN_PER_DAY.
RATE_DAYS, RECENT_DAYS, MIN_HISTORY_DAYS, DEVIATIONS, MIN_PER_DAY = 30, 3, 10, 2.0, 2.0


@dataclass
class SourceHealth:
    name: str
    kind: str
    enabled: bool
    schedule: str
    status: str  # ok | failing | silent | overdue | never-run | declining | gave-up | disabled
    reason: str
    runs: int = 0
    last_run_at: str | None = None
    last_status: str | None = None
    last_success_at: str | None = None
    consecutive_failures: int = 0
    last_new: int | None = None
    items_per_run: float | None = None
    last_new_item_at: str | None = None
    last_error: str | None = None
    usual_per_day: float | None = None  # new items a day over the last 30 days (days with a run), before the last 3
    recent_per_day: float | None = None  # ... and over the last 3
    retrying: int = 0  # entries whose page failed, waiting for another try
    given_up: int = 0  # entries tried as often as allowed: shown, never silently forgotten

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_period(source: Source, timezone: str, now: datetime) -> timedelta:
    """How long the schedule leaves between two runs (from the next two fire times)."""
    trigger = cron_trigger(source.schedule, timezone)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first) if first and second else timedelta(days=1)


def assess(source: Source, row: dict[str, Any] | None, period: timedelta, now: datetime) -> SourceHealth:
    row = row or {}
    health = SourceHealth(
        name=source.name,
        kind=source.kind,
        enabled=source.enabled,
        schedule=source.schedule,
        status="ok",
        reason="",
        runs=row.get("runs") or 0,
        last_run_at=row.get("last_run_at"),
        last_status=row.get("last_status"),
        last_success_at=row.get("last_success_at"),
        consecutive_failures=row.get("consecutive_failures") or 0,
        last_new=row.get("last_new"),
        items_per_run=row.get("items_per_run"),
        last_new_item_at=row.get("last_new_item_at"),
        last_error=row.get("last_error") if row.get("consecutive_failures") else None,
    )
    if not source.enabled:
        health.status, health.reason = "disabled", "disabled in the sources file"
        return health
    if not health.runs:
        health.status, health.reason = "never-run", "no crawl yet"
        return health
    grace = period * MISSED_RUNS_ALLOWED
    last_success = parse_date(health.last_success_at) if health.last_success_at else None
    last_run = parse_date(health.last_run_at)
    if health.consecutive_failures and (last_success is None or now - last_success > grace):
        since = f"since {health.last_success_at}" if last_success else "and has never succeeded"
        health.status = "failing"
        health.reason = f"{health.consecutive_failures} failed runs in a row, {since}"
        return health
    if last_run is not None and now - last_run > grace + period:
        health.status, health.reason = "overdue", f"last run {health.last_run_at}; is the daemon running?"
        return health
    quiet_since = parse_date(health.last_new_item_at) if health.last_new_item_at else None
    silent_limit = timedelta(days=source.expect_items_days)
    first_seen = quiet_since or _first_run(health, now)
    if now - first_seen > silent_limit:
        when = f"since {health.last_new_item_at}" if quiet_since else "ever"
        health.status = "silent"
        health.reason = f"no new item {when} (expected within {source.expect_items_days:g} days)"
    return health


def _first_run(health: SourceHealth, now: datetime) -> datetime:
    # Without any new item, silence is counted from the first known run; runs only tell us the last one.
    return parse_date(health.last_success_at or health.last_run_at) or now


PROBLEMS = ("failing", "silent", "overdue", "never-run")


def stored_source(row: dict[str, Any]) -> Source:
    """A source as the database keeps it (enough to judge its health)."""
    return Source(
        name=row["name"],
        kind=row.get("kind") or "?",
        url=row.get("url") or "",
        schedule=row.get("schedule") or "0 * * * *",
        timezone=row.get("timezone") or "UTC",
        enabled=bool(row.get("enabled", 1)),
        expect_items_days=row.get("expect_items_days") or 7.0,
    )


def source_health(db: Database, timezone: str, now: datetime | None = None) -> list[SourceHealth]:
    """Every source the database knows, judged."""
    now = now or datetime.now(UTC)
    rows = health_rows(db)
    failed = failed_entry_counts(db)
    daily = new_items_by_day(db, (now - timedelta(days=RATE_DAYS)).strftime("%Y-%m-%d"))
    listed = entries_by_run(db, (now - timedelta(days=RATE_DAYS)).strftime("%Y-%m-%d"))
    report = []
    for row in known_sources(db):
        source = stored_source(row)
        health = assess(source, rows.get(source.name), expected_period(source, timezone, now), now)
        health.retrying, health.given_up = failed.get(source.name, (0, 0))
        judge_rate(health, daily.get(source.name, {}), now)
        judge_entries(health, listed.get(source.name, []))
        if health.given_up and health.status == "ok":
            health.status = "gave-up"
            health.reason = f"{health.given_up} entries could not be fetched after every retry"
        report.append(health)
    return report


def judge_rate(health: SourceHealth, per_day: dict[str, int], now: datetime) -> None:
    """Flag a working source whose new items fell far below its own usual rate: before it goes silent, a
    redesign that broke a selector or a feed that stopped carrying most stories shows here."""
    cutoff = (now - timedelta(days=RECENT_DAYS)).strftime("%Y-%m-%d")
    history = [count for day, count in per_day.items() if day <= cutoff]
    recent = [count for day, count in per_day.items() if day > cutoff]
    if len(history) < MIN_HISTORY_DAYS or not recent:
        return
    mean = sum(history) / len(history)
    spread = (sum((count - mean) ** 2 for count in history) / len(history)) ** 0.5
    now_rate = sum(recent) / len(recent)
    health.usual_per_day, health.recent_per_day = round(mean, 1), round(now_rate, 1)
    if health.status == "ok" and mean >= MIN_PER_DAY and now_rate < min(mean - DEVIATIONS * spread, mean / 2):
        health.status = "declining"
        health.reason = (
            f"{now_rate:g} new items a day over the last {RECENT_DAYS} days, usually {mean:.1f} ± {spread:.1f}: "
            "a redesign that broke a selector, or a feed carrying fewer stories? (`chipwatch sources check`)"
        )


def judge_entries(health: SourceHealth, per_run: list[int]) -> None:
    """Flag a working source whose documents list far fewer entries than they usually do (a listing whose
    selector now matches a few stray links, a feed cut to a stub): the last RECENT_DAYS runs against the
    runs before them."""
    history, recent = per_run[:-RECENT_DAYS], per_run[-RECENT_DAYS:]
    if len(history) < MIN_HISTORY_DAYS or len(recent) < RECENT_DAYS or health.status != "ok":
        return
    mean = sum(history) / len(history)
    spread = (sum((count - mean) ** 2 for count in history) / len(history)) ** 0.5
    if mean >= 3 and max(recent) < min(mean - DEVIATIONS * spread, mean / 2):
        health.status = "declining"
        health.reason = (
            f"its documents list {max(recent)} entries a run now, usually {mean:.0f} ± {spread:.0f}: a selector or "
            "feed that broke? (`chipwatch sources check`)"
        )


def is_problem(health: SourceHealth) -> bool:
    return health.status in (*PROBLEMS, "gave-up", "declining")


def format_health(report: list[SourceHealth]) -> str:
    header = (
        f"{'source':<28} {'kind':<16} {'status':<10} {'last success':<17} {'fails':>5} "
        f"{'new':>4} {'per run':>7}  last new item"
    )
    lines = [header]
    for h in report:
        per_run = "-" if h.items_per_run is None else f"{h.items_per_run:g}"
        lines.append(
            f"{h.name:<28} {h.kind:<16} {h.status:<10} {_short(h.last_success_at):<17} {h.consecutive_failures:>5} "
            f"{'-' if h.last_new is None else h.last_new:>4} {per_run:>7}  {_short(h.last_new_item_at)}"
        )
    if not report:
        return "no sources here yet: the database learns its sources from a crawl\n"
    flagged = [h for h in report if h.status not in ("ok", "disabled") or h.given_up]
    if flagged:
        lines.append("")
        for h in flagged:
            lines.append(f"{h.name}: {h.status} — {h.reason}")
            if h.last_error:
                lines.append(f"    last error: {h.last_error}")
            if h.given_up:
                lines.append(f"    {h.given_up} entries given up after every retry (see the failed_entries table)")
            if h.retrying:
                lines.append(f"    {h.retrying} entries waiting for another try")
    return "\n".join(lines) + "\n"


def _short(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "never"
