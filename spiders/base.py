"""What every chipwatch spider shares: its source, the stored-URL check, and error reporting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from chipwatch.errors import ConfigError
from pipeline.dates import utc_now_iso
from pipeline.items import ArticleItem
from spiders.signals import fetch_failed
from spiders.sources import Source, load_sources, select_sources
from storage import open_database
from storage.articles import is_stored

FAILURE_KINDS = (
    (HttpError, "http"),
    (DNSLookupError, "dns"),
    (ConnectionRefusedError, "refused"),
    (TimeoutError, "timeout"),
    (TCPTimedOutError, "timeout"),
)


class SourceSpider(scrapy.Spider):
    """A spider bound to one configured source (an object, or its name with `scrapy crawl KIND -a source=NAME`)."""

    kind = ""

    def __init__(self, source: Source | str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._source_arg = source
        self.source: Source | None = source if isinstance(source, Source) else None
        self._db = None
        self.skipped_stored = 0
        self.skipped_by_policy = 0
        self.source_failed = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.source is None:
            spider.source = _source_by_name(spider._source_arg, crawler.settings.get("CHIPWATCH_SOURCES_FILE"))
        if spider.source.kind != spider.kind:
            raise ConfigError(f"source {spider.source.name!r} is of kind {spider.source.kind!r}, not {spider.kind!r}")
        spider.db_path = Path(crawler.settings.get("CHIPWATCH_DB"))
        return spider

    def already_stored(self, url: str) -> bool:
        """The one question spiders ask the database: is this page stored already?"""
        if self._db is None:
            self._db = open_database(self.db_path)
        stored = is_stored(self._db, url)
        if stored:
            self.skipped_stored += 1
        return stored

    def closed(self, reason: str) -> None:
        if self._db is not None:
            self._db.close()

    def article_item(self, response: Response, **feed_fields: Any) -> ArticleItem:
        assert self.source is not None
        return ArticleItem(
            source=self.source.name,
            url=response.url,
            body=response.body,
            content_type=_header(response, "Content-Type"),
            fetched_at=utc_now_iso(),
            source_lang=self.source.lang,
            source_timezone=self.source.timezone,
            **feed_fields,
        )

    def report_error(self, url: str | None, kind: str, message: str, *, fatal: bool = False) -> None:
        """Count a failure on this crawl run; fatal when the source itself (its feed) could not be read."""
        if fatal:
            self.source_failed = True
        self.logger.warning("%s %s: %s", kind, url, message)
        self.crawler.signals.send_catch_log(
            signal=fetch_failed,
            source=self.source.name if self.source else self.name,
            url=url,
            kind=kind,
            message=message,
            fatal=fatal,
        )

    def on_request_error(self, failure: Failure) -> None:
        request = failure.request
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Forbidden by robots.txt (or another deliberate skip): policy, not a failure of the source.
            self.skipped_by_policy += 1
            self.logger.info("skipped %s: %s", request.url, failure.getErrorMessage())
            return
        fatal = bool(request.meta.get("chipwatch_source_request"))
        self.report_error(request.url, _failure_kind(failure), _failure_message(failure), fatal=fatal)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _failure_kind(failure: Failure) -> str:
    for error_type, kind in FAILURE_KINDS:
        if failure.check(error_type):
            return kind
    return "network"


def _failure_message(failure: Failure) -> str:
    if failure.check(HttpError):
        response = failure.value.response
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def _source_by_name(name: Any, sources_file: str | None) -> Source:
    if not isinstance(name, str) or not name:
        raise ConfigError("which source? pass -a source=NAME (names are in the sources file)")
    if not sources_file:
        raise ConfigError("no sources file configured (CHIPWATCH_SOURCES)")
    return select_sources(load_sources(Path(sources_file)), [name])[0]
