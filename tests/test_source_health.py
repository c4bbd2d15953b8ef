"""Source health: when a source counts as failing, silent, overdue or fine."""

from __future__ import annotations

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
