"""The sitemap spider: a news sitemap, or a sitemap index whose newest children are read in turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from chipwatch.errors import FeedError
from pipeline.dates import parse_date
from spiders.base import SourceSpider
from spiders.responses import header
from spiders.sitemap_parser import ChildSitemap, parse_sitemap


class SitemapSpider(SourceSpider):
    name = "sitemap"
    kind = "sitemap"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.visited: set[str] = set()
        self.read_before: dict[str, str | None] = {}

    async def start(self) -> AsyncIterator[Any]:
        self.visited.add(self.source.url)
        self.read_before = self.view.sitemaps_read()
        yield self.source_request(self.parse_sitemap)
        for request in self.retries():
            yield request

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            yield from self.refreshes()
            return
        is_source = bool(response.meta.get("chipwatch_source_request"))
        try:
            sitemap = parse_sitemap(
                response.body,
                header(response, "Content-Type"),
                self.settings.getint("DOWNLOAD_MAXSIZE") or 50 * 1024 * 1024,
            )
        except FeedError as error:
            self.report_error(response.url, "sitemap", str(error), fatal=is_source)
            return
        found = len(sitemap.entries) + len(sitemap.children)
        self.report_malformed(response.url, "sitemap", sitemap.problem, found, is_source=is_source)
        if sitemap.is_index:
            yield from self._children(response, sitemap.children)
            return
        yield from self.follow(response, sitemap.entries)
        if not is_source:
            # Read completely (an entry whose page fails is retried on its own): skipped next time unless
            # its lastmod moves.
            self.sitemaps_done.append((response.meta.get("child_url", response.url), response.meta.get("lastmod")))

    def _children(self, response: Response, children: list[ChildSitemap]) -> Iterator[Any]:
        """The newest children first, at most max_pages of them, none twice (an index may list itself).
        Children read completely by an earlier run are skipped unless their lastmod moved (the newest one
        is read again when it has no lastmod): so a backfill cut by max_pages goes on run by run."""
        fresh = [child for child in children if not self.too_old(child.lastmod)]
        fresh.sort(key=lambda child: _sort_key(child.lastmod), reverse=True)
        for position, child in enumerate(fresh):
            url = response.urljoin(child.url.strip())
            if url in self.visited:
                continue
            unchanged = url in self.read_before and self.read_before[url] == child.lastmod
            # Without a lastmod nothing says whether the newest child grew: it is read again.
            if unchanged and (child.lastmod is not None or position > 0):
                continue
            if len(self.visited) > self.source.max_pages:
                self.left_unread = True  # the index must be read again next time, even if unchanged
                break
            self.visited.add(url)
            yield self.source_request(
                self.parse_sitemap, url=url, chipwatch_source_request=False, child_url=url, lastmod=child.lastmod
            )


def _sort_key(lastmod: str | None) -> float:
    moment = parse_date(lastmod) if lastmod else None
    return moment.timestamp() if moment else 0.0
