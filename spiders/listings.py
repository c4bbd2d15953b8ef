"""The listing spider: an HTML page of links (a ministry's press releases, an outlet's section page) read
with the source's `links` selector (CSS, or XPath when it starts with /), following `next_page` links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from parsel import Selector
from scrapy.http import Response

from pipeline.encoding import decode_bytes
from spiders.base import SourceSpider
from spiders.entries import Entry
from spiders.responses import header
from spiders.sources import is_xpath


def select(selector: Selector, query: str) -> list[Selector]:
    return selector.xpath(query) if is_xpath(query) else selector.css(query)


def listing_entries(selector: Selector, links: str) -> list[Entry]:
    """Each selected node as an entry: an <a> (or the first <a> inside it), or an attribute value."""
    entries = []
    for node in select(selector, links):
        root = node.root
        href: str | None
        title: str | None
        if isinstance(root, str):  # an attribute or text result: the URL itself
            href, title = root, None
        else:
            anchor = node if getattr(root, "tag", "") == "a" else (node.css("a") or [None])[0]
            if anchor is None:
                continue
            href = anchor.attrib.get("href")
            title = " ".join(" ".join(anchor.css("::text").getall()).split()) or None
        if href and href.strip() and not href.strip().startswith(("#", "javascript:", "mailto:")):
            entries.append(Entry(link=href.strip(), title=title))
    return entries


def next_page_link(selector: Selector, query: str) -> str | None:
    for node in select(selector, query):
        root = node.root
        href = root if isinstance(root, str) else node.attrib.get("href") or node.css("a::attr(href)").get()
        if href and href.strip():
            return href.strip()
    return None


class ListingSpider(SourceSpider):
    name = "listing"
    kind = "listing"

    async def start(self) -> AsyncIterator[Any]:
        self.start_pager()
        yield self.source_request(self.parse_listing, page_number=1)
        for request in self.retries():
            yield request

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            yield from self.refreshes()
            yield from self.next_page(self.parse_listing, 0, None)
            return
        page_number = response.meta.get("page_number", 1)
        # Decoded our way (declared charset checked against the bytes) rather than trusting the header.
        text, _ = decode_bytes(response.body, header(response, "Content-Type"))
        selector = Selector(text=text, base_url=response.url)
        entries = listing_entries(selector, self.source.links or "a")
        if not entries:
            self.report_error(
                response.url, "listing", f"the selector {self.source.links!r} found no links", fatal=page_number == 1
            )
            if self.pager is not None and page_number > 1:
                self.pager.page_failed(response.url, page_number)
            return
        yield from self.follow_page(response, entries)
        next_url = next_page_link(selector, self.source.next_page) if self.source.next_page else None
        yield from self.next_page(self.parse_listing, page_number, response.urljoin(next_url) if next_url else None)
