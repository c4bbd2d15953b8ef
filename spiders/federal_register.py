"""The Federal Register spider: the documents API, newest first, page by page until it reaches what is
already stored (or max_pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from chipwatch.errors import FeedError
from spiders.base import SourceSpider, _header
from spiders.federal_register_parser import parse_documents


class FederalRegisterSpider(SourceSpider):
    name = "federal-register"
    kind = "federal-register"

    async def start(self) -> AsyncIterator[Any]:
        yield self.source_request(self.parse_page, page_number=1)

    def parse_page(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            yield from self.refreshes()
            return
        page_number = response.meta.get("page_number", 1)
        try:
            page = parse_documents(response.body, _header(response, "Content-Type"))
        except FeedError as error:
            self.report_error(response.url, "api", str(error), fatal=page_number == 1)
            return
        stored_before = self.skipped["stored"]
        yield from self.follow(response, page.entries)
        reached_stored = self.skipped["stored"] > stored_before
        if page.next_page_url and not reached_stored and page_number < self.source.max_pages:
            yield self.source_request(
                self.parse_page,
                url=response.urljoin(page.next_page_url),
                page_number=page_number + 1,
                chipwatch_source_request=False,
            )
