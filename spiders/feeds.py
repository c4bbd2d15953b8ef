"""The feed spider: reads an RSS, Atom or JSON feed and follows each new entry to its article page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from chipwatch.errors import FeedError
from spiders.base import SourceSpider
from spiders.feed_parser import Feed, parse_feed
from spiders.responses import header


class FeedSpider(SourceSpider):
    name = "feed"
    kind = "feed"

    async def start(self) -> AsyncIterator[Any]:
        yield self.source_request(self.parse_feed)
        for request in self.retries():
            yield request

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            yield from self.refreshes()
            return
        try:
            feed = parse_feed(response.body, header(response, "Content-Type"))
        except FeedError as error:
            self.report_error(response.url, "feed", str(error), fatal=True)
            return
        self.report_malformed(response.url, "feed", feed.problem, len(feed.entries), is_source=True)
        yield from self.follow_feed(response, feed)

    def follow_feed(self, response: Response, feed: Feed) -> Iterator[Any]:
        yield from self.follow(response, feed.entries, feed.lang)
