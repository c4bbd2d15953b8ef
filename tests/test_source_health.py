"""Source health: when a source counts as failing, silent, overdue or fine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chipwatch.reports.health import assess, expected_period
from pipeline.dates import to_utc_iso
from spiders.sources import Source

NOW = datetime(2025, 12, 10, 12, 0, tzinfo=UTC)
HOURLY = Source(name="s", kind="feed", url="https://example.org/feed", schedule="0 * * * *", expect_items_days=2)


def ago(**delta) -> str:
    return to_utc_iso(NOW - timedelta(**delta))


def row(**values):
    base = {
        "runs": 10,
        "last_run_at": ago(minutes=30),
        "last_success_at": ago(minutes=30),
        "consecutive_failures": 0,
        "last_new_item_at": ago(hours=3),
        "last_new": 2,
        "items_per_run": 1.5,
    }
    return {**base, **values}


def test_the_expected_period_comes_from_the_cron_schedule():
    assert expected_period(HOURLY, "UTC", NOW) == timedelta(hours=1)
    daily = Source(name="d", kind="feed", url="https://example.org/f", schedule="0 6 * * *")
    assert expected_period(daily, "UTC", NOW) == timedelta(days=1)


def test_a_healthy_source_is_ok():
    assert assess(HOURLY, row(), timedelta(hours=1), NOW).status == "ok"


def test_one_failure_within_the_grace_is_not_yet_failing_but_a_long_run_of_them_is():
    recent = row(consecutive_failures=1, last_success_at=ago(minutes=70))
    assert assess(HOURLY, recent, timedelta(hours=1), NOW).status == "ok"
    long = row(consecutive_failures=5, last_success_at=ago(hours=5), last_error="http: HTTP 503")
    health = assess(HOURLY, long, timedelta(hours=1), NOW)
    assert health.status == "failing" and "5 failed runs" in health.reason and health.last_error == "http: HTTP 503"
    never = row(consecutive_failures=1, last_success_at=None)
    assert assess(HOURLY, never, timedelta(hours=1), NOW).status == "failing"


def test_a_source_that_finds_nothing_new_for_too_long_is_silent():
    quiet = row(last_new_item_at=ago(days=3))
    health = assess(HOURLY, quiet, timedelta(hours=1), NOW)
    assert health.status == "silent" and "expected within 2 days" in health.reason
    assert assess(HOURLY, row(last_new_item_at=ago(days=1)), timedelta(hours=1), NOW).status == "ok"


def test_a_source_whose_runs_stopped_is_overdue_and_one_never_run_says_so():
    assert assess(HOURLY, row(last_run_at=ago(hours=5)), timedelta(hours=1), NOW).status == "overdue"
    assert assess(HOURLY, None, timedelta(hours=1), NOW).status == "never-run"
    off = Source(name="o", kind="feed", url="https://example.org/f", enabled=False)
    assert assess(off, row(), timedelta(hours=1), NOW).status == "disabled"


def _daily(counts: list[int]) -> dict[str, int]:
    """New items per day, oldest first, ending today."""
    return {(NOW - timedelta(days=len(counts) - 1 - n)).strftime("%Y-%m-%d"): c for n, c in enumerate(counts)}


def test_a_source_far_below_its_own_rate_is_declining_before_it_goes_silent():
    from chipwatch.reports.health import judge_rate

    usual = [9, 11, 10, 12, 8, 10, 11, 9, 10, 12, 10, 9, 11, 10]
    health = assess(HOURLY, row(), timedelta(hours=1), NOW)
    judge_rate(health, _daily([*usual, 1, 0, 1]), NOW)
    assert health.status == "declining" and "usually 10.1" in health.reason
    assert health.usual_per_day == 10.1 and health.recent_per_day == 0.7
    # The same history at its usual rate, a noisy source within its spread, or too little history: fine.
    for counts in ([*usual, 10, 9, 11], [0, 20, 2, 18, 1, 19, 0, 22, 3, 17, 1, 20, 4, 5, 6], [10] * 5 + [0, 0, 0]):
        health = assess(HOURLY, row(), timedelta(hours=1), NOW)
        judge_rate(health, _daily(counts), NOW)
        assert health.status == "ok", counts
    # A source already failing keeps that status (the reason it stopped finding items).
    failing = assess(HOURLY, row(consecutive_failures=5, last_success_at=ago(days=2)), timedelta(hours=1), NOW)
    judge_rate(failing, _daily([*usual, 0, 0, 0]), NOW)
    assert failing.status == "failing"


def test_declining_sources_reach_sources_status_and_the_digest_footer(tmp_path):
    """Runs recorded in a real database: the source is flagged by `sources` (exit 2), named in `status` and
    in the digest's footer, in both parts."""
    from chipwatch.config import Reader, load_options
    from chipwatch.digest.render import render
    from chipwatch.digest.run import build
    from storage import opened
    from storage.sources import sync_sources
    from tests.helpers import clean_env, run_chipwatch

    db_path = tmp_path / "db.sqlite"
    now = datetime.now(UTC)
    with opened(db_path) as db:
        sync_sources(db, [Source(name="wire-x", kind="feed", url="https://x.example/feed").row()], to_utc_iso(now))
        for days_ago in range(20, -1, -1):
            started = to_utc_iso(now - timedelta(days=days_ago, minutes=5))
            new = 1 if days_ago < 3 else 10 + days_ago % 3
            db.execute(
                "INSERT INTO crawl_runs (source, started_at, finished_at, status, items_new) VALUES (?, ?, ?, 'ok', ?)",
                ["wire-x", started, started, new],
            )
        db.conn.commit()
    env = clean_env(CHIPWATCH_DB=str(db_path))
    listed = run_chipwatch("sources", "--format", "json", env=env)
    assert listed.returncode == 2
    assert [row["status"] for row in json.loads(listed.stdout)] == ["declining"]
    assert "wire-x: declining" in run_chipwatch("status", env=env).stdout.decode()
    options = load_options(env={"CHIPWATCH_DB": str(db_path)})
    with opened(db_path, readonly=True) as db:
        digest = build(
            options, db, Reader("a@example.org"), now.date(), (to_utc_iso(now - timedelta(days=1)), to_utc_iso(now))
        )
    html, text = render(digest, options.digest)
    assert "Sources needing attention" in html and "wire-x" in html and "wire-x — declining" in text


def test_a_source_whose_documents_list_far_fewer_entries_than_usual_is_declining():
    from chipwatch.reports.health import judge_entries

    health = assess(HOURLY, row(), timedelta(hours=1), NOW)
    judge_entries(health, [20, 21, 19, 20, 22, 20, 18, 20, 21, 20, 2, 3, 2])
    assert health.status == "declining" and "list 3 entries a run now, usually 20" in health.reason
    steady = assess(HOURLY, row(), timedelta(hours=1), NOW)
    judge_entries(steady, [20, 21, 19, 20, 22, 20, 18, 20, 21, 20, 19, 3, 20])  # one odd run is not a trend
    assert steady.status == "ok"
