"""A Scrapy extension that records each crawl in crawl_runs: counts, failures with their URLs, the outcome.

It is the one writer of a crawl's counts: it keeps them in Scrapy's stats (under chipwatch/), where the
live progress line reads them, and writes them to the run's row at the end, where the summary reads them.
It also owns the crawl process's database connection (pipeline/crawl_storage.py) for as long as its
spider runs, and writes what the spider asks to keep (the server's validators) after a clean run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals
from sqlite_utils import Database

from chipwatch.crawl.runbook import RunBook, RunEnd
from pipeline.crawl_storage import CrawlStorage
from pipeline.dates import utc_now_iso
from pipeline.signals import entries_listed, fetch_failed
from pipeline.stages import DuplicateItem
from storage.crawl_runs import start_run
from storage.sources import sync_sources

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


# The counts a run keeps, as Scrapy stats keys (chipwatch/<name>) and as crawl_runs columns (<name>).
COUNTS = ("pages_fetched", "items_new", "items_updated", "items_unchanged", "items_dropped", "errors")
# Entries the source's documents listed; absent (NULL) when no document was read (a 304 Not Modified), which
# is not the same as a document that listed nothing.
ENTRIES = "entries_found"
STORE_STATUS_COUNT = {"new": "items_new", "copy": "items_new", "updated": "items_updated"}


def plural(number: int, word: str) -> str:
    """'1 article', '2 articles'; 'copy' and 'story' as English has them."""
    if number == 1:
        return f"{number} {word}"
    return f"{number} {word[:-1]}ies" if word.endswith(("copy", "story")) else f"{number} {word}s"


def count(stats: Any, name: str) -> int:
    """One of a crawl's counts as the recorder keeps it (0 before anything happened)."""
    return int(stats.get_value(f"chipwatch/{name}", 0)) if stats is not None else 0


def stored_urls(item: Any, response: Response | None) -> set[str]:
    """The URLs a stored item answers for: where it was fetched, its own, and the one its entry named."""
    if response is None:
        return {getattr(item, "url", None) or ""}
    named = (response.request.meta.get("redirect_urls") if response.request is not None else None) or []
    return {response.url, getattr(item, "url", None) or "", *named[:1]}


def run_end(spider: Spider, reason: str, fatal_error: str | None) -> RunEnd:
    """How the spider's run ended, with what it asks to keep (validators after a clean run, pagination)."""
    keep = getattr(spider, "validators_to_keep", None)
    keep_state = getattr(spider, "crawl_state_to_keep", None)
    return RunEnd(
        reason=reason,
        source_failed=bool(getattr(spider, "source_failed", False)),
        fatal_error=fatal_error,
        validators=keep(reason) if keep is not None else None,
        state=keep_state(reason) if keep_state is not None else None,
    )


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db: Database | None = None
        self.book: RunBook | None = None
        self.run_id: int | None = None
        self.source = ""
        self.fatal_error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler)
        connect = crawler.signals.connect
        connect(recorder.spider_opened, signal=signals.spider_opened)
        connect(recorder.spider_closed, signal=signals.spider_closed)
        connect(recorder.response_received, signal=signals.response_received)
        connect(recorder.item_scraped, signal=signals.item_scraped)
        connect(recorder.item_dropped, signal=signals.item_dropped)
        connect(recorder.item_error, signal=signals.item_error)
        connect(recorder.spider_error, signal=signals.spider_error)
        connect(recorder.fetch_failed, signal=fetch_failed)
        connect(recorder.entries_listed, signal=entries_listed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        source = getattr(spider, "source", None)
        self.source = source.name if source is not None else spider.name
        self.db = CrawlStorage.hold(self.crawler)
        if source is not None and not self.crawler.settings.getbool("CHIPWATCH_SOURCES_SYNCED"):
            sync_sources(self.db, [source.row()], utc_now_iso())  # `scrapy crawl`, which syncs nothing itself
        self.run_id = start_run(self.db, self.source, utc_now_iso())
        settings = self.crawler.settings
        self.book = RunBook(
            self.db,
            self.source,
            self.run_id,
            settings.getfloat("CHIPWATCH_ENTRY_RETRY_AFTER", 3600.0),
            settings.getint("CHIPWATCH_ENTRY_ATTEMPTS", 5),
        )
        self.stats.set_value("chipwatch/run_id", self.run_id)
        for name in COUNTS:
            self.stats.set_value(f"chipwatch/{name}", 0)

    def _counts(self) -> dict[str, int | None]:
        counts: dict[str, int | None] = {name: count(self.stats, name) for name in COUNTS}
        counts[ENTRIES] = self.stats.get_value(f"chipwatch/{ENTRIES}")
        return counts

    def _add(self, name: str) -> None:
        self.stats.inc_value(f"chipwatch/{name}")

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if not request.meta.get("dont_obey_robotstxt"):  # robots.txt itself is not a page
            self._add("pages_fetched")

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        self._add(STORE_STATUS_COUNT.get(getattr(item, "store_status", None) or "", "items_unchanged"))
        if self.book is not None and self.book.failed_urls:
            self.book.page_stored(stored_urls(item, response))

    def entries_listed(self, source: str, count: int) -> None:
        self.stats.inc_value(f"chipwatch/{ENTRIES}", count)

    def item_dropped(self, item: Any, response: Response, exception: BaseException, spider: Spider) -> None:
        self._add("items_dropped")
        if not isinstance(exception, DuplicateItem):
            self._error(getattr(item, "url", None) or getattr(response, "url", None), "dropped", str(exception))

    def item_error(self, item: Any, response: Response, spider: Spider, failure: Any) -> None:
        self._add("items_dropped")
        self._error(getattr(item, "url", None), "pipeline", f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def spider_error(self, failure: Any, response: Response, spider: Spider) -> None:
        self._error(getattr(response, "url", None), "parse", f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def fetch_failed(
        self,
        source: str,
        url: str | None,
        kind: str,
        message: str,
        fatal: bool,
        retry: bool = False,
        title: str | None = None,
    ) -> None:
        if fatal and self.fatal_error is None:
            self.fatal_error = f"{kind}: {message}"
        self._error(url, kind, message)
        if retry and url and self.book is not None:
            self.book.failed_entry(url, title, kind, message)

    def _error(self, url: str | None, kind: str, message: str) -> None:
        self._add("errors")
        if self.book is not None:
            self.book.error(url, kind, message)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.book is None:
            return
        try:
            self.book.finish(run_end(spider, reason, self.fatal_error), self._counts())
        finally:
            self.db = None
            self.book = None
            CrawlStorage.release()
