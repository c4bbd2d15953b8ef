"""The crawl's item pipeline: one small Scrapy stage per step of pipeline/process.py.

extract -> normalise -> site name -> classify -> entities | dedupe -> store -> story. The stages before the
bar need only the page; those after it need the database (in a cluster only its writer runs them). Each
stage reads its settings in from_crawler, takes the crawl's one database connection in open_spider, calls
its step, and either returns the item or raises DropItem with a reason that the crawl run records. The steps
themselves are plain functions that `chipwatch cluster`, `reclassify` and the benchmarks call too.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cached_property, lru_cache, partial
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy import signals
from scrapy.exceptions import DropItem
from sqlite_utils import Database

from chipwatch.errors import ConfigError
from pipeline.classify import Classifier, load_classifier
from pipeline.crawl_storage import CrawlStorage
from pipeline.items import ArticleItem
from pipeline.signals import fetch_failed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipeline.extract import ExtractedPage


class Warmup:
    """The pipeline's heavy half (pipeline/process.py: trafilatura, entities, grouping, storage), imported
    in a thread of its own while the crawl's first requests are out, instead of before they can leave:
    a third of a second of every crawl's start-up. The thread then extracts a built-in page once
    (pipeline.extract.warm_up). Every stage waits for it before its first item."""

    thread: ClassVar[threading.Thread | None] = None
    lock = threading.Lock()
    froze: ClassVar[bool] = False  # see freeze_loaded

    @classmethod
    def start(cls) -> None:
        with cls.lock:
            if cls.thread is None:
                cls.thread = threading.Thread(target=_import_pipeline, name="chipwatch-warmup", daemon=True)
                cls.thread.start()

    @classmethod
    def process(cls) -> ModuleType:
        """pipeline.process, once the warm-up has imported it (imported here if it never started)."""
        thread = cls.thread
        if thread is not None:
            thread.join()
        from pipeline import process

        return process


def _start_warmup() -> None:
    Warmup.start()


def _import_pipeline() -> None:
    try:
        # bs4 first: feed parsing imports it in the crawl's own thread too, and two threads entering one
        # package from the same module cannot deadlock.
        import bs4  # noqa: F401

        import pipeline.process  # noqa: F401
        from pipeline.entities import compile_patterns
        from pipeline.extract import warm_up

        warm_up()  # before the extraction workers are forked from this process
        compile_patterns()  # while the first requests are out, not when the first article waits for them
    except Exception:  # the stage's own import raises the same error where the crawl records it
        return
    freeze_loaded()


def freeze_loaded() -> None:
    """Freeze every object made so far (gc.freeze), once a process: the collector never visits them again.

    Once the pipeline has loaded, those are the process's modules, models, compiled patterns and settings,
    most of its heap, alive as long as it is. A crawl's full collections went through all of them again
    and again (0.15 s of a 181-page crawl with one worker), and in forked extraction workers every visit
    wrote to the pages they share with the crawl, which then got copied into each worker (with two workers
    over the 181 benchmark pages this, and giving back each page's memory, took the peak from 263-267 MB
    to 235-247 MB). Only once: freezing again later (a cluster worker runs many crawls) would keep for
    good whatever garbage the collector had not reached by then.
    """
    with Warmup.lock:
        if not Warmup.froze:
            gc.freeze()
            Warmup.froze = True


class DuplicateItem(DropItem):
    """The same article was already handled in this crawl: dropped, but not an error."""


class DatabaseStage:
    """A stage that reads or writes the database, through the crawl process's one connection."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatabaseStage:
        return cls(crawler)

    def open_spider(self) -> None:
        CrawlStorage.connection(self.crawler)  # a crawl without a database fails here, at its start

    @property
    def conn(self) -> Database:
        """The process's connection; the run recorder opens and closes it."""
        return CrawlStorage.connection(self.crawler)


class ExtractStage:
    """Body text and metadata from the page, with the feed entry as fallback.

    Extraction is most of a crawl's CPU time, so with workers > 1 it runs in that many worker processes
    (forked on first use) while the crawl's own process downloads, classifies and stores. Every source
    crawled in the process shares the one pool: eighteen sources still make two workers, not thirty-six.
    """

    shared_pool: ClassVar[ProcessPoolExecutor | None] = None
    users: ClassVar[int] = 0

    def __init__(self, signals: Any = None, workers: int = 1) -> None:
        self.signals = signals
        self.workers = workers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractStage:
        return cls(crawler.signals, crawler.settings.getint("CHIPWATCH_EXTRACT_WORKERS", 1))

    def open_spider(self) -> None:
        ExtractStage.users += 1
        if self.signals is None:
            Warmup.start()
        else:
            # Once the first request is on its way: started any earlier, the warm-up's imports hold the
            # interpreter while that request is being made (0.5 s of a crawl's first 0.6 s is already imports).
            self.signals.connect(_start_warmup, signal=signals.request_reached_downloader)

    def close_spider(self) -> None:
        ExtractStage.users -= 1
        if ExtractStage.users <= 0 and ExtractStage.shared_pool is not None:
            ExtractStage.shared_pool.shutdown(wait=False, cancel_futures=True)
            ExtractStage.shared_pool = None

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        process = Warmup.process()
        try:
            if not item.page_fetched:
                return process.from_entry(item)
            problems = process.apply_extraction(item, await self._extract(item))
        except process.EmptyPage as empty:
            raise DropItem(str(empty)) from None
        for problem in problems:
            self._warn(item, "extract", problem)
        return item

    async def _extract(self, item: ArticleItem) -> ExtractedPage:
        from pipeline.extract import extract_page

        if self.workers <= 1:
            return extract_page(item.body, item.url, content_type=item.content_type, lang_hint=item.source_lang)
        job = partial(_extract_in_worker, item.body, item.url, item.content_type, item.source_lang)
        if ExtractStage.shared_pool is None:
            ExtractStage.shared_pool = self._start_pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(ExtractStage.shared_pool, job)
        except BrokenProcessPool:
            # A worker died on this page (or was killed): the page is dropped, the next ones get a new pool.
            ExtractStage.shared_pool = None
            raise DropItem(f"extraction crashed on {item.url}") from None

    def _start_pool(self) -> ProcessPoolExecutor:
        """The workers, forked: they start at once with everything already imported and loaded, and frozen
        (freeze_loaded), so that the pages they share with the crawl stay shared."""
        freeze_loaded()
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))

    def _warn(self, item: ArticleItem, kind: str, message: str) -> None:
        if self.signals is not None:
            self.signals.send_catch_log(
                signal=fetch_failed, source=item.source, url=item.url, kind=kind, message=message, fatal=False
            )


class NormaliseStage:
    """Dates as UTC ISO 8601, clean whitespace, a summary and a content hash."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().normalise(item)


class SiteNameStage(DatabaseStage):
    """Titles without the site's name, where the site's stored pages taught it (pipeline/site_names.py)."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().drop_site_name(self.conn, item)


class DedupeStage(DatabaseStage):
    """One article per canonical URL in a crawl; pages that copy a stored article (the same text, or a
    syndicated version with small edits) become copies of it instead of articles of their own."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[str] = set()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        canonical = item.canonical_url or item.url
        if canonical in self.seen:
            raise DuplicateItem(f"duplicate: {canonical} was already handled in this crawl")
        self.seen.add(canonical)
        return Warmup.process().find_duplicate(self.conn, item)


def _extract_in_worker(body: bytes, url: str, content_type: str | None, lang: str | None) -> ExtractedPage:
    """One page in an extraction worker, after which the worker gives back the memory the page took."""
    from pipeline.extract import extract_page

    try:
        return extract_page(body, url, content_type=content_type, lang_hint=lang)
    finally:
        release_free_memory()


def release_free_memory() -> None:
    """Return the heap's free pages to the system, where the C library can (glibc's malloc_trim).

    A page's parse trees and strings are freed when it is done, but glibc keeps the freed pages, scattered
    between live objects, as the process's own: a worker stays as large as its largest pages made it.
    Trimming after each page took the crawl with two workers over the 181 benchmark pages from 263-267 MB
    to 247-263 MB at its peak, for about 0.4 ms a page (2% of extraction), spent while the crawl's own
    process, the slower side with two workers, is still busy with an earlier page.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc (musl, macOS): nothing to do
        return None


def crawl_classifier(crawler: Crawler) -> Classifier:
    """The classifier the crawl's settings name, loaded once per process (every source crawled in it shares
    it; a model file that changed on disk is loaded again)."""
    topics = crawler.settings.get("CHIPWATCH_TOPICS")
    if not topics:
        raise ConfigError("the crawl has no topics file: set CHIPWATCH_TOPICS ([classify] topics)")
    model = crawler.settings.get("CHIPWATCH_MODEL")
    paths = (Path(topics), Path(model) if model else None)
    return _load_classifier(*paths, *(_stamp(path) for path in paths))


def preload_classifier(topics: Path, model: Path | None) -> Classifier:
    """Load the classifier a crawl with these paths will ask for (the daemon's crawl launcher does, once,
    before it forks the crawls; `chipwatch crawl` before its spiders start)."""
    paths = (Path(topics), Path(model) if model else None)
    return _load_classifier(*paths, *(_stamp(path) for path in paths))


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat is not None else None


@lru_cache(maxsize=4)
def _load_classifier(topics: Path, model: Path | None, *_stamps: object) -> Classifier:
    return load_classifier(topics, model)


class ClassifyStage:
    """Relevance and topics from the topics file and the trained model."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClassifyStage:
        return cls(crawl_classifier(crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().tag(self.classifier, item)


class EntitiesStage:
    """Companies, chips, agencies, bills, people, percentages and money named in the article."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().name_entities(item)


class StoreStage(DatabaseStage):
    """Upsert into SQLite keyed on canonical URL (or record a copy); one transaction per item."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().store(self.conn, item)


class LearnSiteNameStage(DatabaseStage):
    """A new article's trailing title segment counted for its site; shared by enough pages, it is learned."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().learn_site_name(self.conn, item)


class TitleOnlyStage(DatabaseStage):
    """A new full article takes in the search results stored from its headline alone, as its copies."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().absorb_title_only_copies(self.conn, item)


class StoryStage(DatabaseStage):
    """New relevant articles join the open story they continue (a follow-up) or start a new one."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)

    @cached_property
    def stories(self) -> Any:
        """What grouping weighs words and entities by (process.StoryModel), from the crawl's classifier."""
        return Warmup.process().StoryModel.of(crawl_classifier(self.crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return Warmup.process().group(self.conn, self.stories, item)
