"""The daemon over real processes: schedules, time limits, signals, the lock, restarts, run-due, DST."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chipwatch.config import load_options
from chipwatch.daemon import digest_due
from tests.helpers import run_chipwatch, start_daemon, stop, wait_for

EVERY_2S = "*/2 * * * * *"


def write_setup(tmp_path: Path, base: str, sources: list[tuple[str, str, str]], **daemon: object) -> Path:
    lines = []
    for name, path, schedule in sources:
        lines += [
            "[[source]]",
            f'name = "{name}"',
            'kind = "feed"',
            f'url = "{base}{path}"',
            f'schedule = "{schedule}"',
            "",
        ]
    (tmp_path / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
    settings = {
        "timezone": "UTC",
        "digest_time": _not_now(),
        "crawl_timeout": 20,
        "grace": 3,
        "log_file": str(tmp_path / "daemon.log"),
        **daemon,
    }
    daemon_lines = [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items()]
    config = tmp_path / "chipwatch.toml"
    config.write_text(
        f'[storage]\ndb = "{tmp_path / "db.sqlite"}"\n[crawl]\nsources = "{tmp_path / "sources.toml"}"\n'
        "retries = 0\nautothrottle = false\n[daemon]\n" + "\n".join(daemon_lines).replace("'", '"') + "\n",
        encoding="utf-8",
    )
    return config


def _not_now() -> str:
    later = datetime.now(UTC) + timedelta(hours=6)
    return f"{later:%H}:00"


def runs(db: Path) -> list[tuple]:
    """The crawl runs so far (none while the daemon is still creating the database)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT source, status, pid FROM crawl_runs ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


@pytest.fixture
def slow_mirror(fresh_mirror):
    fresh_mirror.add_route("/slow/feed.xml", b"<rss/>", "application/rss+xml", delay=60)
    return fresh_mirror


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_sources_run_on_schedule_and_a_hanging_crawl_is_timed_out(tmp_path, slow_mirror):
    config = write_setup(
        tmp_path,
        slow_mirror.base_url,
        [("tech-daily", "/tech-daily/feed.xml", EVERY_2S), ("slow", "/slow/feed.xml", EVERY_2S)],
        crawl_timeout=10,
        grace=1,
    )
    daemon = start_daemon(config)
    db = tmp_path / "db.sqlite"
    try:
        assert wait_for(lambda: db.exists() and sum(r[0] == "tech-daily" and r[1] == "ok" for r in runs(db)) >= 3, 40)
        assert wait_for(lambda: any(r[0] == "slow" and r[1] == "timed_out" for r in runs(db)), 30)
    finally:
        code, err = stop(daemon)
    assert code == 0, err
    by_source = {}
    for source, status, _ in runs(db):
        by_source.setdefault(source, []).append(status)
    # the last one may have been stopped by the SIGTERM that ended the test
    assert set(by_source["tech-daily"][:-1]) == {"ok"} and by_source["tech-daily"][-1] in ("ok", "cancelled")
    assert "timed_out" in by_source["slow"]
    # at most one run per source at a time: while slow hung, its later triggers were coalesced, not stacked
    assert len(by_source["slow"]) <= 4
    log = (tmp_path / "daemon.log").read_text()
    assert "crawl tech-daily: ok" in log and "crawl slow: timed_out" in log


def test_a_second_daemon_refuses_and_names_the_first(tmp_path, fresh_mirror):
    config = write_setup(tmp_path, fresh_mirror.base_url, [("tech-daily", "/tech-daily/feed.xml", "0 * * * *")])
    first = start_daemon(config)
    try:
        assert wait_for(
            lambda: (
                (tmp_path / "db.sqlite.daemon.lock").exists()
                and (tmp_path / "db.sqlite.daemon.lock").read_text().strip() == str(first.pid)
            ),
            20,
        )
        second = run_chipwatch("--config", str(config), "daemon", timeout=30)
        assert second.returncode == 1
        assert f"PID {first.pid}" in second.stderr.decode()
    finally:
        code, err = stop(first)
    assert code == 0, err


def test_sigterm_mid_crawl_exits_cleanly_and_records_the_crawl_as_cancelled(tmp_path, slow_mirror):
    config = write_setup(
        tmp_path, slow_mirror.base_url, [("slow", "/slow/feed.xml", EVERY_2S)], crawl_timeout=60, grace=2
    )
    daemon = start_daemon(config)
    db = tmp_path / "db.sqlite"
    assert wait_for(lambda: db.exists() and any(r[1] == "running" for r in runs(db)), 30)
    started = time.monotonic()
    code, err = stop(daemon)
    assert code == 0, err
    assert time.monotonic() - started < 15
    assert [r[1] for r in runs(db)] == ["cancelled"]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.slow
def test_kill_9_then_restart_takes_over_the_lock_and_settles_the_interrupted_run(tmp_path, slow_mirror):
    config = write_setup(
        tmp_path,
        slow_mirror.base_url,
        [("slow", "/slow/feed.xml", EVERY_2S), ("tech-daily", "/tech-daily/feed.xml", EVERY_2S)],
        crawl_timeout=60,
    )
    db = tmp_path / "db.sqlite"
    daemon = start_daemon(config)
    assert wait_for(lambda: db.exists() and any(r[0] == "slow" and r[1] == "running" for r in runs(db)), 30)
    assert wait_for(lambda: any(r[0] == "tech-daily" and r[1] == "ok" for r in runs(db)), 30)
    daemon.kill()
    daemon.wait()
    stored = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    restarted = start_daemon(config)
    try:
        old = {r[2] for r in runs(db)}
        assert wait_for(lambda: not [r for r in runs(db) if r[2] in old and r[1] == "running"], 30)
        assert wait_for(lambda: sum(r[0] == "tech-daily" and r[1] == "ok" for r in runs(db)) >= 3, 40)
    finally:
        code, err = stop(restarted)
    assert code == 0, err
    statuses = [r[1] for r in runs(db) if r[0] == "slow"]
    assert statuses[0] in ("failed", "cancelled")  # the run the killed daemon left behind is settled
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    total, distinct = conn.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
    assert total == distinct >= stored
    conn.close()


def test_a_crashed_crawl_is_recorded_as_failed(tmp_path, slow_mirror):
    config = write_setup(tmp_path, slow_mirror.base_url, [("slow", "/slow/feed.xml", EVERY_2S)], crawl_timeout=60)
    db = tmp_path / "db.sqlite"
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: db.exists() and any(r[1] == "running" for r in runs(db)), 30)
        pid = next(r[2] for r in runs(db) if r[1] == "running")
        os.kill(pid, signal.SIGKILL)  # the crawl process dies without a word
        assert wait_for(lambda: runs(db)[0][1] == "failed", 20)
    finally:
        code, err = stop(daemon)
    assert code == 0, err


def test_run_due_runs_what_came_due_then_nothing_until_the_next_time(tmp_path, fresh_mirror):
    config = write_setup(
        tmp_path,
        fresh_mirror.base_url,
        [("tech-daily", "/tech-daily/feed.xml", "0 * * * *"), ("snack-times", "/snack-times/feed.xml", "0 0 1 1 *")],
    )
    first = run_chipwatch("--config", str(config), "run-due")
    assert first.returncode == 0, first.stderr.decode()
    assert "tech-daily" in first.stdout.decode() and "snack-times" in first.stdout.decode()
    second = run_chipwatch("--config", str(config), "run-due")
    assert "no source was due" in second.stdout.decode()
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("UPDATE schedule_state SET last_run_at = ? WHERE job = 'crawl:tech-daily'", [an_hour_ago])
    conn.commit()
    conn.close()
    third = run_chipwatch("--config", str(config), "run-due")
    assert "tech-daily" in third.stdout.decode() and "snack-times" not in third.stdout.decode()


def test_status_shows_sources_runs_and_next_times(tmp_path, fresh_mirror):
    config = write_setup(tmp_path, fresh_mirror.base_url, [("tech-daily", "/tech-daily/feed.xml", "30 6 * * *")])
    run_chipwatch("--config", str(config), "run-due")
    result = run_chipwatch("--config", str(config), "status")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    # No daemon holds the database: the schedule is shown, not next-run times that nothing will keep.
    assert "tech-daily" in out and " ok " in out and "30 6 * * *" in out and "06:30" not in out
    assert "daemon: not running" in out
    assert "digest last sent" in out and "MB)" in out
    # From another directory, with no config and no sources file, the database alone says the same.
    elsewhere = run_chipwatch("--db", str(tmp_path / "db.sqlite"), "status", "--format", "json", cwd=tmp_path.parent)
    assert elsewhere.returncode == 0, elsewhere.stderr.decode()
    report = json.loads(elsewhere.stdout)
    assert [row["source"] for row in report["sources"]] == ["tech-daily"] and report["daemon"] is None


def test_status_names_the_daemon_that_holds_the_database_and_its_next_runs(tmp_path, fresh_mirror):
    config = write_setup(tmp_path, fresh_mirror.base_url, [("tech-daily", "/tech-daily/feed.xml", "30 6 * * *")])
    daemon = start_daemon(config)
    try:
        assert wait_for(lambda: (tmp_path / "db.sqlite.daemon.lock").exists(), 20)
        out = run_chipwatch("--config", str(config), "status").stdout.decode()
        assert f"daemon: running, PID {daemon.pid} since " in out
        assert "06:30" in out  # the next run, which the running daemon will keep
    finally:
        code, err = stop(daemon)
    assert code == 0, err
    assert not (tmp_path / "db.sqlite.daemon.lock").exists()  # no litter once it stopped


@pytest.mark.parametrize(
    "source, message",
    [
        (
            'name = "x"\nkind = "feed"\nurl = "https://x.test/"\nschedule = "*/5 * * *"',
            "sources.toml:1: source #1 (x): field 'schedule'",
        ),
        ('name = "x"\nkind = "gopher"\nurl = "https://x.test/"', "field 'kind'"),
    ],
)
def test_bad_configuration_stops_the_daemon_before_it_starts(tmp_path, source, message):
    (tmp_path / "sources.toml").write_text("[[source]]\n" + source + "\n")
    config = tmp_path / "c.toml"
    config.write_text(f'[crawl]\nsources = "{tmp_path / "sources.toml"}"\n[storage]\ndb = "{tmp_path / "db.sqlite"}"\n')
    result = run_chipwatch("--config", str(config), "daemon", timeout=30)
    assert result.returncode == 1
    assert message in result.stderr.decode() and "Traceback" not in result.stderr.decode()
    assert not (tmp_path / "db.sqlite.daemon.lock").exists()


def test_missing_sources_file_and_unwritable_database_are_clear_errors(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[crawl]\nsources = "{tmp_path / "nope.toml"}"\n')
    result = run_chipwatch("--config", str(config), "daemon", timeout=30)
    assert result.returncode == 1 and "nope.toml: sources file not found" in result.stderr.decode()
    (tmp_path / "sources.toml").write_text('[[source]]\nname = "x"\nkind = "feed"\nurl = "https://x.test/"\n')
    blocker = tmp_path / "file"
    blocker.write_text("")
    config.write_text(f'[crawl]\nsources = "{tmp_path / "sources.toml"}"\n[storage]\ndb = "{blocker / "db.sqlite"}"\n')
    result = run_chipwatch("--config", str(config), "daemon", timeout=30)
    assert result.returncode == 1 and "cannot create database" in result.stderr.decode()
    config.write_text('[daemon]\ntimezone = "Mars/Olympus"\n')
    result = run_chipwatch("--config", str(config), "status", timeout=30)
    assert result.returncode == 1 and "[daemon] timezone" in result.stderr.decode()


@pytest.mark.parametrize("digest_time", ["07:00", "02:30", "01:30"])
def test_dst_changes_neither_skip_nor_double_the_daily_digest(digest_time):
    options = load_options(
        env={"CHIPWATCH_DAEMON_TIMEZONE": "America/New_York", "CHIPWATCH_DAEMON_DIGEST_TIME": digest_time}
    )
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    for start in (datetime(2026, 3, 6, tzinfo=UTC), datetime(2026, 10, 30, tzinfo=UTC)):
        last, sent_days = None, []
        moment = start
        while moment < start + timedelta(days=4):
            day = digest_due(options, moment, last)
            if day is not None:
                sent_days.append((day, moment.astimezone(zone)))
                last = day
            moment += timedelta(minutes=5)
        days = [datetime.fromisoformat(day).date() for day, _ in sent_days]
        assert days == sorted(set(days)), sent_days  # never twice
        assert all((b - a).days == 1 for a, b in itertools.pairwise(days)), sent_days  # never a day skipped
        assert len(days) >= 4
        hour, minute = (int(x) for x in digest_time.split(":"))
        for _, local in sent_days:
            assert (local.hour, local.minute) >= (hour, minute)


@pytest.mark.slow  # long: in `make test-slow` (and CI)
def test_sigterm_gives_the_crawl_its_grace_and_a_restart_runs_the_stopped_source_at_once(
    tmp_path, fresh_mirror, network
):
    articles = network.of_outlet("circuit-ledger")
    for article in articles:
        body = fresh_mirror.respond(article.path).body
        fresh_mirror.add_route(f"/slowsite{article.path}", body, "text/html; charset=utf-8", delay=1.0)
    feed = "".join(
        f"<item><title>{a.title}</title><link>{fresh_mirror.base_url}/slowsite{a.path}</link></item>" for a in articles
    )
    fresh_mirror.add_route(
        "/slowsite/feed.xml",
        f'<rss version="2.0"><channel><title>s</title>{feed}</channel></rss>'.encode(),
        "application/rss+xml",
    )
    # Once a year: only the restart's catch-up can make it run again today.
    config = write_setup(tmp_path, fresh_mirror.base_url, [("slow", "/slowsite/feed.xml", "0 0 1 1 *")], grace=20)
    db = tmp_path / "db.sqlite"
    daemon = start_daemon(config)  # never run before: it runs at once
    assert wait_for(lambda: db.exists() and any(r[1] == "running" for r in runs(db)), 30)
    assert wait_for(lambda: sum(p.endswith(".html") for p in fresh_mirror.requested_paths()) >= 2, 30)
    code, err = stop(daemon)
    assert code == 0, err
    conn = sqlite3.connect(db)
    [(status, stored_items, finished)] = conn.execute(
        "SELECT status, items_new, finished_at FROM crawl_runs"
    ).fetchall()
    conn.close()
    # SIGTERM let Scrapy finish what was in flight: the crawl recorded its own cancelled run, with what it stored.
    assert status == "cancelled" and stored_items >= 1 and finished
    restarted = start_daemon(config)
    try:
        assert wait_for(lambda: len(runs(db)) >= 2, 30), runs(db)
    finally:
        code, err = stop(restarted)
    assert code == 0, err
