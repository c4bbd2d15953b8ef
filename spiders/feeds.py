"""The feed spider: reads an RSS or Atom feed and follows each new entry to its article page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from chipwatch.errors import FeedError
from pipeline.items import ArticleItem
from spiders.base import SourceSpider, _header
from spiders.feed_parser import FeedEntry, parse_feed


class FeedSpider(SourceSpider):
    name = "feed"
    kind = "feed"

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.source.url,
            callback=self.parse_feed,
            errback=self.on_request_error,
            dont_filter=True,
            meta={"chipwatch_source_request": True},
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            feed = parse_feed(response.body, _header(response, "Content-Type"))
        except FeedError as error:
            self.report_error(response.url, "feed", str(error), fatal=True)
            return
        for entry in feed.entries:
            url = response.urljoin(entry.link)
            if not url.startswith(("http://", "https://")):
                self.report_error(url, "link", "entry link is not http(s)")
                continue
            if self.already_stored(url):
                continue
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.on_request_error,
                cb_kwargs={"entry": entry, "feed_lang": feed.lang},
            )

    def parse_article(self, response: Response, entry: FeedEntry, feed_lang: str | None) -> ArticleItem:
        item = self.article_item(
            response,
            feed_title=entry.title,
            feed_summary=entry.summary,
            feed_published=entry.published,
            feed_authors=entry.authors,
        )
        if feed_lang and not item.source_lang:
            item.source_lang = feed_lang
        return item
