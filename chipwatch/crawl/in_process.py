"""`chipwatch crawl`: run the configured sources' spiders now, in this process, and report each run.

With a cluster configured ([cluster] redis) the spiders run on its workers instead, and this process is the
database's one writer for the crawl (chipwatch/cluster/writer.py); everything else here is the same.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

import chipwatch.crawl.scrapy_tls  # noqa: F401  (before anything else of Scrapy's: see there)

# isort: split
from scrapy.crawler import Crawler, CrawlerProcess
from sqlite_utils import Database

from chipwatch.config import Options
from chipwatch.crawl.locks import LockHeld, SourceLock
from chipwatch.crawl.progress import Progress
from chipwatch.crawl.recorder import plural
from chipwatch.crawl.settings import scrapy_settings
from pipeline.dates import utc_now_iso
from spiders.federal_register import FederalRegisterSpider
from spiders.feeds import FeedSpider
from spiders.listings import ListingSpider
from spiders.screening_list import ScreeningListSpider
from spiders.search_feeds import SearchFeedSpider
from spiders.sitemaps import SitemapSpider
from spiders.sources import Source, load_sources, select_sources
from storage import opened
from storage.crawl_runs import errors_for_run, get_run
from storage.schedule import settle_orphans, settle_runs
from storage.sources import sync_sources

SPIDERS = {
    spider.kind: spider
    for spider in (
        FeedSpider,
        SearchFeedSpider,
        SitemapSpider,
        FederalRegisterSpider,
        ListingSpider,
        ScreeningListSpider,
    )
}


@dataclass
class RunResult:
    source: str
    run_id: int | None
    status: str
    pages_fetched: int = 0
    items_new: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    items_dropped: int = 0
    errors: int = 0
    first_errors: tuple[str, ...] = ()
    pages_by_worker: dict[str, int] = field(default_factory=dict)  # a cluster's crawl: who fetched what


def interrupted(results: list[RunResult]) -> str | None:
    """The one line for a crawl stopped by Ctrl-C (or SIGTERM), or None when it was not."""
    cancelled = [r for r in results if r.status == "cancelled"]
    if not cancelled:
        return None
    stored = sum(r.items_new + r.items_updated for r in results)
    return f"interrupted — {plural(stored, 'item')} stored, {plural(len(cancelled), 'source')} unfinished"


def crawl(
    options: Options, names: tuple[str, ...] = (), *, stream: TextIO = sys.stderr, verbose: bool = False
) -> list[RunResult]:
    """Crawl the named sources (all enabled ones by default) concurrently; one crawl run each."""
    sources = load_sources(options.crawl.sources)
    chosen = select_sources(sources, names)
    with opened(options.storage.db) as db:  # creates and migrates before any spider starts
        sync_sources(db, [source.row() for source in sources], utc_now_iso())
    if not chosen:
        return []
    # One crawl per source at a time: a second `chipwatch crawl` (or the daemon) refuses a source that is
    # being crawled instead of fetching and writing it twice.
    locks, refused = [], []
    for source in chosen:
        lock = SourceLock(options.storage.db, source.name)
        try:
            lock.acquire()
            locks.append((source, lock))
        except LockHeld as held:
            refused.append(RunResult(source.name, None, "skipped", first_errors=(str(held),)))
    try:
        if not locks:
            return refused
        with opened(options.storage.db) as db:
            # We hold these sources' locks: a run still marked running was cut short (a killed crawl).
            for source, _ in locks:
                settle_orphans(db, utc_now_iso(), source.name)
        if options.cluster.enabled:
            from chipwatch.cluster.writer import write_crawls

            run_ids, workers = write_crawls(options, [source for source, _ in locks], stream=stream)
        else:
            run_ids, workers = _crawl_here(options, [source for source, _ in locks], stream, verbose), {}
    finally:
        for _, lock in locks:
            lock.release()
    with opened(options.storage.db, readonly=True) as db:
        results = [_result(db, source, run_ids.get(source.name), workers) for source, _ in locks] + refused
    if not interrupted(results):
        _watch_pass(options, stream)
    return results


def _crawl_here(options: Options, sources: list[Source], stream: TextIO, verbose: bool) -> dict[str, int]:
    """Every source's spider in this process; the run id of each source that started."""
    from pipeline.stages import preload_classifier

    # Loaded here, where a broken topics or model file is one line of error before any source starts; inside
    # Scrapy it would be a traceback per source. Each crawl's classify stage then finds it loaded.
    preload_classifier(options.classify.topics, options.classify.model)
    # Without -v, Scrapy's own log stays quiet: every failure is recorded on its run and summarised.
    settings = scrapy_settings(options, log_level="INFO" if verbose else "CRITICAL")
    settings["CHIPWATCH_SOURCES_SYNCED"] = True  # done by crawl(), once for the whole crawl
    # Each crawl is given its spider class: Scrapy need not import every module of spiders/ to find them.
    settings["SPIDER_MODULES"] = []
    process = CrawlerProcess(settings)
    if not verbose:
        # A site whose robots.txt cannot be fetched is crawled as if it had none; Scrapy would print a
        # traceback for it. The page's own failure, if any, is recorded on the run.
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    progress = Progress(stream)
    crawlers: list[tuple[Source, Crawler]] = []
    for source in sources:
        crawler = process.create_crawler(SPIDERS[source.kind])
        progress.attach(crawler)
        process.crawl(crawler, source=source)
        crawlers.append((source, crawler))
    # Scrapy leaves the root logger at NOTSET (again with each crawler it makes) and drops what is below
    # LOG_LEVEL in its handler, so every debug call of Scrapy's and trafilatura's (several a page) still
    # built its record, looking up the caller's frame, before the handler dropped it. For the crawl, the
    # loggers stop them: the root and Scrapy's own, which Scrapy sets to DEBUG.
    loggers = [logging.getLogger(name) for name in ("", "scrapy")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(settings["LOG_LEVEL"])
    try:
        process.start()
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    with opened(options.storage.db) as db:
        # A second Ctrl-C stops Scrapy before its spiders close: their runs end here, as cancelled.
        settle_runs(db, os.getpid(), "cancelled", utc_now_iso(), only_unfinished=True)
    run_ids = {}
    for source, crawler in crawlers:
        run_id = crawler.stats.get_value("chipwatch/run_id") if crawler.stats else None
        if run_id:
            run_ids[source.name] = int(run_id)
    return run_ids


def _watch_pass(options: Options, stream: TextIO) -> None:
    """The run's new articles matched against every watch, and what is due sent, once they are stored. A
    failure here is said and never fails the crawl: the next pass matches the same articles again."""
    from chipwatch.watches.run import watch_pass

    try:
        result = watch_pass(options)
    except Exception as error:  # the crawl's articles are stored; the watches catch up on the next pass
        logging.getLogger("chipwatch.watches").exception("watch pass failed")
        stream.write(f"watches not matched this time (they catch up on the next run): {error}\n")
        return
    for note in result.notes:
        stream.write(note + "\n")
    line = result.summary()
    if line:
        stream.write(line + "\n")


def _result(db: Database, source: Source, run_id: int | None, workers: dict[int, dict[str, int]]) -> RunResult:
    run = get_run(db, run_id) if run_id else None
    if run is None or run_id is None:
        return RunResult(source.name, None, "failed", first_errors=("the spider did not start",))
    errors = tuple(f"{e['kind']}: {e['url'] or '-'}: {e['message']}" for e in errors_for_run(db, run_id)[:5])
    return RunResult(
        source=source.name,
        run_id=run_id,
        status=run["status"],
        pages_fetched=run["pages_fetched"],
        items_new=run["items_new"],
        items_updated=run["items_updated"],
        items_unchanged=run["items_unchanged"],
        items_dropped=run["items_dropped"],
        errors=run["errors"],
        first_errors=errors,
        pages_by_worker=workers.get(run_id, {}),
    )
