"""The cluster benchmark: the end-to-end benchmark's pages crawled by 1, 2 and 3 workers and one writer,
beside the one-machine crawl of the same pages in the same run; and the writer's ceiling, in items per
second, when every item is already waiting in the stream.

It starts its own redis-server (Debian's, on a free loopback port, in a temporary directory).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from chipwatch.bench.end_to_end import benchmark_pages, serve_site, site_sources, stored_count
from chipwatch.errors import ClusterError
from demo.server import MirrorServer


@dataclass
class ClusterBench:
    pages: int
    one_machine_seconds: float
    seconds_by_workers: dict[int, float] = field(default_factory=dict)
    stored_by_workers: dict[int, int] = field(default_factory=dict)
    writer_items: int = 0
    writer_seconds: float = 0.0

    def rate(self, seconds: float) -> float:
        return self.pages / seconds if seconds else 0.0


class LocalRedis:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError("the cluster benchmark needs redis-server (apt-get install redis-server)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _env(redis_url: str | None) -> dict[str, str]:
    env = {
        "CHIPWATCH_CRAWL_AUTOTHROTTLE": "false",  # politeness delays are not pipeline cost
        "CHIPWATCH_CRAWL_OBEY_ROBOTS": "false",
        "CHIPWATCH_CRAWL_EXTRACT_WORKERS": "1",  # a worker is a process of its own: one extracting process each
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    if redis_url:
        env["CHIPWATCH_CLUSTER_REDIS"] = redis_url
    return env


def _crawl(server: MirrorServer, directory: Path, env: dict[str, str]) -> tuple[float, int]:
    """One `chipwatch crawl` of the benchmark feed: seconds from the first request to the end, and stored."""
    sources = site_sources(directory, server, "max_entries = 1000\n")
    db = directory / "bench.db"
    server.requests.clear()
    server.request_times.clear()
    result = subprocess.run(
        [sys.executable, "-m", "chipwatch.cli", "--db", str(db), "crawl", "--sources-file", str(sources)],
        capture_output=True,
        env=env,
        timeout=1800,
    )
    ended = time.perf_counter()
    if result.returncode != 0:
        raise RuntimeError(f"benchmark crawl failed: {result.stderr.decode()[-1500:]}")
    first = server.request_times[0] if server.request_times else ended
    return ended - first, stored_count(db)


def _workers(count: int, env: dict[str, str], redis_client: object) -> list[subprocess.Popen[bytes]]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "chipwatch.cli", "worker", "--concurrency", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    deadline = time.monotonic() + 60  # start-up is not crawl time: wait for every heartbeat
    while len(redis_client.hkeys("chipwatch:workers")) < count:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's workers did not start")
        time.sleep(0.1)
    return workers


def run(shared: Path, worker_counts: tuple[int, ...] = (1, 2, 3), limit: int | None = None) -> ClusterBench:
    pages = benchmark_pages(shared, limit)
    server = serve_site(pages)
    with tempfile.TemporaryDirectory(prefix="chipwatch-bench-cluster-") as tmp:
        root = Path(tmp)
        redis = LocalRedis(root)
        try:
            (root / "one").mkdir()
            one_seconds, _ = _crawl(server, root / "one", {**_env(None), "CHIPWATCH_CRAWL_EXTRACT_WORKERS": "2"})
            bench = ClusterBench(len(pages), one_seconds)
            for count in worker_counts:
                redis.client.flushall()
                directory = root / f"workers-{count}"
                directory.mkdir()
                env = _env(redis.url)
                workers = _workers(count, env, redis.client)
                try:
                    seconds, stored = _crawl(server, directory, env)
                finally:
                    for worker in workers:
                        worker.terminate()
                    for worker in workers:
                        worker.wait(timeout=60)
                bench.seconds_by_workers[count] = seconds
                bench.stored_by_workers[count] = stored
            redis.client.flushall()
            bench.writer_items, bench.writer_seconds = writer_ceiling(pages, redis.url, root / "writer")
        finally:
            redis.stop()
            server.stop()
    return bench


def writer_ceiling(pages: list[tuple[str, bytes]], redis_url: str, directory: Path) -> tuple[int, float]:
    """The writer alone: the pages' items made by the page half here, queued in the stream, then applied
    (copies, store, stories, acknowledgement) into a fresh database. Items, and the writer's seconds."""
    from chipwatch.cluster import stream
    from chipwatch.cluster.connection import Keys, connect
    from chipwatch.cluster.writer import Writer
    from chipwatch.config import load_options
    from chipwatch.crawl.runbook import RunEnd
    from pipeline import process
    from pipeline.classify import load_classifier
    from pipeline.extract import extract_page
    from pipeline.items import ArticleItem
    from storage import opened
    from storage.crawl_runs import start_run

    directory.mkdir()
    options = load_options(env={"CHIPWATCH_CLUSTER_REDIS": redis_url, "CHIPWATCH_DB": str(directory / "w.db")})
    classifier = load_classifier(options.classify.topics, options.classify.model)
    server = connect(options.cluster)
    keys = Keys(options.cluster.prefix)
    with opened(options.storage.db) as db:
        run_id = start_run(db, "bench", "2026-01-01T00:00:00Z")
        pipe = server.pipeline()
        for path, html in pages:
            url = f"http://bench.example{path}"
            item = ArticleItem(source="bench", url=url, body=html, fetched_at="2026-01-01T00:00:00Z")
            try:
                process.apply_extraction(item, extract_page(html, url))
            except process.EmptyPage:
                continue
            process.normalise(item)
            process.tag(classifier, item)
            process.name_entities(item)
            stream.add(pipe, keys, "item", run_id, "bench", item)
        stream.add(pipe, keys, "end", run_id, "bench", RunEnd(reason="finished"))
        pipe.execute()
        items = int(server.xlen(keys.results)) - 1
        writer = Writer(options, db, server, StringIO())
        started = time.perf_counter()
        writer.drain({run_id})
        seconds = time.perf_counter() - started
    return items, seconds
