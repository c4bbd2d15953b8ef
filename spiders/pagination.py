"""Paginated sources (listings, the Federal Register API) read so that nothing is left behind.

A run reads the new items from the top, page by page, until it reaches a page whose entries are all
stored. If pagination has never been read to its end (a first crawl, a backfill cut by `max_pages`, a run
interrupted or failing mid-way), it then carries on from where the last complete read stopped, until the
end, the source's `backfill_pages` or this run's `max_pages`. What the run learned is kept only when it
ended cleanly; a page that failed becomes the place the next run resumes from. Pure: the spider feeds it
what each page held, storage keeps its record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.crawl_state import Pagination


@dataclass
class Pager:
    state: Pagination  # what the last clean run left
    max_pages: int  # pages one run may read
    backfill_pages: int = 0  # the deepest page ever read (0: to the end)
    read: int = 0
    resuming: bool = False  # past the new items at the top, reading where the last complete read stopped
    outcome: Pagination | None = None  # what to keep if the run ends cleanly
    failed: Pagination | None = field(default=None)  # where to resume when a page failed

    def after_page(self, number: int, next_url: str | None, all_stored: bool) -> tuple[str, int] | None:
        """The page to read after page `number`, as (url, number), or None to stop here."""
        self.read += 1
        if all_stored:
            if self.state.caught_up and (self.resuming or not self.state.resume_url):
                # Everything below was read completely before: caught up.
                self.outcome = Pagination(None, None, True) if self.resuming or self.state.resume_url else None
                return None
            if not self.resuming:
                self.resuming = True
                if number == 1:
                    self.read -= 1  # a first page with nothing new costs a run none of its budget
                resume = self.state.resume_url, self.state.resume_page
                if resume[0] and resume[1] and resume[1] > number + 1:
                    return self._go(resume[0], resume[1])
        if next_url is None or (self.backfill_pages and number >= self.backfill_pages):
            self.outcome = Pagination(None, None, True)  # read to the end (or as deep as wanted)
            return None
        return self._go(next_url, number + 1)

    def after_unchanged(self) -> tuple[str, int] | None:
        """The first page has not changed since the last run: nothing new at the top, but a read that
        stopped part-way still goes on from where it stopped (the unchanged page costs no budget)."""
        self.resuming = True
        if self.state.resume_url and self.state.resume_page:
            return self._go(self.state.resume_url, self.state.resume_page)
        return None

    def _go(self, url: str, number: int) -> tuple[str, int] | None:
        if self.read >= self.max_pages:
            # This run's budget is spent: the next run resumes here.
            self.outcome = Pagination(url, number, self.state.caught_up)
            return None
        return url, number

    def page_failed(self, url: str, number: int) -> None:
        """A page could not be read: the next run resumes from it, whatever else this run did."""
        if self.failed is None or (self.failed.resume_page or 0) > number:
            self.failed = Pagination(url, number, self.state.caught_up)

    def to_keep(self, clean: bool, interrupted: bool) -> Pagination | None:
        """The record to write when the run ends (None: leave it as it was)."""
        if interrupted:
            return None
        if self.failed is not None:
            return self.failed
        return self.outcome if clean else None
