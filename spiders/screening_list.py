"""The screening-list spider: downloads a Consolidated Screening List file (conditionally), compares it with
the stored snapshot and yields one item per list and Federal Register citation that changed.

The snapshot moves when those items are stored (storage/screening_lists.py), so a reading whose items were
not all stored is simply found again: the ETag is kept only after a reading that found nothing to change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from chipwatch.errors import FeedError
from pipeline.dates import utc_now_iso
from pipeline.items import ArticleItem
from pipeline.list_changes import ChangeGroup, SuspiciousReading, diff_lists, group_changes
from spiders.base import SourceSpider
from spiders.responses import header
from spiders.screening_list_parser import ListEntry, parse_screening_list

# The whole Consolidated Screening List is tens of megabytes: far above a news page's size limit.
LIST_MAX_BYTES = 256 * 1024 * 1024
MAX_PROBLEMS_REPORTED = 50


class ScreeningListSpider(SourceSpider):
    name = "screening-list"
    kind = "screening-list"

    async def start(self) -> AsyncIterator[Any]:
        request = self.source_request(self.parse_list)
        request.meta["download_maxsize"] = LIST_MAX_BYTES
        request.meta["download_warnsize"] = 0
        yield request

    def parse_list(self, response: Response) -> Iterator[Any]:
        if self.unchanged(response):
            return
        try:
            parsed = parse_screening_list(response.body, header(response, "Content-Type"), response.url)
        except FeedError as error:
            # The stored snapshot stays the reference; the run fails with the reason.
            self._validators = None
            self.report_error(response.url, "list", str(error), fatal=True)
            return
        for problem in parsed.problems[:MAX_PROBLEMS_REPORTED]:
            self.report_error(response.url, "list", problem, warning=True)
        if len(parsed.problems) > MAX_PROBLEMS_REPORTED:
            more = len(parsed.problems) - MAX_PROBLEMS_REPORTED
            self.report_error(response.url, "list", f"and {more} more rows with problems", warning=True)
        if not parsed.entries:
            self._validators = None
            self.report_error(response.url, "list", "no usable entries in the file", fatal=True)
            return
        stored = {key: ListEntry.from_dict(data) for key, data in self.view.list_snapshot().items()}
        try:
            changes = diff_lists(stored, parsed.entries)
        except SuspiciousReading as error:
            self._validators = None
            self.report_error(response.url, "list", str(error), fatal=True)
            return
        if changes and changes[0].kind != "listed":
            # Not kept after news: the next run reads the file again, finds any change whose item was not
            # stored, and keeps them once it finds nothing. (A first reading keeps them: it reports nothing,
            # and a snapshot lost with its run is taken again when the list next changes.) Cleared, not
            # just left unsaved: the validators stored before would answer 304 to a list put back as it was.
            self._validators = (None, None)
        self.listed_count = len(parsed.entries)
        fetched_at = utc_now_iso()
        for group in group_changes(changes):
            yield self.change_item(response, group, fetched_at)

    def change_item(self, response: Response, group: ChangeGroup, fetched_at: str) -> ArticleItem:
        item = ArticleItem(
            source=self.source.name,
            # Each set of changes is an item of its own, at an address that names it (and leads to the list).
            url=_change_url(response.url, f"{group.list_code.lower()}-{group.identity()}"),
            fetched_at=fetched_at,
            source_lang="en",
            source_timezone=self.source.timezone,
            feed_title=group.headline(),
            feed_summary=group.text(),
            feed_published=group.published(fetched_at),
            publisher=group.list_name.split(" - ")[-1] if " - " in group.list_name else group.list_name,
            page_fetched=False,
            stated_topics=group.topics(),
            stated_entities=group.entities(),
            stated_relevant=not group.first_reading,
        )
        item.list_changes = [{**change.row(), "fingerprint": change.entry.fingerprint()} for change in group.changes]
        return item


def _change_url(list_url: str, name: str) -> str:
    """The list's address with the change set named in its query (a fragment would not survive canonical
    URLs): it opens the list, and no two change sets share it."""
    base = list_url.split("#")[0]
    return f"{base}{'&' if '?' in base else '?'}chipwatch-changes={name}"
