"""`chipwatch bench` (and `make bench`): every performance figure in one run, each beside its reference
where one exists, written to BENCHMARKS.md with the command behind it, the machine and the date."""

from __future__ import annotations

import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chipwatch.bench.end_to_end import process_rss_kb
from chipwatch.config import Options


@dataclass
class Figure:
    name: str
    value: str
    reference: str = ""  # the reference measured in the same run, and our figure as a ratio of it
    target: str = ""
    command: str = ""


@dataclass
class Report:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_all(options: Options, shared: Path, quick: bool, log: Callable[[str], None] = print) -> Report:
    report = Report(quick)
    started = time.perf_counter()
    steps = [
        _end_to_end,
        _cluster,
        _extraction,
        _classification,
        _grouping,
        _search,
        _watches,
        _screening,
        _digest,
        _daemon_memory,
    ]
    for step in steps:
        name = (step.__doc__ or step.__name__).splitlines()[0]
        log(f"… {name}")
        try:
            report.figures += step(options, shared, quick)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            report.notes.append(f"{name}: failed: {type(error).__name__}: {error}")
    report.seconds = time.perf_counter() - started
    return report


def _end_to_end(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """End to end: pages crawled through the whole pipeline into SQLite."""
    from chipwatch.bench.end_to_end import run

    result = run(shared, limit=40 if quick else None)
    ratio = result.pages_per_second / result.reference_pages_per_second
    return [
        Figure(
            "End to end: pages per second, crawl to stored article",
            f"{result.pages_per_second:.1f} pages/s ({result.pages} pages, {result.stored} stored, "
            f"{result.crawl_seconds:.1f} s after {result.startup_seconds:.1f} s of start-up)",
            f"trafilatura.extract alone: {result.reference_pages_per_second:.1f} pages/s → {ratio:.2f}×",
            "≥ 0.8×",
            "chipwatch bench",
        ),
        Figure(
            "End to end: peak memory, crawl process and its extraction workers",
            f"{result.peak_rss_mb:.0f} MB",
            command="chipwatch bench",
        ),
    ]


def _cluster(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Crawling on a cluster: 1, 2 and 3 workers and one writer, and the writer's ceiling."""
    from chipwatch.bench.cluster import run

    result = run(shared, limit=40 if quick else None)
    one = result.rate(result.one_machine_seconds)
    figures = []
    for count, seconds in result.seconds_by_workers.items():
        rate = result.rate(seconds)
        figures.append(
            Figure(
                f"Cluster: pages per second with {count} worker{'s' if count > 1 else ''} and one writer",
                f"{rate:.1f} pages/s ({result.pages} pages, {result.stored_by_workers[count]} stored, {seconds:.1f} s)",
                f"one-machine crawl of the same pages: {one:.1f} pages/s → {rate / one:.2f}×",
                "more workers, more pages/s, up to the machine's cores",
                "chipwatch bench-cluster",
            )
        )
    ceiling = result.writer_items / result.writer_seconds if result.writer_seconds else 0.0
    figures.append(
        Figure(
            "Cluster: the writer's ceiling (every item already in the stream)",
            f"{ceiling:.0f} items/s ({result.writer_items} items in {result.writer_seconds:.2f} s)",
            f"the 3-worker crawl fed it {result.rate(result.seconds_by_workers.get(3, 0.0)):.1f} pages/s",
            command="chipwatch bench-cluster",
        )
    )
    return figures


def _extraction(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Extraction quality and speed on the article-extraction benchmark."""
    from chipwatch.bench.extraction import run

    directory = shared / "benchmarks" / "article-extraction"
    if not (directory / "ground-truth.json").exists():
        return [Figure("Extraction", "skipped: ../shared/benchmarks/article-extraction is absent")]
    reference, ours = run(directory, 40 if quick else None)
    ratio = ours.pages_per_second / reference.pages_per_second
    command = f"chipwatch bench-extract {directory}" + (" --limit 40" if quick else "")
    return [
        Figure(
            "Extraction F1 (precision / recall)",
            f"{ours.score.f1:.3f} ({ours.score.precision:.3f} / {ours.score.recall:.3f}) on {ours.pages} pages",
            f"trafilatura: {reference.score.f1:.3f} ({reference.score.precision:.3f} / {reference.score.recall:.3f})",
            "≥ 0.965",
            command,
        ),
        Figure(
            "Extraction speed",
            f"{ours.pages_per_second:.1f} pages/s",
            f"trafilatura: {reference.pages_per_second:.1f} pages/s → {ratio:.2f}×",
            "≥ 0.8×",
            command,
        ),
    ]


def _classification(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Classification items per second."""
    from chipwatch.learning import measure_speed

    load_seconds, per_second = measure_speed(options, minimum_items=700 if quick else 3000)
    return [
        Figure(
            "Classification speed (one core)",
            f"{per_second:,.0f} items/s; model loads in {load_seconds:.2f} s",
            command="chipwatch eval --speed",
        )
    ]


def _grouping(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Copy detection and story assignment cost as the database grows."""
    from chipwatch.bench.grouping import run

    sizes = [1000, 5000] if quick else [1000, 100_000]
    small, large = run(sizes, 50 if quick else 200)
    ratio = large.ms_per_article / small.ms_per_article
    return [
        Figure(
            f"Copies + story assignment per new article, {large.stored:,} stored",
            f"{large.ms_per_article:.1f} ms",
            f"{small.stored:,} stored: {small.ms_per_article:.1f} ms → {ratio:.2f}×",
            "≤ 1.5×",
            f"chipwatch bench-grouping --sizes {sizes[0]},{sizes[1]}",
        )
    ]


def _watches(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Matching watches against one run's new articles."""
    from chipwatch.bench.watches import run

    stored = 2_000 if quick else 20_000
    result = run(stored, 1_000, 100)
    ratio = result.plain_seconds / result.match_seconds
    return [
        Figure(
            f"Matching 100 watches against a 1,000-article run ({result.stored:,} stored before)",
            f"{result.match_seconds:.2f} s ({result.matched:,} matches recorded, messages made)",
            f"each watch as a plain search: {result.plain_seconds:.2f} s → {ratio:.2f}× faster",
            "< 1 s",
            f"chipwatch bench-watches --watches 100 --run-articles 1000 --stored {stored}",
        )
    ]


def _screening(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Screening lists: comparing versions, and screening counterparties."""
    from chipwatch.bench.screening import time_diff, time_screen

    entries, parties = (3_000, 500) if quick else (30_000, 5_000)
    diff = time_diff(entries)
    screen = time_screen(parties, entries, naive_sample=50 if quick else 250)
    recall = f"{screen.screener_planted_found_in_sample} of {screen.sample_planted}"
    command = f"chipwatch bench-screen --entries {entries} --parties {parties}"
    return [
        Figure(
            f"Comparing a {entries:,}-entry screening list with its previous version",
            f"{diff.seconds:.2f} s ({diff.added} added, {diff.removed} removed, {diff.changed} revised)",
            "",
            "< 2 s",
            command,
        ),
        Figure(
            f"Screening {parties:,} counterparties against {entries:,} entries ({screen.names:,} names and aliases)",
            f"{screen.index_seconds + screen.screen_seconds:.2f} s (index {screen.index_seconds:.2f} s), "
            f"{screen.planted_found} of {screen.planted} planted variants found",
            f"all-pairs rapidfuzz.process.cdist, one worker: {screen.naive_seconds:.1f} s (from {screen.naive_sample} "
            f"counterparties, scaled), finding {screen.naive_planted_found} of the {screen.sample_planted} variants "
            f"the screener finds {recall} of → {screen.ratio:.1f}× faster",
            "< 10 s",
            command,
        ),
    ]


def _search(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Full-text search speed at scale."""
    from chipwatch.bench.search import generate, naive_timing, time_queries

    count = 10_000 if quick else 1_000_000
    path = Path("data") / "bench" / f"search-{count}.db"
    generate(path, count)
    timings = time_queries(path, per=15 if quick else 40)
    target = timings[0]
    naive = naive_timing(path, per=10 if quick else 20)
    figures = [
        Figure(
            f"Search p95, {target.name}, {count:,} articles",
            f"{target.p95_ms:.1f} ms (p50 {target.p50_ms:.1f} ms)",
            f"the plain query (FTS join, filter, sort): p95 {naive.p95_ms:.1f} ms → "
            f"{target.p95_ms / naive.p95_ms:.2f}×",
            "p95 < 50 ms at 1,000,000",
            f"chipwatch bench-search --articles {count}",
        )
    ]
    others = "; ".join(f"{t.name}: {t.p95_ms:.1f} ms" for t in timings[1:])
    figures.append(Figure("Search p95, other queries", others, command=f"chipwatch bench-search --articles {count}"))
    return figures


def _digest(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Digest rendering for a 500-item day."""
    from chipwatch.bench.digest import time_render

    seconds, size = time_render(options, 500, repeats=3 if quick else 10)
    return [
        Figure(
            "Digest for a 500-item day: compose + render HTML and text",
            f"{seconds * 1000:.0f} ms, {size / 1024:.0f} KB message",
            command="chipwatch bench",
        )
    ]


def _daemon_memory(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """The daemon's memory over many scheduled runs."""
    early, late = (3, 8) if quick else (10, 200)
    first, last, seconds = daemon_memory(early, late)
    growth = (last - first) / first
    return [
        Figure(
            f"Daemon memory after {late} scheduled runs",
            f"{last / 1024:.1f} MB ({seconds:.0f} s)",
            f"after {early} runs: {first / 1024:.1f} MB → {1 + growth:.2f}×",
            "≤ 1.10×",
            "chipwatch bench",
        )
    ]


def daemon_memory(early: int, late: int) -> tuple[int, int, float]:
    """Run the daemon against the demo mirror until it has done `late` crawl runs; its RSS (KB) after
    `early` runs and after `late`, and how long it took."""
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0).start_background()
    with tempfile.TemporaryDirectory(prefix="chipwatch-bench-daemon-") as tmp:
        directory = Path(tmp)
        db = directory / "db.sqlite"
        names = ["pacific-wire", "circuit-ledger", "tech-daily", "snack-times"]
        paths = ["/pacific-wire/feed.xml", "/circuit-ledger/atom.xml", "/tech-daily/feed.xml", "/snack-times/feed.xml"]
        sources = "".join(
            f'[[source]]\nname = "{name}"\nkind = "feed"\nurl = "{server.base_url}{path}"\n'
            f'schedule = "*/2 * * * * *"\n\n'
            for name, path in zip(names, paths, strict=True)
        )
        (directory / "sources.toml").write_text(sources, encoding="utf-8")
        later = datetime.now(UTC) + timedelta(hours=6)
        (directory / "chipwatch.toml").write_text(
            f'[storage]\ndb = "{db}"\n[crawl]\nsources = "{directory / "sources.toml"}"\nautothrottle = false\n'
            f'[daemon]\ntimezone = "UTC"\ndigest_time = "{later:%H}:00"\nmax_parallel = 4\n'
            f'log_file = "{directory / "daemon.log"}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWATCH_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "chipwatch.cli", "--config", str(directory / "chipwatch.toml"), "daemon"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        try:
            first = _rss_after(process, db, early)
            last = _rss_after(process, db, late)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            server.stop()
    return first, last, time.perf_counter() - started


def _rss_after(process: subprocess.Popen[bytes], db: Path, runs: int) -> int:
    deadline = time.monotonic() + max(120, runs * 5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the daemon exited")
        done = 0
        if db.exists():
            try:
                conn = sqlite3.connect(db, timeout=5)
                done = conn.execute("SELECT count(*) FROM crawl_runs WHERE status != 'running'").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                done = 0
        if done >= runs:
            return process_rss_kb(process.pid)
        time.sleep(0.5)
    raise RuntimeError(f"the daemon did not reach {runs} runs in time")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def markdown(report: Report, profile_notes: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick mode (`chipwatch bench --quick`: small sizes)" if report.quick else "full run (`make bench`)"
    lines = [
        "# Benchmarks",
        "",
        f"Measured {now} on {machine()}; {mode}, {report.seconds:.0f} s in all.",
        "Each figure sits beside a reference measured in the same run where there is one; the ratio is ours",
        "over the reference (for times, lower is better; for rates, higher). Regenerate with `make bench`.",
        "",
        "| figure | value | reference (same run) → ratio | target | command |",
        "|---|---|---|---|---|",
    ]
    for figure in report.figures:
        lines.append(
            f"| {figure.name} | {figure.value} | {figure.reference or '—'} | {figure.target or '—'} | "
            f"`{figure.command}` |"
        )
    if report.notes:
        lines += ["", "Not measured:", ""] + [f"- {note}" for note in report.notes]
    lines += ["", profile_notes.strip(), ""]
    return "\n".join(lines)
