"""The end-to-end benchmark: real pages served as a news site with a feed, crawled through the whole
pipeline into SQLite, against trafilatura extracting the same pages in a plain loop.

The pages are the article-extraction benchmark's 181 real pages when ../shared is there, else the demo
network's own. The crawl runs as `chipwatch crawl` does, in its own process; its time is measured from
the first request the site sees to the end of the process, and its peak memory is the process's (with its
workers'). Crawls and reference passes take turns, and the medians are kept (run()).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from chipwatch.bench.reference import stock_trafilatura
from demo.server import MirrorServer


@dataclass(frozen=True)
class EndToEnd:
    pages: int
    stored: int
    crawl_seconds: float  # first request to the end of the crawl
    startup_seconds: float  # process start to first request (imports, model loading)
    # The crawl process and its extraction workers together, sampled every 50 ms: the physical memory they
    # hold (proportional set size: a page the forked workers share with the crawl counts once), and the sum
    # of their resident sizes (which counts each shared page once per process).
    peak_pss_mb: float
    peak_rss_mb: float
    reference_seconds: float  # trafilatura.extract over the same pages, one after another

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.crawl_seconds

    @property
    def reference_pages_per_second(self) -> float:
        return self.pages / self.reference_seconds


def benchmark_pages(shared: Path, limit: int | None = None) -> list[tuple[str, bytes]]:
    """(path, html) of the pages to crawl."""
    directory = shared / "benchmarks" / "article-extraction"
    truth = directory / "ground-truth.json"
    if truth.exists():
        ids = sorted(json.loads(truth.read_text(encoding="utf-8")))[:limit]
        return [
            (f"/site/{page_id}.html", gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes()))
            for page_id in ids
        ]
    from demo.network import load_network
    from demo.render import render_article

    network = load_network()
    articles = [a for a in network.articles if not a.members_only][:limit]
    return [(f"/site/{a.id}.html", render_article(network, a, "http://127.0.0.1")[0]) for a in articles]


def _feed(base: str, pages: list[tuple[str, bytes]]) -> bytes:
    items = "".join(
        f"<item><title>Page {n}</title><link>{escape(base + path)}</link>"
        "<pubDate>Tue, 09 Dec 2025 08:00:00 GMT</pubDate></item>"
        for n, (path, _) in enumerate(pages, 1)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}</channel></rss>'.encode()


def serve_site(pages: list[tuple[str, bytes]]) -> MirrorServer:
    """A local server with the pages and a feed listing them (/site/feed.xml), started."""
    server = MirrorServer("127.0.0.1", 0).start_background()
    for path, html in pages:
        server.add_route(path, html, "text/html")
    server.add_route("/site/feed.xml", _feed(server.base_url, pages), "application/rss+xml")
    return server


def site_sources(directory: Path, server: MirrorServer, extra: str = "") -> Path:
    """A sources file with the served site's feed as its one source, "bench"."""
    sources = directory / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "bench"\nkind = "feed"\nurl = "{server.base_url}/site/feed.xml"\n{extra}',
        encoding="utf-8",
    )
    return sources


def run(shared: Path, limit: int | None = None, extract_workers: int | None = None, rounds: int = 3) -> EndToEnd:
    """Crawl the pages with `extract_workers` extraction workers (the crawl's default when None), then time
    trafilatura.extract alone over the same pages (chipwatch/bench/reference.py); `rounds` times, taking
    turns, and the medians kept.

    A pass of a few seconds on a shared machine varies by a third from one minute to the next: the crawls
    and the reference's passes take turns so that such a change weighs on both, and the medians leave out
    a pass that met a busy moment. The memory figures are the highest of the crawls'."""
    pages = benchmark_pages(shared, limit)
    reference_pages: list[tuple[bytes, str | None]] = [(html, None) for _, html in pages]
    server = serve_site(pages)
    crawls: list[_Crawl] = []
    references: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="chipwatch-bench-") as tmp:
            directory = Path(tmp)
            sources = site_sources(directory, server)
            for round_ in range(rounds):
                crawls.append(_crawl(server, sources, directory / f"bench-{round_}.db", extract_workers))
                references += stock_trafilatura(reference_pages).seconds
    finally:
        server.stop()
    return EndToEnd(
        pages=len(pages),
        stored=min(crawl.stored for crawl in crawls),
        crawl_seconds=statistics.median(crawl.seconds for crawl in crawls),
        startup_seconds=statistics.median(crawl.startup_seconds for crawl in crawls),
        peak_pss_mb=max(crawl.peak.pss_kb for crawl in crawls) / 1024,
        peak_rss_mb=max(crawl.peak.rss_kb for crawl in crawls) / 1024,
        reference_seconds=statistics.median(references),
    )


@dataclass(frozen=True)
class _Crawl:
    seconds: float  # first request to the end of the process
    startup_seconds: float  # process start to its first request
    peak: MemoryPeak
    stored: int


def _crawl(server: MirrorServer, sources: Path, db: Path, extract_workers: int | None) -> _Crawl:
    """One `chipwatch crawl` of the served site into a new database, as a user starts it."""
    env = {
        "CHIPWATCH_CRAWL_AUTOTHROTTLE": "false",  # politeness delays are not pipeline cost
        "CHIPWATCH_CRAWL_OBEY_ROBOTS": "false",
        "PATH": "/usr/bin:/bin",
    }
    if extract_workers is not None:
        env["CHIPWATCH_CRAWL_EXTRACT_WORKERS"] = str(extract_workers)
    requests_before = len(server.request_times)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "chipwatch.cli", "--db", str(db), "crawl", "--sources-file", str(sources)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    peak = watch_memory_peaks(process)
    _, stderr = process.communicate(timeout=1800)
    ended = time.perf_counter()
    if process.returncode != 0:
        raise RuntimeError(f"benchmark crawl failed: {stderr.decode()[-1500:]}")
    if len(server.request_times) <= requests_before:
        raise RuntimeError("the benchmark crawl made no request")
    first_request = server.request_times[requests_before]
    return _Crawl(ended - first_request, first_request - started, peak, stored_count(db))


def launcher_startup(shared: Path, launches: int = 3) -> float:
    """Seconds from the daemon asking its launcher for a crawl to the crawl's first request (the median of
    a few launches of a small crawl), the launcher having loaded first as the daemon's does at its start."""
    from chipwatch.crawl.launcher import CrawlLauncher

    server = serve_site(benchmark_pages(shared, 3))
    launcher = None
    try:
        with tempfile.TemporaryDirectory(prefix="chipwatch-bench-launch-") as tmp:
            directory = Path(tmp)
            sources = site_sources(directory, server)
            config = directory / "chipwatch.toml"
            config.write_text("[crawl]\nautothrottle = false\nobey_robots = false\n", encoding="utf-8")
            db = directory / "bench.db"
            launcher = CrawlLauncher(config)
            launcher.start()
            if not launcher.ready.wait(120):
                raise RuntimeError("the crawl launcher did not get ready")
            argv = ["--config", str(config), "--db", str(db), "crawl", "--sources-file", str(sources)]
            waits = []
            for _ in range(launches):
                before = len(server.request_times)
                asked = time.perf_counter()
                crawl = launcher.launch(argv)
                crawl.stderr.read()
                if crawl.wait(300) != 0:
                    raise RuntimeError("a launched benchmark crawl failed")
                crawl.stderr.close()
                if len(server.request_times) <= before:
                    raise RuntimeError("a launched benchmark crawl made no request")
                waits.append(server.request_times[before] - asked)
    finally:
        if launcher is not None:
            launcher.stop()
        server.stop()
    return statistics.median(waits)


def stored_count(db: Path) -> int:
    """Articles and copies a benchmark crawl stored."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM copies)").fetchone()[0])
    finally:
        conn.close()


@dataclass(frozen=True)
class MemoryPeak:
    rss_kb: int  # the highest sum of resident sizes
    pss_kb: int  # the highest sum of proportional set sizes: the memory the processes hold between them


def watch_memory_peaks(process: subprocess.Popen[bytes]) -> MemoryPeak:
    """The highest memory of the process and its children until it exits."""
    rss = pss = 0
    samples = 0
    while process.poll() is None:
        pids = _tree(process.pid)
        rss = max(rss, sum(process_rss_kb(each) for each in pids))
        if samples % 4 == 0:  # the kernel walks every mapping for it: a fifth of a second apart is enough
            pss = max(pss, sum(process_pss_kb(each) for each in pids))
        samples += 1
        time.sleep(0.05)
    return MemoryPeak(rss, pss)


def _watch_memory(process: subprocess.Popen[bytes]) -> int:
    """The highest total resident memory (KB) of the process and its children until it exits."""
    return watch_memory_peaks(process).rss_kb


def _tree(pid: int) -> list[int]:
    """The process and all its descendants (workers a fork server started are its grandchildren)."""
    pids, index = [pid], 0
    while index < len(pids):
        current = pids[index]
        index += 1
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
    return pids


def process_pss_kb(pid: int) -> int:
    """Proportional set size of one process in KB (0 when it is gone or the kernel does not say)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def process_rss_kb(pid: int) -> int:
    """Resident memory of one process in KB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
