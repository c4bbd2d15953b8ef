"""What every chipwatch spider shares: its source, conditional GET, which entries are worth a request
(new, on an allowed site, recent enough, past the prefilter), and error reporting."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import (
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from chipwatch.errors import ConfigError
from pipeline.crawl_storage import CrawlStorage
from pipeline.dates import parse_date, to_utc_iso, utc_now_iso
from pipeline.entities import citation_key
from pipeline.items import ArticleItem
from pipeline.prefilter import Prefilter, load_prefilter
from pipeline.signals import entries_listed, fetch_failed, request_handled
from spiders.entries import Entry
from spiders.failures import failure_kind, failure_message, worth_retrying
from spiders.links import allowed_sites, link_allowed
from spiders.pagination import Pager
from spiders.responses import header
from spiders.sources import Source, load_sources, select_sources
from spiders.view import CrawlView, StoredView
from storage.crawl_state import Pagination

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


@dataclass(frozen=True)
class CrawlState:
    pagination: Pagination | None  # the pagination record to write (None: leave it as it was)
    sitemaps_read: list[tuple[str, str | None]]  # child sitemaps read completely, with their lastmod
    blocked: list[tuple[str, str | None]]  # entries robots.txt disallows: not asked for again for a while


class SourceSpider(scrapy.Spider):
    """A spider bound to one configured source (an object, or its name with `scrapy crawl KIND -a source=NAME`)."""

    kind = ""
    source: Source  # bound in __init__ (an object) or from_crawler (a name from the sources file)
    allowed_domains: list[str] | None = None

    def __init__(
        self,
        source: Source | str | None = None,
        *args: Any,
        view: CrawlView | None = None,
        shared_dedupe: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._source_arg = source
        self._view = view  # None: the crawl's database answers (see spiders/view.py)
        # Page requests left to the scheduler's duplicate filter (a cluster's, shared by the workers that
        # take up a crawl again) as well as this spider's own set.
        self.shared_dedupe = shared_dedupe
        if isinstance(source, Source):
            self.source = source
        self.skipped: dict[str, int] = {
            "stored": 0,
            "policy": 0,
            "prefilter": 0,
            "old": 0,
            "offsite": 0,
            "waiting": 0,  # failed before: waiting out its backoff, or given up
        }
        self._waiting: set[str] | None = None
        self.source_failed = False
        self.not_modified = False
        self.entry_failures = 0
        self._validators: tuple[str | None, str | None] | None = None
        self._prefilter: Prefilter | None = None
        self._sites: set[str] = set()
        self.requested: set[str] = set()
        self.limit_reached = False
        self.pager: Pager | None = None  # paginated kinds: what this run read of the pagination
        self.sitemaps_done: list[tuple[str, str | None]] = []  # sitemap kinds: the child sitemaps read
        self._page_all_stored = False
        self.left_unread = False  # documents this run had no budget for: the source must be read in full again
        self.blocked: list[tuple[str, str | None]] = []  # entries robots.txt disallows

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if not isinstance(getattr(spider, "source", None), Source):
            spider.source = _source_by_name(spider._source_arg, crawler.settings.get("CHIPWATCH_SOURCES_FILE"))
        if spider.source.kind != spider.kind:
            raise ConfigError(f"source {spider.source.name!r} is of kind {spider.source.kind!r}, not {spider.kind!r}")
        spider._sites = allowed_sites(spider.source.url, spider.source.domains)
        # Scrapy's offsite filter also stops redirects that leave the allowed sites.
        spider.allowed_domains = None if spider.source.any_domain else sorted(spider._sites)
        if spider.source.prefilter:
            spider._prefilter = load_prefilter(Path(crawler.settings.get("CHIPWATCH_TOPICS")))
        return spider

    @property
    def view(self) -> CrawlView:
        """What is stored, asked only "is this stored?", "what did the server send last time?" and "where did
        pagination stop?": the crawl's database, or the snapshot a cluster worker was given."""
        if self._view is None:
            self._view = StoredView(CrawlStorage.connection(self.crawler), self.source.name)
        return self._view

    # -- the source's own document, fetched conditionally -------------------------------------------------

    def source_request(self, callback: Any, url: str | None = None, **meta: Any) -> scrapy.Request:
        """The request for the source's discovery document, conditional on what the server sent last time."""
        assert self.source is not None
        headers = {}
        if url is None:
            etag, last_modified = self.view.validators()
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            url or self.source.url,
            callback=callback,
            errback=self.on_request_error,
            headers=headers,
            dont_filter=True,
            meta={"chipwatch_source_request": True, "handle_httpstatus_list": [304], **meta},
        )

    def unchanged(self, response: Response) -> bool:
        """True for a 304: nothing more to do. Otherwise remembers the validators to save after a clean run."""
        if response.status == 304:
            self.not_modified = True
            self.logger.info("%s: not modified since the last run", response.url)
            return True
        requested = response.request.url if response.request is not None else None
        if self.source.url in (response.url, requested):
            self._validators = (header(response, "ETag"), header(response, "Last-Modified"))
        return False

    def retries(self) -> Iterator[scrapy.Request]:
        """Entries whose page failed on an earlier run and are due for another try."""
        for url, title in self.view.retries(utc_now_iso()):
            request = self.article_request(url, Entry(link=url, title=title))
            if request is not None:
                yield request

    def start_pager(self) -> Pager:
        self.pager = Pager(self.view.pagination(), self.source.max_pages, self.source.backfill_pages)
        return self.pager

    def follow_page(self, response: Response, entries: list[Entry]) -> Iterator[Any]:
        """Requests for a page's entries; remembers whether every one of them was stored already."""
        requested, stored = len(self.requested), self.skipped["stored"]
        yield from self.follow(response, entries)
        self._page_all_stored = len(self.requested) == requested and self.skipped["stored"] > stored

    def next_page(self, callback: Any, number: int, next_url: str | None) -> Iterator[scrapy.Request]:
        """The request for the page to read after page `number` (0: the first page was not modified), if
        the pager says there is one."""
        assert self.pager is not None
        if number == 0:
            following = self.pager.after_unchanged()
        else:
            following = self.pager.after_page(number, next_url, self._page_all_stored)
        if following is not None:
            url, page_number = following
            yield self.source_request(callback, url=url, page_number=page_number, chipwatch_source_request=False)

    def refreshes(self) -> Iterator[scrapy.Request]:
        """With refresh_hours set, the source's recently stored pages fetched again even when its feed is
        unchanged: corrections rarely touch the feed."""
        if not self.source or not self.source.refresh_hours:
            return
        since = to_utc_iso(datetime.now(UTC) - timedelta(hours=self.source.refresh_hours))
        for url, title in self.view.recent_pages(since):
            request = self.article_request(url, Entry(link=url, title=title))
            if request is not None:
                yield request

    # -- entries: which deserve a request ------------------------------------------------------------------

    def follow(self, response: Response, entries: Iterable[Entry], lang: str | None = None) -> Iterator[Any]:
        """A request for each entry worth fetching: http(s), on an allowed site, new (or young enough to
        refresh), recent enough and past the prefilter."""
        entries = list(entries)
        if self.source is not None:
            self.crawler.signals.send_catch_log(entries_listed, source=self.source.name, count=len(entries))
        for entry in entries:
            url = response.urljoin(entry.link.strip())
            if self.wanted(url, entry):
                request = self.article_request(url, entry, lang)
                if request is not None:
                    yield request

    def wanted(self, url: str, entry: Entry) -> bool:
        assert self.source is not None
        if not url.startswith(("http://", "https://")):
            self.report_error(url, "link", "entry link is not http(s)")
            return False
        if not self.source.any_domain and not link_allowed(url, self._sites):
            self.skipped["offsite"] += 1
            self.report_error(url, "offsite", "link leaves the source's sites; add its domain to `domains` to allow")
            return False
        if self.too_old(entry.published):
            self.skipped["old"] += 1
            return False
        if self._prefilter is not None and not self._prefilter.passes(entry.title, entry.summary):
            self.skipped["prefilter"] += 1
            return False
        if self.waiting(url):
            self.skipped["waiting"] += 1
            return False
        return not self.already_stored(url)

    def waiting(self, url: str) -> bool:
        """Its page failed on an earlier run and is not due for another try yet (or was given up)."""
        if self._waiting is None:
            self._waiting = self.view.waiting(utc_now_iso())
        return url in self._waiting

    def too_old(self, published: str | None) -> bool:
        if not self.source or not self.source.max_age_days or not published:
            return False
        moment = parse_date(published, self.source.timezone)
        return moment is not None and moment < datetime.now(UTC) - timedelta(days=self.source.max_age_days)

    def already_stored(self, url: str) -> bool:
        """Stored already, and too old to refresh: not worth fetching again."""
        first_seen = self.view.stored_since(url)
        if first_seen is None:
            return False
        refresh = self.source.refresh_hours if self.source else 0
        if refresh:
            seen = parse_date(first_seen)
            if seen is not None and seen > datetime.now(UTC) - timedelta(hours=refresh):
                return False
        self.skipped["stored"] += 1
        return True

    def article_request(self, url: str, entry: Entry, lang: str | None = None) -> scrapy.Request | None:
        if url in self.requested:
            return None
        limit = self.source.max_entries if self.source else 0
        if limit and len(self.requested) >= limit:
            if not self.limit_reached:
                self.limit_reached = True
                self.report_error(
                    self.source.url, "limit", f"more than {limit} new entries: the rest wait for the next run"
                )
            return None
        self.requested.add(url)
        # On one machine not left to Scrapy's duplicate filter, which would silently drop a redirect back to
        # a page already requested: a redirect loop then ends in a recorded error instead of vanishing. In a
        # cluster the shared filter must see it: a crawl taken up again by another worker asks only for the
        # pages the first one had not asked for (a redirect loop is then recorded when the filter drops it).
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_request_error,
            cb_kwargs={"entry": entry, "lang": lang},
            dont_filter=not self.shared_dedupe,
        )

    def parse_article(self, response: Response, entry: Entry, lang: str | None = None) -> ArticleItem:
        item = self.article_item(response, entry)
        if not item.source_lang:
            item.source_lang = entry.lang or lang
        return item

    def article_item(self, response: Response | None, entry: Entry, url: str | None = None) -> ArticleItem:
        """The item for an entry's page; without a response, an item made from the entry alone."""
        assert self.source is not None
        return ArticleItem(
            source=self.source.name,
            url=response.url if response is not None else (url or entry.link),
            body=response.body if response is not None else b"",
            content_type=header(response, "Content-Type") if response is not None else None,
            fetched_at=utc_now_iso(),
            source_lang=self.source.lang,
            source_timezone=self.source.timezone,
            feed_title=entry.title,
            feed_summary=entry.summary,
            feed_published=entry.published,
            feed_authors=entry.authors,
            publisher=entry.publisher,
            page_fetched=response is not None,
            document=entry.document,
            stated_entities=[key for key in [citation_key((entry.document or {}).get("citation"))] if key],
        )

    # -- errors and the end of the run ----------------------------------------------------------------------

    def report_error(
        self,
        url: str | None,
        kind: str,
        message: str,
        *,
        fatal: bool = False,
        warning: bool = False,
        retry: bool = False,
        title: str | None = None,
    ) -> None:
        """Record a problem on this crawl run: fatal when the source itself (its feed) could not be read;
        a warning when nothing was lost by it (the next run need not look again)."""
        if fatal:
            self.source_failed = True
        elif not warning:
            self.entry_failures += 1
        self.logger.warning("%s %s: %s", kind, url, message)
        self.crawler.signals.send_catch_log(
            signal=fetch_failed,
            source=self.source.name if self.source else self.name,
            url=url,
            kind=kind,
            message=message,
            fatal=fatal,
            retry=retry,
            title=title,
            warning=warning,
        )

    def report_malformed(self, url: str, kind: str, problem: str | None, found: int, *, is_source: bool) -> None:
        """A malformed document: a failure when nothing could be read from it, else a warning."""
        if problem is None:
            return
        if found:
            self.report_error(url, kind, f"{problem} ({found} entries read)", warning=True)
        else:
            self.report_error(url, kind, problem, fatal=is_source)

    def on_request_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on download failures
        try:
            self._request_failed(failure, request)
        finally:
            self.crawler.signals.send_catch_log(request_handled, request=request)

    def _request_failed(self, failure: Failure, request: scrapy.Request) -> None:
        if request.meta.get("chipwatch_handed_back"):
            return  # not fetched because a cluster's worker is stopping: another worker fetches it
        if failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            # The site asked not to be crawled there: policy, not a failure of the source. Remembered, so
            # that the page is not asked for on every run (and a page of such links can count as read).
            self.skipped["policy"] += 1
            entry = request.cb_kwargs.get("entry")
            self.blocked.append((request.url, entry.title if entry is not None else None))
            self.logger.info("skipped %s: %s", request.url, failure.getErrorMessage())
            return
        fatal = bool(request.meta.get("chipwatch_source_request"))
        # Recorded under the URL the entry named, not where its redirects ended.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        kind = failure_kind(failure)
        page_number = request.meta.get("page_number")
        if self.pager is not None and page_number and not fatal:
            self.pager.page_failed(url, page_number)  # the next run resumes from this page
        entry = request.cb_kwargs.get("entry") if request.callback == self.parse_article else None
        status = failure.value.response.status if isinstance(failure.value, HttpError) else None
        retry = entry is not None and worth_retrying(kind, status)
        title = entry.title if entry is not None else None
        self.report_error(url, kind, failure_message(failure), fatal=fatal, retry=retry, title=title)

    def validators_to_keep(self, reason: str) -> tuple[str | None, str | None] | None:
        """The source's ETag and Last-Modified, to send next time, or None. Kept only after a clean run: an
        entry that failed must be offered again next time. The run recorder writes them."""
        clean = reason == "finished" and not self.source_failed and not self.entry_failures and not self.left_unread
        return self._validators if clean and self._validators else None

    def crawl_state_to_keep(self, reason: str) -> CrawlState:
        """What the next run starts from, written by the run recorder. Nothing moves forward after an
        interrupted run."""
        interrupted = reason != "finished"
        clean = not interrupted and not self.source_failed
        return CrawlState(
            pagination=self.pager.to_keep(clean, interrupted) if self.pager is not None else None,
            sitemaps_read=self.sitemaps_done if clean else [],
            blocked=self.blocked,
        )


def _source_by_name(name: Any, sources_file: str | None) -> Source:
    if not isinstance(name, str) or not name:
        raise ConfigError("which source? pass -a source=NAME (names are in the sources file)")
    if not sources_file:
        raise ConfigError("no sources file configured (CHIPWATCH_SOURCES)")
    return select_sources(load_sources(Path(sources_file)), [name])[0]
