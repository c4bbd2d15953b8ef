"""Nothing lost on a cluster: a worker killed mid-crawl, the writer killed mid-crawl, Redis restarted
mid-crawl; each time the database ends as the manifest says. Long: in `make test-slow` (and CI)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.helpers import CHIPWATCH, demo_sources_for, run_chipwatch, start_chipwatch
from tests.test_cluster import assert_manifest, cluster_env, start_workers, stop_workers

pytestmark = pytest.mark.slow


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def stored(db) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def start_worker_group(env, concurrency: int = 2) -> subprocess.Popen[bytes]:
    """A worker in a process group of its own, so that SIGKILL takes its extraction processes with it."""
    return subprocess.Popen(
        [*CHIPWATCH, "worker", "--concurrency", str(concurrency)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def crawl_with_fault(env, db, sources, mirror, after_requests: int, fault) -> None:
    """A writer crawls; once the sites were asked for `after_requests` pages, fault() runs; the writer must
    still finish cleanly."""
    writer = start_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, capture=True)
    try:
        wait_until(lambda: len(mirror.requests) >= after_requests)
        fault()
        _, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err.decode()[-3000:]
    finally:
        if writer.poll() is None:
            writer.kill()


def test_a_worker_killed_mid_crawl_loses_nothing(redis_server, fresh_mirror, network, tmp_path):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    victim = start_worker_group(env)
    workers = start_workers(2, env)

    def kill_victim() -> None:  # once pages flow, the first worker dies at once, holding crawls and requests
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()

    try:
        crawl_with_fault(env, db, sources, fresh_mirror, 20, kill_victim)
    finally:
        codes = stop_workers(workers)
    assert codes == [0, 0]
    assert_manifest(db, fresh_mirror, network)


def test_the_writer_killed_mid_crawl_loses_nothing(redis_server, fresh_mirror, network, tmp_path):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    workers = start_workers(3, env)
    try:
        writer = start_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, capture=True)
        wait_until(lambda: stored(db) >= 10)
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
        # The next writer: what the first one read and never acknowledged is claimed and written.
        again = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), env=env, timeout=240)
        assert again.returncode == 0, again.stderr.decode()[-3000:]
    finally:
        codes = stop_workers(workers)
    assert codes == [0, 0, 0]
    assert_manifest(db, fresh_mirror, network)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_redis_restarted_mid_crawl_the_crawl_carries_on(redis_server, fresh_mirror, network, tmp_path):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    workers = start_workers(2, env)

    def restart_redis() -> None:
        redis_server.stop()  # SIGTERM: the AOF is flushed
        time.sleep(1.0)
        redis_server.start()

    try:
        crawl_with_fault(env, db, sources, fresh_mirror, 15, restart_redis)
    finally:
        codes = stop_workers(workers)
    assert codes == [0, 0]
    assert_manifest(db, fresh_mirror, network)


def test_sigterm_mid_crawl_hands_back_and_the_next_worker_goes_on(redis_server, fresh_mirror, network, tmp_path):
    env = cluster_env(redis_server)
    db = tmp_path / "writer.db"
    sources = demo_sources_for(fresh_mirror, tmp_path)
    first = start_workers(1, env, concurrency=4)
    second: list[subprocess.Popen[bytes]] = []

    def stop_the_first() -> None:
        started = time.monotonic()
        assert stop_workers(first) == [0]  # SIGTERM: hands back what it had not finished, exits 0
        assert time.monotonic() - started < 30
        client = redis_server.client()
        assert client.zcard("chipwatch:jobs:taken") == 0  # nothing left leased to the stopped worker
        second.extend(start_workers(1, env, concurrency=4))

    try:
        crawl_with_fault(env, db, sources, fresh_mirror, 20, stop_the_first)
    finally:
        codes = stop_workers(second)
    assert codes == [0]
    assert_manifest(db, fresh_mirror, network)
