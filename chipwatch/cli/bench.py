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
def bench_grouping(sizes: str, probes: int) -> None:
    """Measure copy detection + story assignment per new article at different database sizes.

    Synthetic articles arrive at a steady 100 a day; the figure to watch is the ratio between sizes.

    \b
    Example:
      chipwatch bench-grouping --sizes 1000,100000 --probes 200
    """
    from chipwatch.bench.grouping import run

    counts = [int(part) for part in sizes.split(",") if part.strip()]
    results = run(counts, probes)
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

    from chipwatch.bench.all import as_json, chosen_benchmarks, markdown, run_all

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
        target.write_text(markdown(report, PROFILE_NOTES), encoding="utf-8")
        click.echo(f"wrote {target}", err=True)
    if report.notes:
        raise SystemExit(1)


PROFILE_NOTES = """
## What profiling the end-to-end path found

### Earlier (issue 13)

`python -m cProfile -m chipwatch.cli crawl` over the 181 pages served as one feed (one process): 13.9 s, of
which the item pipeline took 9.5 s and extraction 6.7 s of that — trafilatura 5.1 s (its fallback
extractors 1.9 s). The precise extraction pass then skipped the fallback extractors (`fast=True`;
extraction F1 0.970 -> 0.971, 0.85x -> 1.2x trafilatura's speed), and extraction moved into forked worker
processes (`[crawl] extract_workers`, default 2).

### This round (issue 23): before

- Start-up of `chipwatch crawl`, process start to first request: 2.2-2.8 s (`python -X importtime`: 1.5 s
  of imports; aiohttp for Scrapy's remote-control extension 0.18 s, tldextract for the cookies middleware
  0.1 s, Twisted's conch for telnet, trafilatura/bs4/the pipeline 0.5 s, compiling the topics file's 934
  phrase patterns 0.25 s, the entity patterns 0.07 s).
- Copy detection + story assignment (`bench-grouping`, 1,000 stored): 28 ms an article; cProfile: building
  every nearby stored profile from its JSON again for each new article 30%, comparing it 40% (each
  comparison worked out the profile's script, entity classes and weights again), the story's follow-up
  flags rewritten on every join.
- Classification (`eval --speed`): 1,640 items/s; half of it finding which of 826 literals occur (a
  substring search per candidate), the rest the linear model's two look-ups per feature.
- `to_simplified` (Traditional -> Simplified before matching) called `str.translate` on every title and
  body several times a page: 1.5 ms per 10 KB of English text with nothing to map.

### This round: what changed

1. Scrapy components a chipwatch crawl never uses are left out of the base settings (not set to None:
   Scrapy imports every class a setting names); the pipeline's heavy half is imported in a warm-up thread
   while the first requests are out (`pipeline.stages.Warmup`); phrase and entity patterns are compiled
   when first needed; bs4 is imported with the first feed. First request: 2.2-2.8 s -> 1.2-1.5 s.
   `tests/test_startup.py` fails when one of those modules is back on the start-up path. `make test`:
   6 m 13 s -> 4 m 47 s (most of its tests start crawl processes).
2. Grouping keeps the stored profiles it has read (read again when their revision, text, title or dates
   change; migration 0019), works out each profile's script, entity classes and entity weight once, and
   writes only the follow-up flags that change: 28 -> 10-13 ms an article. In this benchmark every new
   article links to about 100 of the 300 near it and all join one story of 400 articles; what is left
   is comparing those 300 (links, 3-4 ms), refreshing that story (2-3 ms) and listing the window (2 ms).
3. Classification finds the literals in one Aho-Corasick pass, runs each phrase's pattern at most once per
   text, and looks each model feature up once: 1,640 -> 2,300 items/s (same scores: the tests compare the
   literal finder with a substring search).
4. `to_simplified` returns a text with no Traditional character as it is (one regex scan): 15x on English.
5. The daemon's crawls are forked from a crawl launcher that has imported Scrapy and the pipeline and
   loaded the classifier (chipwatch/crawl/launcher.py): a scheduled crawl sends its first request about
   0.25 s after it is due. `chipwatch crawl` typed at a prompt still starts a new interpreter; Python,
   click and Scrapy with Twisted alone take about 0.7 s of its 1.2 s there.

### A second pass (issue 23, continued)

6. A profile of the one-worker crawl (`python -m cProfile -m chipwatch.cli crawl`) showed 19,327 asyncio
   tasks for 181 pages: Scrapy starts CONCURRENT_ITEMS (default 100) tasks for every response's output,
   however few items it holds (1.1 s of a 20 s profile). Setting it to 4 cut that to 1,855 tasks, but it
   changed the order in which pages reach story grouping enough to make the demo's story tests fail 3
   runs in 10 instead of about 1 in 10 (grouping depends on which syndicated copy is stored first), so
   it was reverted; the setting stays at Scrapy's default until grouping no longer depends on that order.
7. Memory with two workers: each worker loaded jusText's stoplists for every language (~30 MB, 0.3 s)
   on its first page that needed trafilatura's fallback extractors. The warm-up thread (and the daemon's
   crawl launcher) now extracts a small built-in page first, so they are loaded once, before the fork,
   and shared: a worker's own memory 53-66 MB -> 25-36 MB, the crawl's peak 307 -> ~270 MB PSS.
   `tests/test_startup.py` checks a forked child adds under 15 MB on such a page (40 MB without it).
8. Classification (callgrind, instructions per pass over the 692-item corpus): 894 M -> 706 M. The rules
   score only the phrase groups whose literals occur (they had intersected every one of 12 groups with
   the literals found), the combiner is written out instead of summed over a zip, and 1 + log(count) comes
   from a table (a headline's features all count twice). Same scores to the last digit on the corpus;
   a test compares the rules with scoring every phrase the plain way.
9. Looked at and left: search sorted by relevance spends its time in FTS5's bm25, which costs about
   5 us a matching row plus more for every phrase of the query (a 60-day window adds ten month tokens:
   10 us a row); ranking ~9,700 matches cannot come under 50 ms that way. Copy detection's MinHash (one
   blake2b per shingle) keeps its hash so stored fingerprints stay comparable.

### A third pass (issue 23, continued)

10. Memory with two workers (peak PSS sampled every 50 ms, per process at the peak): the crawl's own
    process held 95-99 MB of its own and each worker 18-35 MB. Workers now give their free heap back to
    the system after each page (glibc's malloc_trim, 0.4 ms a page, spent while the crawl's process is the
    slower side), and the crawl freezes its objects (gc.freeze) before it forks them, so the collector no
    longer copies the pages they share: 263-267 MB -> 235-247 MB over 7 runs, under the 250 MB target.
    `tests/test_startup.py` checks that a worker keeps 2 MB of a 3 MB page's 26 MB.
11. The daemon's crawl launcher compiles the rules' 934 phrase patterns (0.11 s) and the gazetteer's 242
    (0.03 s) before it forks; a crawl on its own had compiled them while its first articles waited
    (py-spy: 0.19 s of a 181-page crawl). A crawl of its own compiles the gazetteer in its warm-up thread.
12. Per real page (the 181 pages' extracted texts, 4,470 characters on average): entities took 0.99 ms,
    most of it a substring search for each of the gazetteer's 242 forms; one Aho-Corasick pass now finds
    the forms present (0.45 ms). The rules' regular expressions searched from the text's start; a phrase
    whose matches start with its literal is now searched from the literal's first occurrence (classifying
    1.75 -> 1.51 ms). Both give the same results on 1,115 and 1,699 texts (real pages, the labelled corpus,
    and every form and literal at word edges and inside longer words), and the tests compare them with
    the plain search.
13. Looked at and left, with the figures of this machine on 2026-12-04:
    - Start-up of `chipwatch crawl` is 0.62-0.68 s to the first request: the interpreter and click 0.05 s,
      importing Scrapy and Twisted 0.33 s (Twisted's TCP transport imports pyOpenSSL and cryptography,
      0.07 s; sqlite-utils imports numpy, 0.06 s), Scrapy's HTTP handler 0.06 s, building the crawler
      and loading the classifier 0.05 s, opening the spider and the database 0.06 s. The 0.5 s target
      would need Scrapy and Twisted to import less; a scheduled crawl, forked by the launcher, starts in
      about 0.3 s.
    - Grouping, 4.9-5.0 ms an article at 1,000 and 100,000 stored: comparing the ~300 profiles near it
      1.6 ms, joining the story 1.3 ms (refresh_summary reads the whole story again, and in this
      benchmark all 300 new articles join one story that grows to 600), listing the window 0.7 ms, the
      commit 0.7 ms. A numpy keyword overlap cut its share from 0.88 to 0.22 ms but not to the same last
      bit, so it was left; 3 ms needs a story summary kept up to date article by article.
    - Search sorted by relevance: sorting the matches on their keys and reading only the page's rows
      changed nothing (p50 40 ms both ways): the cost is bm25 itself.
    - End to end, extraction alone (`pipeline.extract.extract_page` over the 181 pages) takes 2.9 s, as
      long as the `trafilatura.extract` reference (2.9-3.1 s); the rest of the pipeline and Scrapy add
      2.5 s, so one worker cannot reach 1.2x. With two workers the crawl's own process is the slower side
      (downloading, classifying, entities, copies and storing, 19 ms a page).

### Where the time goes now

A one-worker crawl of the 181 pages, sampled with py-spy at 250 Hz (shares of the crawl process's
samples, after items 10-12): extraction 51% (trafilatura's own pruning and extraction most of it: its XPath
pruning 14%), classification 5%, copy detection 4%, storing 3%, metadata 2%, entities 2%, normalising 1%,
stories 1%; Scrapy's own downloading, scheduling and callbacks 12%; start-up and exit 18%. Extraction is
what the reference does, at about its speed; the end-to-end ratio cannot pass 1x with one worker without
extracting with less than trafilatura, which would cost F1. With two workers the crawl's own process and
the two workers share two cores.

The reference is single-threaded `trafilatura.extract` with its defaults over the same pages (the median
of three passes in a full run); the pipeline's figure includes fetching over HTTP, metadata, dates,
language, classification, entities, copy detection, stories and storing.
"""


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
