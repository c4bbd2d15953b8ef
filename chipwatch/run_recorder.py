"""A Scrapy extension that records each crawl in crawl_runs: counts, failures with their URLs, the outcome."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipeline.dates import utc_now_iso
from pipeline.stages import DuplicateItem
from spiders.signals import fetch_failed
from storage import open_database
from storage.crawl_runs import finish_run, record_error, start_run
from storage.sources import record_outcome, sync_sources

CLOSE_REASONS = {"finished": "ok", "shutdown": "cancelled", "closespider_timeout": "timed_out"}


def _now() -> str:
    return utc_now_iso()


class CrawlRunRecorder:
    def __init__(self, crawler: Any, db_path: Path) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.db = None
        self.run_id: int | None = None
        self.source = ""
        self.counts: Counter[str] = Counter()
        self.fatal_error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRunRecorder:
        db = crawler.settings.get("CHIPWATCH_DB")
        if not db:
            raise NotConfigured("no database (CHIPWATCH_DB)")
        recorder = cls(crawler, Path(db))
        connect = crawler.signals.connect
        connect(recorder.spider_opened, signal=signals.spider_opened)
        connect(recorder.spider_closed, signal=signals.spider_closed)
        connect(recorder.response_received, signal=signals.response_received)
        connect(recorder.item_scraped, signal=signals.item_scraped)
        connect(recorder.item_dropped, signal=signals.item_dropped)
        connect(recorder.item_error, signal=signals.item_error)
        connect(recorder.spider_error, signal=signals.spider_error)
        connect(recorder.fetch_failed, signal=fetch_failed)
        return recorder

    def spider_opened(self, spider: Any) -> None:
        source = getattr(spider, "source", None)
        self.source = source.name if source is not None else spider.name
        self.db = open_database(self.db_path)
        if source is not None:
            sync_sources(self.db, [source.row()], _now())
        self.run_id = start_run(self.db, self.source, _now())
        self.crawler.stats.set_value("chipwatch/run_id", self.run_id)

    def response_received(self, response: Any, request: Any, spider: Any) -> None:
        if not request.meta.get("dont_obey_robotstxt"):  # robots.txt itself is not a page
            self.counts["pages_fetched"] += 1

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        status = getattr(item, "store_status", None)
        key = {"new": "items_new", "copy": "items_new", "updated": "items_updated"}.get(status, "items_unchanged")
        self.counts[key] += 1

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        self.counts["items_dropped"] += 1
        if not isinstance(exception, DuplicateItem):
            self._error(getattr(item, "url", None) or getattr(response, "url", None), "dropped", str(exception))

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        self.counts["items_dropped"] += 1
        self._error(getattr(item, "url", None), "pipeline", f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        self._error(getattr(response, "url", None), "parse", f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def fetch_failed(self, source: str, url: str | None, kind: str, message: str, fatal: bool) -> None:
        if fatal and self.fatal_error is None:
            self.fatal_error = f"{kind}: {message}"
        self._error(url, kind, message)

    def _error(self, url: str | None, kind: str, message: str) -> None:
        self.counts["errors"] += 1
        if self.db is not None and self.run_id is not None:
            record_error(self.db, self.run_id, self.source, url, kind, message, _now())

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.db is None or self.run_id is None:
            return
        status = CLOSE_REASONS.get(reason, "failed")
        if status == "ok" and getattr(spider, "source_failed", False):
            status = "failed"
        finish_run(self.db, self.run_id, status, _now(), dict(self.counts))
        error = self.fatal_error or (f"the crawl ended: {reason}" if status != "ok" else None)
        record_outcome(self.db, self.source, status == "ok", _now(), error)
        self.db.close()
        self.db = None
