"""Benchmark commands: bench (all of them), bench-extract, bench-search, bench-grouping."""

from __future__ import annotations

from pathlib import Path

import click

from chipwatch.config import Options


@click.command(name="bench-extract")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--limit", type=click.IntRange(1), help="Only the first N pages (by id).")
@click.option("--dates/--no-dates", default=True, show_default=True, help="Score publication days too.")
def bench_extract(directory: Path, limit: int | None, dates: bool) -> None:
    """Score chipwatch's article extraction against hand-checked bodies, beside trafilatura alone.

    Prints F1, precision, recall and pages per second for both, and chipwatch's speed as a share of
    trafilatura's measured in the same run; then, on the pages whose publication day chipwatch ships a
    hand label for (the 181 pages of the shared benchmark), how often the stored day is right beside
    htmldate's (--no-dates skips that pass).

    \b
    Example:
      chipwatch bench-extract ../shared/benchmarks/article-extraction
    """
    from chipwatch.bench.extraction import load_benchmark, load_day_labels, run, run_dates

    reference, ours = run(directory, limit)
    for result in (reference, ours):
        s = result.score
        click.echo(
            f"{result.name:<12} F1 {s.f1:.3f}  precision {s.precision:.3f}  recall {s.recall:.3f}  "
            f"{result.pages_per_second:6.1f} pages/s  ({result.pages} pages, {result.seconds:.1f} s)"
        )
    ratio = ours.pages_per_second / reference.pages_per_second if reference.pages_per_second else 0.0
    click.echo(f"chipwatch speed: {ratio:.2f}x trafilatura's; F1 {ours.score.f1 - reference.score.f1:+.3f}")
    if dates:
        labels = load_day_labels()
        for day_run in run_dates(load_benchmark(directory, limit), labels):
            click.echo(
                f"{day_run.name:<12} publication day right on {day_run.right}/{day_run.labelled} labelled pages "
                f"({day_run.accuracy:.1%})"
            )


@click.command(name="bench-search")
@click.option("--articles", default=1_000_000, show_default=True, type=click.IntRange(100), help="Synthetic articles.")
@click.option("--runs", default=40, show_default=True, type=click.IntRange(1), help="Queries timed per scenario.")
@click.option(
    "--db",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the synthetic database lives (default: data/bench/search-N.db; kept and reused).",
)
def bench_search(articles: int, runs: int, path: Path | None) -> None:
    """Time searches on a database of synthetic articles: full text with topic and date filters, Chinese
    words, common and rare words; prints p50 and p95 per scenario. Generating a million articles takes a
    few minutes the first time.

    \b
    Example:
      chipwatch bench-search --articles 1000000
    """
    import time

    from chipwatch.bench.search import generate, time_queries

    path = path or Path("data") / "bench" / f"search-{articles}.db"
    started = time.perf_counter()
    generate(path, articles)
    click.echo(f"{articles:,} synthetic articles in {path} (ready in {time.perf_counter() - started:.0f} s)")
    for timing in time_queries(path, per=runs):
        click.echo(
            f"{timing.name:<40} p50 {timing.p50_ms:6.1f} ms  p95 {timing.p95_ms:6.1f} ms  "
            f"({timing.runs} queries, {timing.mean_rows:.0f} rows each)"
        )


@click.command(name="bench-grouping")
@click.option("--sizes", default="1000,100000", show_default=True, help="Stored-article counts to compare.")
@click.option("--probes", default=200, show_default=True, type=click.IntRange(10, 100_000))
@click.pass_obj
def bench_grouping(options: Options, sizes: str, probes: int) -> None:
    """Measure copy detection + story assignment per new article at different database sizes.

    Synthetic articles arrive at a steady 100 a day; the figure to watch is the ratio between sizes.

    \b
    Example:
      chipwatch bench-grouping --sizes 1000,100000 --probes 200
    """
    from chipwatch.bench.grouping import run, story_model

    counts = [int(part) for part in sizes.split(",") if part.strip()]
    results = run(counts, probes, story_model(options))
    base = results[0].ms_per_article
    for result in results:
        click.echo(
            f"{result.stored:>9,} stored: {result.ms_per_article:7.2f} ms per article "
            f"({result.ms_per_article / base:.2f}x the first size), {result.probes} new articles"
        )


@click.command(name="bench-watches")
@click.option("--watches", "count", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--run-articles", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--stored", default=20_000, show_default=True, type=click.IntRange(0, 10_000_000))
@click.pass_obj
def bench_watches(options: Options, count: int, run_articles: int, stored: int) -> None:
    """Time matching watches against one run's new articles, beside running each watch as a plain search.

    \b
    Example:
      chipwatch bench-watches --watches 100 --run-articles 1000
    """
    from chipwatch.bench.watches import run

    result = run(stored, run_articles, count, options)
    click.echo(
        f"{result.watches} watches against {result.run_articles:,} new articles ({result.stored:,} stored before): "
        f"{result.match_seconds:.2f} s, {result.matched:,} matches recorded; each watch as a plain search: "
        f"{result.plain_seconds:.2f} s → {result.plain_seconds / result.match_seconds:.2f}x"
    )


@click.command(name="bench-screen")
@click.option("--entries", default=30_000, show_default=True, type=click.IntRange(100, 1_000_000))
@click.option("--parties", default=5_000, show_default=True, type=click.IntRange(10, 1_000_000))
@click.option("--sample", default=250, show_default=True, type=click.IntRange(10, 100_000),
              help="Counterparties the all-pairs reference is timed on (then scaled to all).")  # fmt: skip
def bench_screen(entries: int, parties: int, sample: int) -> None:
    """Time comparing a synthetic screening list with its next version, and screening counterparties
    against it, beside an all-pairs fuzzy comparison of every name (the reference, in the same run).

    \b
    Example:
      chipwatch bench-screen --entries 30000 --parties 5000
    """
    from chipwatch.bench.screening import time_diff, time_screen

    diff = time_diff(entries)
    click.echo(
        f"diff of {entries:,} entries against the previous version: {diff.seconds:.2f} s "
        f"({diff.added} added, {diff.removed} removed, {diff.changed} revised)"
    )
    result = time_screen(parties, entries, naive_sample=min(sample, parties))
    click.echo(
        f"screening {result.parties:,} counterparties against {result.entries:,} entries ({result.names:,} names): "
        f"{result.index_seconds + result.screen_seconds:.2f} s (index {result.index_seconds:.2f} s), "
        f"{result.planted_found}/{result.planted} planted variants found; all pairs: {result.naive_seconds:.1f} s "
        f"(scaled from {result.naive_sample}; it finds {result.naive_planted_found}/{result.sample_planted} "
        f"there, the screener {result.screener_planted_found_in_sample}) → {result.ratio:.1f}x"
    )


@click.command()
@click.option("--quick", is_flag=True, help="Small sizes, under two minutes: a smoke check of every benchmark.")
@click.option(
    "--only",
    metavar="NAME[,NAME...]",
    help="Run just these benchmarks: end-to-end, cluster, extraction, classification, grouping, search, "
    "watches, screen, digest, daemon.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: a list of {name, value, unit, reference, ratio, ...}, one per figure, for scripts.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here (default: BENCHMARKS.md for a full run of every benchmark; nothing otherwise).",
)
@click.option(
    "--shared",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("../shared"),
    show_default=True,
    help="Where the benchmark pages are (benchmarks/article-extraction).",
)
@click.pass_obj
def bench(options: Options, quick: bool, only: str | None, output_format: str, out: Path | None, shared: Path) -> None:
    """Run the benchmarks: end to end against trafilatura alone (with the configured extraction workers,
    [crawl] extract_workers, and with one), crawling on a cluster, extraction quality and speed,
    classification, copy and story assignment at 1k and 100k articles, search at a million articles,
    watches, screening lists, the digest for a 500-item day, and the daemon's memory over 200 scheduled
    runs. Prints each figure beside the reference measured in the same run; a full run writes BENCHMARKS.md.
    A benchmark that needs ../shared says so and is skipped when it is absent.

    \b
    Example:
      chipwatch bench                                  # every benchmark, about 15 minutes
      chipwatch bench --quick                          # under two minutes
      chipwatch bench --only end-to-end,grouping --format json
    """
    import json

    from chipwatch.bench.all import as_json, chosen_benchmarks, markdown, profile_notes, run_all

    names = chosen_benchmarks(only)
    report = run_all(options, shared, quick, log=lambda line: click.echo(line, err=True), names=names)
    if output_format == "json":
        click.echo(json.dumps(as_json(report), ensure_ascii=False, indent=2))
    else:
        for figure in report.figures:
            if figure.skipped:
                click.echo(f"skipped {figure.benchmark}: {figure.skipped}")
                continue
            reference = f"  [{figure.reference}]" if figure.reference else ""
            click.echo(f"{figure.name}: {figure.value}{reference}")
        for note in report.notes:
            click.echo(f"not measured: {note}")
    target = out or (None if quick or only else Path("BENCHMARKS.md"))
    if target is not None:
        target.write_text(markdown(report, profile_notes()), encoding="utf-8")
        click.echo(f"wrote {target}", err=True)
    if report.notes:
        raise SystemExit(1)


@click.command(name="bench-cluster")
@click.option(
    "--shared", type=click.Path(path_type=Path, file_okay=False), default=Path("../shared"), show_default=True
)
@click.option("--workers", default="1,2,3", show_default=True, help="Worker counts to measure, comma-separated.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N pages.")
def bench_cluster(shared: Path, workers: str, limit: int | None) -> None:
    """Crawl the end-to-end benchmark's pages (the 181 shared pages, else the demo's) with 1, 2 and 3
    workers and one writer on a redis-server of its own, beside the one-machine crawl measured in the same
    run; then the writer's ceiling in items per second. Needs redis-server.

    \b
    Example:
      chipwatch bench-cluster --workers 1,2,3
    """
    from chipwatch.bench.cluster import run
    from chipwatch.errors import ConfigError

    try:
        counts = tuple(int(part) for part in workers.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--workers: {workers!r} is not a list of numbers such as 1,2,3") from None
    result = run(shared, counts or (1,), limit)
    one = result.rate(result.one_machine_seconds)
    click.echo(f"one machine     {one:6.1f} pages/s  ({result.pages} pages, {result.one_machine_seconds:.1f} s)")
    for count, seconds in result.seconds_by_workers.items():
        rate = result.rate(seconds)
        click.echo(f"{count} worker(s)     {rate:6.1f} pages/s  ({seconds:.1f} s) → {rate / one:.2f}x one machine")
    ceiling = result.writer_items / result.writer_seconds if result.writer_seconds else 0.0
    click.echo(f"writer ceiling  {ceiling:6.0f} items/s  ({result.writer_items} items, {result.writer_seconds:.2f} s)")
