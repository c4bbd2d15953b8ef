"""The search-feed spider: a news search's RSS (Google News queries). Each result keeps its publisher's
name; the spider fetches the publisher's own article when the link reveals it, and otherwise stores the
result as the feed describes it (search-engine redirect pages are scripts, not articles)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.entries import Entry
from spiders.feed_parser import Feed
from spiders.feeds import FeedSpider
from spiders.links import is_search_redirect, publisher_url


class SearchFeedSpider(FeedSpider):
    name = "search"
    kind = "search"

    def follow_feed(self, response: Response, feed: Feed) -> Iterator[Any]:
        for entry in feed.entries:
            entry.title = without_publisher(entry.title, entry.publisher)
            entry.summary = _summary(entry)
            link = response.urljoin(entry.link.strip())
            target = publisher_url(link) or (None if is_search_redirect(link) else link)
            if target is None:
                # Only the search engine's redirect: keep what the result says, under the result's link.
                if self.wanted(link, entry):
                    yield self.article_item(None, entry, url=link)
                continue
            if self.wanted(target, entry):
                request = self.article_request(target, entry, feed.lang)
                if request is not None:
                    yield request


def without_publisher(title: str | None, publisher: str | None) -> str | None:
    """'Headline - Reuters' -> 'Headline' when Reuters is the result's publisher."""
    if not title or not publisher:
        return title
    stripped = re.sub(rf"\s+[-–—|]\s+{re.escape(publisher)}\s*$", "", title)
    return stripped or title


def _summary(entry: Entry) -> str | None:
    """Google's descriptions repeat the title and publisher (or list related results): not a summary."""
    summary = entry.summary
    if not summary or not entry.title:
        return summary
    if summary.startswith(entry.title):
        return None
    return summary
