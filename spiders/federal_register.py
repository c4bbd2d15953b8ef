"""The Federal Register spider: the documents API, newest first, page by page until it reaches what is
already stored, then on from where the last complete read stopped (spiders/pagination.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from chipwatch.errors import FeedError
from spiders.base import SourceSpider
from spiders.federal_register_parser import parse_documents
from spiders.responses import header


class FederalRegisterSpider(SourceSpider):
    name = "federal-register"
    kind = "federal-register"

    async def start(self) -> AsyncIterator[Any]:
        self.start_pager()
        yield self.source_request(self.parse_page, page_number=1)
        for request in self.retries():
            yield request

    def parse_page(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            yield from self.refreshes()
            yield from self.next_page(self.parse_page, 0, None)
            return
        page_number = response.meta.get("page_number", 1)
        try:
            page = parse_documents(response.body, header(response, "Content-Type"))
        except FeedError as error:
            self.report_error(response.url, "api", str(error), fatal=page_number == 1)
            if self.pager is not None and page_number > 1:
                self.pager.page_failed(response.url, page_number)
            return
        yield from self.follow_page(response, page.entries)
        next_url = response.urljoin(page.next_page_url) if page.next_page_url else None
        yield from self.next_page(self.parse_page, page_number, next_url)
