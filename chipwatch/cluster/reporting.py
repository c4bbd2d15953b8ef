"""A worker's crawl: the Scrapy parts that send its results to the writer instead of the database.

Every component finds the crawl's `WorkerCrawl` on its crawler (the worker puts it there). A page request's
lease (queue.py) is settled only once everything it produced is on its way: the items it yielded are in
the stream (StreamStage, or the drop reported), and its callback or errback has run (LeaseMiddleware, the
request_handled signal).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured

from chipwatch.cluster import stream
from chipwatch.cluster.connection import Keys
from chipwatch.cluster.queue import LEASE, OUTAGE, settle, through_outage
from chipwatch.cluster.stored import SharedIndex
from chipwatch.crawl.recorder import run_end
from chipwatch.crawl.runbook import RunEnd
from pipeline import process
from pipeline.items import ArticleItem
from pipeline.signals import entries_listed, fetch_failed, request_handled

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


@dataclass
class WorkerCrawl:
    """One crawl run on this worker: where its results go, and the leases it still holds."""

    server: redis.Redis
    keys: Keys
    run_id: int
    worker: str
    index: SharedIndex
    helper: bool = False  # helping fetch another worker's crawl: its pages only, and no end to send
    stopping: bool = False  # the worker is stopping: no new download starts
    items: Counter[str] = field(default_factory=Counter)  # lease -> its items not yet on their way
    handled: set[str] = field(default_factory=set)  # leases whose callback or errback has run
    fatal_error: str | None = None
    end: RunEnd | None = None
    pages: int = 0
    errors: int = 0

    def item_made(self, lease: str | None) -> None:
        if lease:
            self.items[lease] += 1

    def item_sent(self, crawler: Crawler, lease: str | None, pipe: Any = None) -> None:
        if not lease:
            return
        self.items[lease] -= 1
        if self.items[lease] <= 0 and lease in self.handled:
            self._settle(crawler, lease, pipe)

    def callback_done(self, crawler: Crawler, lease: str | None) -> None:
        if not lease:
            return
        self.handled.add(lease)
        if self.items[lease] <= 0:
            self._settle(crawler, lease, None)

    def _settle(self, crawler: Crawler, lease: str, pipe: Any) -> None:
        # Settling twice (an errback reached through both paths) only removes what is already gone.
        self._forget(crawler, lease)
        if pipe is not None:
            settle(self.server, lease, pipe)
        else:
            through_outage(lambda: settle(self.server, lease))

    def abandon(self, crawler: Crawler, lease: str | None) -> None:
        """A request whose callback Redis's outage broke off: never settled, and no longer renewed, so that
        it comes back to the queue at its deadline and its document is read again (what it already queued
        is filtered as seen)."""
        if lease:
            self._forget(crawler, lease)

    def _forget(self, crawler: Crawler, lease: str) -> None:
        self.items.pop(lease, None)
        self.handled.discard(lease)
        held = getattr(crawler, "chipwatch_held", None)
        if held is not None:
            held.discard(lease)

    def send(self, crawler: Crawler, kind: str, data: Any, lease: str | None = None) -> None:
        def attempt() -> None:
            pipe = self.server.pipeline()
            stream.add(pipe, self.keys, kind, self.run_id, self.worker, data)
            if lease and self.items[lease] <= 1 and lease in self.handled:
                settle(self.server, lease, pipe)
            pipe.execute()

        through_outage(attempt)  # Redis restarting: the result waits for it rather than being lost
        self.item_sent(crawler, lease)


def worker_crawl(crawler: Crawler) -> WorkerCrawl:
    found = getattr(crawler, "chipwatch_cluster", None)
    if found is None:
        raise NotConfigured("not a cluster worker's crawl")
    return found


class LeaseMiddleware:
    """Spider middleware: items carry their request's lease; the callback's end settles its own share."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.crawl = worker_crawl(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: Any, spider: Spider | None = None) -> Any:
        request = response.request
        lease = request.meta.get(LEASE) if request is not None else None
        named = (request.meta.get("redirect_urls") if request is not None else None) or []
        try:
            async for output in result:
                if isinstance(output, ArticleItem):
                    output.lease = lease
                    output.page_urls = sorted({response.url, output.url, *named[:1]})
                    self.crawl.item_made(lease)
                yield output
        except OUTAGE:
            self.crawl.abandon(self.crawler, lease)
            raise
        except BaseException:
            self.crawl.callback_done(self.crawler, lease)  # a broken page: reported, and done with
            raise
        else:
            self.crawl.callback_done(self.crawler, lease)


class SharedSiteNameStage:
    """The title without a site name the writer has learned (its copy in Redis): the page half's own step."""

    def __init__(self, crawl: WorkerCrawl) -> None:
        self.crawl = crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedSiteNameStage:
        return cls(worker_crawl(crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return process.drop_known_site_name(item, self.crawl.index.site_names)


class StreamStage:
    """The page half's last stage: the item goes to the writer, and its request's lease with it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.crawl = worker_crawl(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamStage:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        lease, item.lease = item.lease, None
        self.crawl.send(self.crawler, "item", item, lease)
        item.store_status = "sent"
        return item


class ClusterReporter:
    """The worker's run recorder: counts go to the run's hash in Redis, failures and the end to the stream."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.crawl = worker_crawl(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterReporter:
        reporter = cls(crawler)
        connect = crawler.signals.connect
        connect(reporter.response_received, signal=signals.response_received)
        connect(reporter.item_dropped, signal=signals.item_dropped)
        connect(reporter.item_error, signal=signals.item_error)
        connect(reporter.spider_error, signal=signals.spider_error)
        connect(reporter.request_dropped, signal=signals.request_dropped)
        connect(reporter.fetch_failed, signal=fetch_failed)
        connect(reporter.entries_listed, signal=entries_listed)
        connect(reporter.request_handled, signal=request_handled)
        connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def _count(self, name: str, by: int = 1) -> None:
        through_outage(lambda: self.crawl.server.hincrby(self.crawl.keys.counts(self.crawl.run_id), name, by))

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if request.meta.get("dont_obey_robotstxt"):  # robots.txt itself is not a page
            return
        self.crawl.pages += 1

        def count() -> None:
            pipe = self.crawl.server.pipeline()
            pipe.hincrby(self.crawl.keys.counts(self.crawl.run_id), "pages_fetched", 1)
            pipe.hincrby(self.crawl.keys.pages_by_worker(self.crawl.run_id), self.crawl.worker, 1)
            pipe.execute()

        through_outage(count)

    def entries_listed(self, source: str, count: int) -> None:
        self._count("entries_found", count)

    def item_dropped(self, item: Any, response: Response, exception: BaseException, spider: Spider) -> None:
        url = getattr(item, "url", None) or getattr(response, "url", None)
        self.crawl.send(self.crawler, "dropped", {"url": url, "message": str(exception)}, getattr(item, "lease", None))

    def item_error(self, item: Any, response: Response, spider: Spider, failure: Any) -> None:
        message = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        data = {"url": getattr(item, "url", None), "message": message, "kind": "pipeline"}
        self.crawl.send(self.crawler, "dropped", data, getattr(item, "lease", None))

    def spider_error(self, failure: Any, response: Response, spider: Spider) -> None:
        message = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self._error(getattr(response, "url", None), "parse", message)

    def request_dropped(self, request: Request, spider: Spider) -> None:
        # The shared duplicate filter dropped it: a redirect back to a page this crawl already asked for.
        if request.meta.get("redirect_urls"):
            self._error(request.meta["redirect_urls"][0], "redirect", f"redirected to {request.url}, already asked for")

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
        if fatal and self.crawl.fatal_error is None:
            self.crawl.fatal_error = f"{kind}: {message}"
        self._error(url, kind, message, retry=retry, title=title)

    def _error(self, url: str | None, kind: str, message: str, **more: Any) -> None:
        self.crawl.errors += 1
        self.crawl.send(self.crawler, "error", {"url": url, "kind": kind, "message": message, **more})

    def request_handled(self, request: Request) -> None:
        if request.meta.get("chipwatch_handed_back"):
            return  # still held: the scheduler hands it back when the crawl closes
        self.crawl.callback_done(self.crawler, request.meta.get(LEASE))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.crawl.helper:
            self.crawl.end = run_end(spider, reason, self.crawl.fatal_error)
