"""Crawling on several machines, for real: Debian's redis-server, worker processes and the one writer
against the demo network over HTTP; the database checked against the manifest, the demo server's request
log against "each page once"; workers and the writer killed with SIGKILL; two daemons on one cluster."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from chipwatch.config import load_options
from chipwatch.errors import ConfigError
from pipeline.urls import canonical_url
from spiders.sources import load_sources
from tests.helpers import clean_env, demo_sources_for, run_chipwatch, start_chipwatch

FAST = {"CHIPWATCH_CLUSTER_HEARTBEAT_TIMEOUT": "3", "CHIPWATCH_CLUSTER_VISIBILITY_TIMEOUT": "3"}


def cluster_env(redis_server, **extra: str) -> dict[str, str]:
    return clean_env(CHIPWATCH_CLUSTER_REDIS=redis_server.url, **FAST, **extra)


def start_workers(count: int, env: dict[str, str], concurrency: int = 2) -> list[subprocess.Popen[bytes]]:
    return [start_chipwatch("worker", "--concurrency", str(concurrency), env=env, capture=True) for _ in range(count)]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> list[int]:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    codes = []
    for worker in workers:
        try:
            worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
        codes.append(worker.returncode)
    return codes


def articles_of(db: Path) -> tuple[list[str], set[str]]:
    conn = sqlite3.connect(db)
    try:
        urls = [row[0] for row in conn.execute("SELECT canonical_url FROM articles")]
        copies = {canonical_url(row[0]) for row in conn.execute("SELECT url FROM copies")}
    finally:
        conn.close()
    return urls, copies


def assert_manifest(db: Path, mirror, network) -> None:
    """Every article of the manifest stored exactly once, every copy recorded as a copy."""
    urls, copies = articles_of(db)
    assert len(urls) == len(set(urls)), Counter(urls).most_common(3)
    wanted = {
        canonical_url(mirror.base_url + a.path) for a in network.articles if not a.members_only and not a.duplicate_of
    }
    assert set(urls) == wanted, (sorted(wanted - set(urls))[:5], sorted(set(urls) - wanted)[:5])
    assert copies == {canonical_url(mirror.base_url + a.path) for a in network.articles if a.duplicate_of}


def article_paths(network) -> set[str]:
    return {a.path for a in network.articles if not a.members_only}


def test_three_workers_and_one_writer_store_the_manifest_fetching_each_page_once(
    redis_server, fresh_mirror, network, tmp_path
):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    workers = start_workers(3, env)
    try:
        result = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, timeout=240)
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        # Each crawl's end is said as it is written, as one machine's progress lines say it.
        progress = result.stderr.decode()
        assert all(f"finished {source.name}: " in progress for source in load_sources(sources)), progress
        # While the workers run, status lists each of them with its heartbeat and pages.
        status = run_chipwatch("--db", str(db), "status", "--format", "json", env=env)
        assert status.returncode == 0, status.stderr.decode()
        report = json.loads(status.stdout)
        listed = [w for w in report["workers"] if w["role"] == "worker"]
        assert len(listed) == 3 and all(w["alive"] for w in listed), listed
        assert report["cluster"]["queues"]["crawls_waiting"] == 0
    finally:
        codes = stop_workers(workers)
    assert codes == [0, 0, 0]
    assert_manifest(db, fresh_mirror, network)
    # Each article page fetched exactly once across the three workers.
    fetched = Counter(r.path for r in fresh_mirror.requests)
    assert {path: fetched[path] for path in article_paths(network) if fetched[path] > 1} == {}
    # The summary says who fetched what, and it adds up to the pages the runs counted.
    line = next(line for line in out.splitlines() if line.startswith("pages per worker: "))
    per_worker = {part.rsplit(" ", 1)[0]: int(part.rsplit(" ", 1)[1]) for part in line[18:].split(", ")}
    pages = sum(int(row.split("pages")[1].split()[0]) for row in out.splitlines() if " pages " in row)
    assert sum(per_worker.values()) == pages > 0
    assert all(name.startswith("worker@") for name in per_worker)
    # The runs are recorded as on one machine; the stream is empty, every entry acknowledged.
    conn = sqlite3.connect(db)
    statuses = {row[0] for row in conn.execute("SELECT status FROM crawl_runs")}
    conn.close()
    assert statuses == {"ok"}
    client = redis_server.client()
    assert client.xlen("chipwatch:results") == 0
    assert client.llen("chipwatch:jobs:waiting") == 0 and client.zcard("chipwatch:jobs:taken") == 0


def test_a_second_crawl_on_the_cluster_fetches_no_stored_page(redis_server, fresh_mirror, network, tmp_path):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    workers = start_workers(1, env, concurrency=4)
    try:
        first = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, timeout=240)
        assert first.returncode == 0, first.stderr.decode()[-2000:]
        fresh_mirror.requests.clear()
        second = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, timeout=240)
        assert second.returncode == 0, second.stderr.decode()[-2000:]
    finally:
        assert stop_workers(workers) == [0]
    # The workers knew what was stored (the writer's index in Redis) and what the servers sent last time.
    again = {r.path for r in fresh_mirror.requests} & article_paths(network)
    assert again == set()
    assert_manifest(db, fresh_mirror, network)


def test_a_worker_without_a_cluster_says_what_to_set():
    result = run_chipwatch("worker", env=clean_env())
    assert result.returncode != 0
    assert "CHIPWATCH_CLUSTER_REDIS" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


def test_a_crawl_with_redis_down_fails_in_one_line(tmp_path):
    from tests.helpers import free_port

    env = clean_env(CHIPWATCH_CLUSTER_REDIS=f"redis://127.0.0.1:{free_port()}/0")
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "x"\nkind = "feed"\nurl = "http://127.0.0.1:9/feed.xml"\n')
    result = run_chipwatch("--db", str(tmp_path / "x.db"), "crawl", "--sources-file", str(sources), env=env)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "cannot reach the cluster's Redis" in err and "Traceback" not in err


def test_cluster_config_keeps_the_password_out_of_files(tmp_path):
    config = tmp_path / "chipwatch.toml"
    config.write_text('[cluster]\nredis = "redis://:secret@10.0.0.5:6379/0"\n')
    with pytest.raises(ConfigError, match="CHIPWATCH_REDIS_PASSWORD"):
        load_options(config, env={})
    config.write_text('[cluster]\npassword = "secret"\n')
    with pytest.raises(ConfigError, match="only from"):
        load_options(config, env={})
    options = load_options(
        None, env={"CHIPWATCH_CLUSTER_REDIS": "redis://10.0.0.5:6379/2", "CHIPWATCH_REDIS_PASSWORD": "s3"}
    )
    assert options.cluster.enabled and options.cluster.password == "s3"
    assert "s3" not in repr(options)
    assert not load_options(None, env={}).cluster.enabled


def test_a_sites_limit_and_pause_hold_across_processes(redis_server):
    """Two workers' middlewares (two connections) share one site's places; a Retry-After pauses both."""
    from chipwatch.cluster.connection import Keys
    from chipwatch.cluster.politeness import _TAKE_PLACE

    keys = Keys()
    first, second = redis_server.client(), redis_server.client()
    slots, pause = keys.site_slots("example.org"), keys.site_pause("example.org")
    assert first.eval(_TAKE_PLACE, 2, slots, pause, 2, "a", 60_000) == 1
    assert second.eval(_TAKE_PLACE, 2, slots, pause, 2, "b", 60_000) == 1
    assert second.eval(_TAKE_PLACE, 2, slots, pause, 2, "c", 60_000) == 0  # full: waits
    first.zrem(slots, "a")
    assert second.eval(_TAKE_PLACE, 2, slots, pause, 2, "c", 60_000) == 1
    # A place held by a worker that died is the site's again once its deadline passes.
    first.delete(slots)
    assert first.eval(_TAKE_PLACE, 2, slots, pause, 1, "dead", 200) == 1
    assert second.eval(_TAKE_PLACE, 2, slots, pause, 1, "live", 60_000) == 0
    time.sleep(0.3)
    assert second.eval(_TAKE_PLACE, 2, slots, pause, 1, "live", 60_000) == 1
    first.set(pause, "retry-after", px=5_000)
    assert -5_000 <= second.eval(_TAKE_PLACE, 2, slots, pause, 9, "x", 60_000) < 0


def test_two_daemons_on_one_cluster_one_schedules_the_other_refuses(redis_server, fresh_mirror, tmp_path):
    """Two "machines" (two directories, two databases) pointed at one cluster: the first daemon takes the
    cluster's scheduling lease; the second refuses, naming it; once the first stops, the lease is free."""
    from tests.helpers import start_daemon, stop
    from tests.test_daemon import write_setup

    machines = []
    for name in ("one", "two"):
        home = tmp_path / name
        home.mkdir()
        machines.append(write_setup(home, fresh_mirror.base_url, [("tech-daily", "/tech-daily/feed.xml", "0 0 1 1 *")]))
    env = cluster_env(redis_server)
    client = redis_server.client()
    first = start_daemon(machines[0], env=env)
    try:
        deadline = time.monotonic() + 30
        while client.get("chipwatch:daemon") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        holder = json.loads(client.get("chipwatch:daemon"))
        assert holder["pid"] == first.pid
        second = run_chipwatch("--config", str(machines[1]), "daemon", env=env, timeout=60)
        assert second.returncode == 1
        err = second.stderr.decode()
        assert "another chipwatch daemon schedules this cluster" in err and f"PID {first.pid}" in err, err
        assert "Traceback" not in err
        # The refused daemon left the first one's lease alone, and its own database's lock free.
        assert json.loads(client.get("chipwatch:daemon"))["pid"] == first.pid
        assert not (tmp_path / "two" / "db.sqlite.daemon.lock").exists()
    finally:
        code, err = stop(first)
    assert code == 0, err
    assert client.get("chipwatch:daemon") is None
