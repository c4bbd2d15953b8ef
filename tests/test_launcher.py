"""The daemon's crawl launcher (chipwatch/crawl/launcher.py): crawls forked from a process that has the
crawl's modules loaded store what a `chipwatch crawl` process stores, and a launcher that dies takes its
crawls with it, is started again, and never leaves the daemon without a way to crawl."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading

from chipwatch.config import load_options
from chipwatch.crawl.child_process import run_crawl
from chipwatch.crawl.launcher import CrawlLauncher
from tests.helpers import query, wait_for, write_sources


def _setup(tmp_path, server):
    base = server.base_url
    server.add_route("/slow/feed.xml", b"<rss/>", "application/rss+xml", delay=60)
    sources = write_sources(
        tmp_path / "sources.toml",
        {"name": "pacific-wire", "kind": "feed", "url": f"{base}/pacific-wire/feed.xml"},
        {"name": "circuit-ledger", "kind": "feed", "url": f"{base}/circuit-ledger/atom.xml"},
        {"name": "slow", "kind": "feed", "url": f"{base}/slow/feed.xml"},
    )
    db = tmp_path / "db.sqlite"
    config = tmp_path / "chipwatch.toml"
    config.write_text(
        f'[storage]\ndb = "{db}"\n[crawl]\nsources = "{sources}"\nautothrottle = false\nretries = 0\n'
        "download_timeout = 5\n",
        encoding="utf-8",
    )
    return load_options(config), db


def test_a_forked_crawl_stores_what_a_crawl_process_stores_and_says_so_on_its_standard_error(tmp_path, fresh_mirror):
    options, db = _setup(tmp_path, fresh_mirror)
    launcher = CrawlLauncher(options.config_file)
    try:
        outcome = run_crawl(options, "pacific-wire", threading.Event(), launcher)
        assert outcome.status == "ok" and outcome.returncode == 0
        crawl = launcher.launch(["--config", str(options.config_file), "crawl", "circuit-ledger"])
        assert crawl.pid > 0 and crawl.pid != os.getpid()
        said = crawl.stderr.read().decode()
        assert crawl.wait(120) == 0
        crawl.stderr.close()
    finally:
        launcher.stop()
    runs = dict(query(db, "SELECT source, status FROM crawl_runs"))
    assert runs == {"pacific-wire": "ok", "circuit-ledger": "ok"}
    stored = dict(query(db, "SELECT source, count(*) FROM articles GROUP BY source"))
    assert stored.get("pacific-wire", 0) > 0 and stored.get("circuit-ledger", 0) > 0
    assert "finished circuit-ledger" in said  # the crawl's progress lines reach the pipe the daemon reads
    pids = {pid for (pid,) in query(db, "SELECT pid FROM crawl_runs")}
    assert os.getpid() not in pids and len(pids) == 2  # each crawl ran in a process of its own


def test_a_launcher_that_dies_takes_its_crawl_with_it_and_is_started_again(tmp_path, fresh_mirror):
    options, db = _setup(tmp_path, fresh_mirror)
    launcher = CrawlLauncher(options.config_file)
    try:
        crawl = launcher.launch(["--config", str(options.config_file), "crawl", "slow"])
        assert wait_for(lambda: _runs(db) > 0, 60)
        process = launcher._process
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        assert crawl.wait(30) != 0  # it died with the launcher (or was reported lost)
        assert wait_for(lambda: not _alive(crawl.pid), 10)
        outcome = run_crawl(options, "circuit-ledger", threading.Event(), launcher)  # a new launcher
        assert outcome.status == "ok", outcome
        assert launcher._process is not None and launcher._process.pid != process.pid
    finally:
        launcher.stop()


def _runs(db) -> int:
    if not db.exists():
        return 0
    try:
        return query(db, "SELECT count(*) FROM crawl_runs")[0][0]
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
