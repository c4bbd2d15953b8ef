"""The benchmarks `chipwatch bench` runs, one function each, by the name `--only` takes.

Each returns its figures: the value as a number with its unit, the reference measured in the same run where
there is one, and the ratio of the two (ours over the reference), beside the text BENCHMARKS.md shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chipwatch.config import Options


@dataclass
class Figure:
    benchmark: str  # the name `--only` takes
    name: str
    value: str  # as the report shows it
    reference: str = ""  # the reference measured in the same run, and our figure as a ratio of it
    target: str = ""
    command: str = ""
    number: float | None = None  # the value a script checks, in `unit`
    unit: str = ""
    reference_number: float | None = None  # the reference, in the same unit
    ratio: float | None = None  # number / reference_number
    skipped: str = ""  # why it was not measured (something it needs is absent)


def _ratio(number: float, reference: float | None) -> float | None:
    return round(number / reference, 3) if reference else None


def extraction_pages(shared: Path) -> Path | None:
    directory = shared / "benchmarks" / "article-extraction"
    return directory if (directory / "ground-truth.json").exists() else None


def _needs_pages(benchmark: str, name: str, shared: Path) -> Figure:
    where = shared / "benchmarks" / "article-extraction"
    return Figure(benchmark, name, "skipped", skipped=f"needs the benchmark's real pages in {where}, absent here")


def end_to_end(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """End to end: pages crawled through the whole pipeline into SQLite."""
    from chipwatch.bench.end_to_end import launcher_startup, run

    if extraction_pages(shared) is None:
        return [_needs_pages("end-to-end", "End to end: pages per second, crawl to stored article", shared)]
    configured = options.crawl.extract_workers
    counts = [configured] if quick or configured == 1 else [1, configured]
    figures = []
    for workers in counts:
        rounds = 1 if quick else 3
        result = run(shared, limit=40 if quick else None, extract_workers=workers, rounds=rounds)
        of_crawls = "" if rounds == 1 else f"; the median of {rounds} crawls"
        of_passes = "" if rounds == 1 else f" (the median of {rounds} passes, taking turns with the crawls)"
        of_starts = "" if rounds == 1 else f" (the median of {rounds})"
        highest = "" if rounds == 1 else "the highest of the crawls; "
        rate, reference = result.pages_per_second, result.reference_pages_per_second
        ratio = rate / reference
        label = f"{workers} extraction worker{'s' if workers > 1 else ''}"
        command = f"CHIPWATCH_CRAWL_EXTRACT_WORKERS={workers} chipwatch bench --only end-to-end"
        figures += [
            Figure(
                "end-to-end",
                f"End to end: pages per second, crawl to stored article, {label}",
                f"{rate:.1f} pages/s ({result.pages} pages, {result.stored} stored, "
                f"{result.crawl_seconds:.1f} s{of_crawls})",
                f"trafilatura.extract alone: {reference:.1f} pages/s{of_passes} → {ratio:.2f}×",
                "≥ 1.2× with 1 worker, ≥ 2.0× with 2",
                command,
                number=round(rate, 2),
                unit="pages/s",
                reference_number=round(reference, 2),
                ratio=round(ratio, 3),
            ),
            Figure(
                "end-to-end",
                f"End to end: start-up of the crawl process, {label}",
                f"{result.startup_seconds:.2f} s from `chipwatch crawl` starting to its first request{of_starts}",
                target="≤ 0.5 s",
                command=command,
                number=round(result.startup_seconds, 3),
                unit="s",
            ),
            Figure(
                "end-to-end",
                f"End to end: peak memory, crawl process and its extraction workers, {label}",
                f"{result.peak_pss_mb:.0f} MB held between them ({highest}proportional set size; the sum of "
                f"their resident sizes, which counts the pages the forked workers share once per process: "
                f"{result.peak_rss_mb:.0f} MB)",
                target=f"≤ 250 MB for {result.pages} pages",
                command=command,
                number=round(result.peak_pss_mb, 1),
                unit="MB",
            ),
        ]
    seconds = launcher_startup(shared)
    figures.append(
        Figure(
            "end-to-end",
            "Start-up of a crawl the daemon starts (forked by its crawl launcher)",
            f"{seconds:.2f} s from the daemon asking to the crawl's first request (median of 3)",
            target="≤ 0.5 s",
            command="chipwatch bench --only end-to-end",
            number=round(seconds, 3),
            unit="s",
        )
    )
    return figures


def cluster(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Crawling on a cluster: 1, 2 and 3 workers and one writer, and the writer's ceiling."""
    from chipwatch.bench.cluster import run

    result = run(shared, limit=40 if quick else None)
    one = result.rate(result.one_machine_seconds)
    figures = []
    for count, seconds in result.seconds_by_workers.items():
        rate = result.rate(seconds)
        figures.append(
            Figure(
                "cluster",
                f"Cluster: pages per second with {count} worker{'s' if count > 1 else ''} and one writer",
                f"{rate:.1f} pages/s ({result.pages} pages, {result.stored_by_workers[count]} stored, {seconds:.1f} s)",
                f"one-machine crawl of the same pages: {one:.1f} pages/s → {rate / one:.2f}×",
                "more workers, more pages/s, up to the machine's cores",
                "chipwatch bench-cluster",
                number=round(rate, 2),
                unit="pages/s",
                reference_number=round(one, 2),
                ratio=_ratio(rate, one),
            )
        )
    ceiling = result.writer_items / result.writer_seconds if result.writer_seconds else 0.0
    fed = result.rate(result.seconds_by_workers.get(3, 0.0))
    figures.append(
        Figure(
            "cluster",
            "Cluster: the writer's ceiling (every item already in the stream)",
            f"{ceiling:.0f} items/s ({result.writer_items} items in {result.writer_seconds:.2f} s)",
            f"the 3-worker crawl fed it {fed:.1f} pages/s",
            command="chipwatch bench-cluster",
            number=round(ceiling, 1),
            unit="items/s",
            reference_number=round(fed, 2) if fed else None,
            ratio=_ratio(ceiling, fed),
        )
    )
    return figures


def extraction(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Extraction quality and speed on the article-extraction benchmark."""
    from chipwatch.bench.extraction import run

    directory = extraction_pages(shared)
    if directory is None:
        return [_needs_pages("extraction", "Extraction F1 (precision / recall)", shared)]
    reference, ours = run(directory, 40 if quick else None)
    ratio = ours.pages_per_second / reference.pages_per_second
    command = f"chipwatch bench-extract {directory}" + (" --limit 40" if quick else "")
    return [
        Figure(
            "extraction",
            "Extraction F1 (precision / recall)",
            f"{ours.score.f1:.3f} ({ours.score.precision:.3f} / {ours.score.recall:.3f}) on {ours.pages} pages",
            f"trafilatura: {reference.score.f1:.3f} ({reference.score.precision:.3f} / {reference.score.recall:.3f})",
            "≥ 0.965",
            command,
            number=round(ours.score.f1, 4),
            unit="F1",
            reference_number=round(reference.score.f1, 4),
            ratio=_ratio(ours.score.f1, reference.score.f1),
        ),
        Figure(
            "extraction",
            "Extraction speed",
            f"{ours.pages_per_second:.1f} pages/s",
            f"trafilatura: {reference.pages_per_second:.1f} pages/s → {ratio:.2f}×",
            "≥ 0.8×",
            command,
            number=round(ours.pages_per_second, 2),
            unit="pages/s",
            reference_number=round(reference.pages_per_second, 2),
            ratio=round(ratio, 3),
        ),
    ]


def classification(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Classification items per second."""
    from chipwatch.learning import measure_speed

    load_seconds, per_second = measure_speed(options, minimum_items=700 if quick else 3000)
    return [
        Figure(
            "classification",
            "Classification speed (one core)",
            f"{per_second:,.0f} items/s; model loads in {load_seconds:.2f} s",
            target="≥ 5,000 items/s",
            command="chipwatch eval --speed",
            number=round(per_second, 1),
            unit="items/s",
        )
    ]


def grouping(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Copy detection and story assignment cost as the database grows."""
    from chipwatch.bench.grouping import run, story_model

    sizes = [1000, 5000] if quick else [1000, 100_000]
    small, large = run(sizes, 50 if quick else 200, story_model(options))
    ratio = large.ms_per_article / small.ms_per_article
    return [
        Figure(
            "grouping",
            f"Copies + story assignment per new article, {large.stored:,} stored",
            f"{large.ms_per_article:.1f} ms",
            f"{small.stored:,} stored: {small.ms_per_article:.1f} ms → {ratio:.2f}×",
            "≤ 3 ms, and ≤ 1.5× the cost at 1,000",
            f"chipwatch bench-grouping --sizes {sizes[0]},{sizes[1]}",
            number=round(large.ms_per_article, 3),
            unit="ms/article",
            reference_number=round(small.ms_per_article, 3),
            ratio=round(ratio, 3),
        )
    ]


def watches(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Matching watches against one run's new articles."""
    from chipwatch.bench.watches import run

    stored = 2_000 if quick else 20_000
    result = run(stored, 1_000, 100)
    ratio = result.plain_seconds / result.match_seconds
    return [
        Figure(
            "watches",
            f"Matching 100 watches against a 1,000-article run ({result.stored:,} stored before)",
            f"{result.match_seconds:.2f} s ({result.matched:,} matches recorded, messages made)",
            f"each watch as a plain search: {result.plain_seconds:.2f} s → {ratio:.2f}× faster",
            "< 1 s",
            f"chipwatch bench-watches --watches 100 --run-articles 1000 --stored {stored}",
            number=round(result.match_seconds, 3),
            unit="s",
            reference_number=round(result.plain_seconds, 3),
            ratio=_ratio(result.match_seconds, result.plain_seconds),
        )
    ]


def screen(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Screening lists: comparing versions, and screening counterparties."""
    from chipwatch.bench.screening import time_diff, time_screen

    entries, parties = (3_000, 500) if quick else (30_000, 5_000)
    diff = time_diff(entries)
    result = time_screen(parties, entries, naive_sample=50 if quick else 250)
    recall = f"{result.screener_planted_found_in_sample} of {result.sample_planted}"
    command = f"chipwatch bench-screen --entries {entries} --parties {parties}"
    seconds = result.index_seconds + result.screen_seconds
    return [
        Figure(
            "screen",
            f"Comparing a {entries:,}-entry screening list with its previous version",
            f"{diff.seconds:.2f} s ({diff.added} added, {diff.removed} removed, {diff.changed} revised)",
            "",
            "< 2 s",
            command,
            number=round(diff.seconds, 3),
            unit="s",
        ),
        Figure(
            "screen",
            f"Screening {parties:,} counterparties against {entries:,} entries ({result.names:,} names and aliases)",
            f"{seconds:.2f} s (index {result.index_seconds:.2f} s), "
            f"{result.planted_found} of {result.planted} planted variants found",
            f"all-pairs rapidfuzz.process.cdist, one worker: {result.naive_seconds:.1f} s (from {result.naive_sample} "
            f"counterparties, scaled), finding {result.naive_planted_found} of the {result.sample_planted} variants "
            f"the screener finds {recall} of → {result.ratio:.1f}× faster",
            "< 10 s",
            command,
            number=round(seconds, 3),
            unit="s",
            reference_number=round(result.naive_seconds, 3),
            ratio=_ratio(seconds, result.naive_seconds),
        ),
    ]


def search(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Full-text search speed at scale."""
    from chipwatch.bench.search import generate, naive_timing, time_queries

    count = 10_000 if quick else 1_000_000
    path = Path("data") / "bench" / f"search-{count}.db"
    generate(path, count)
    timings = time_queries(path, per=15 if quick else 40)
    naive = naive_timing(path, per=10 if quick else 20)
    command = f"chipwatch bench-search --articles {count}"
    figures = []
    for n, timing in enumerate(timings):
        reference = ""
        if n == 0:
            reference = (
                f"the plain query (FTS join, filter, sort): p95 {naive.p95_ms:.1f} ms → "
                f"{timing.p95_ms / naive.p95_ms:.2f}×"
            )
        figures.append(
            Figure(
                "search",
                f"Search p95, {timing.name}, {count:,} articles",
                f"{timing.p95_ms:.1f} ms (p50 {timing.p50_ms:.1f} ms, {timing.mean_rows:.0f} rows)",
                reference,
                "p95 < 50 ms at 1,000,000",
                command,
                number=round(timing.p95_ms, 2),
                unit="ms",
                reference_number=round(naive.p95_ms, 2) if n == 0 else None,
                ratio=_ratio(timing.p95_ms, naive.p95_ms) if n == 0 else None,
            )
        )
    return figures


def digest(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """Digest rendering for a 500-item day."""
    from chipwatch.bench.digest import time_render

    seconds, size = time_render(options, 500, repeats=3 if quick else 10)
    return [
        Figure(
            "digest",
            "Digest for a 500-item day: the message's size",
            f"{size / 1024:.0f} KB (composed and rendered, HTML and text, in {seconds * 1000:.0f} ms)",
            target="≤ 100 KB",
            command="chipwatch bench --only digest",
            number=round(size / 1024, 1),
            unit="KB",
        ),
        Figure(
            "digest",
            "Digest for a 500-item day: compose + render HTML and text",
            f"{seconds * 1000:.0f} ms",
            command="chipwatch bench --only digest",
            number=round(seconds * 1000, 1),
            unit="ms",
        ),
    ]


def daemon(options: Options, shared: Path, quick: bool) -> list[Figure]:
    """The daemon's memory over many scheduled runs."""
    from chipwatch.bench.daemon import daemon_memory

    early, late = (3, 8) if quick else (10, 200)
    first, last, seconds = daemon_memory(early, late)
    growth = (last - first) / first
    return [
        Figure(
            "daemon",
            f"Daemon memory (with its crawl launcher) after {late} scheduled runs",
            f"{last / 1024:.1f} MB ({seconds:.0f} s)",
            f"after {early} runs: {first / 1024:.1f} MB → {1 + growth:.2f}×",
            "≤ 1.10×",
            "chipwatch bench --only daemon",
            number=round(last / 1024, 1),
            unit="MB",
            reference_number=round(first / 1024, 1),
            ratio=round(1 + growth, 3),
        )
    ]


# In the order a full run takes them.
BENCHMARKS: dict[str, Callable[[Options, Path, bool], list[Figure]]] = {
    "end-to-end": end_to_end,
    "cluster": cluster,
    "extraction": extraction,
    "classification": classification,
    "grouping": grouping,
    "search": search,
    "watches": watches,
    "screen": screen,
    "digest": digest,
    "daemon": daemon,
}
