"""What a spider may ask of what is stored: "is this page stored?", "what did the server send last time?",
"where did pagination stop?". On one machine the answers come from the database; a cluster worker, which has
no database, gets them from a snapshot the writer made when it queued the crawl (chipwatch/cluster/)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlite_utils import Database

from storage.articles import recent_pages, stored_since
from storage.crawl_state import Pagination, entries_to_retry, entries_waiting, get_pagination, sitemaps_read
from storage.screening_lists import stored_entries
from storage.sources import get_validators


class CrawlView(Protocol):
    def validators(self) -> tuple[str | None, str | None]: ...
    def retries(self, now: str) -> list[tuple[str, str | None]]: ...
    def waiting(self, now: str) -> set[str]: ...
    def pagination(self) -> Pagination: ...
    def recent_pages(self, since: str) -> list[tuple[str, str | None]]: ...
    def stored_since(self, url: str) -> str | None: ...
    def sitemaps_read(self) -> dict[str, str | None]: ...
    def list_snapshot(self) -> dict[tuple[str, str], dict[str, Any]]: ...


class StoredView:
    """The answers read from the database, for one source."""

    def __init__(self, db: Database, source: str) -> None:
        self.db = db
        self.source = source

    def validators(self) -> tuple[str | None, str | None]:
        return get_validators(self.db, self.source)

    def retries(self, now: str) -> list[tuple[str, str | None]]:
        return entries_to_retry(self.db, self.source, now)

    def waiting(self, now: str) -> set[str]:
        return entries_waiting(self.db, self.source, now)

    def pagination(self) -> Pagination:
        return get_pagination(self.db, self.source)

    def recent_pages(self, since: str) -> list[tuple[str, str | None]]:
        return recent_pages(self.db, self.source, since)

    def stored_since(self, url: str) -> str | None:
        return stored_since(self.db, url)

    def sitemaps_read(self) -> dict[str, str | None]:
        return sitemaps_read(self.db, self.source)

    def list_snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return stored_entries(self.db, self.source)


@dataclass
class ViewSnapshot:
    """A source's answers taken at one moment, to travel with its crawl (JSON-safe)."""

    now: str
    validators: tuple[str | None, str | None] = (None, None)
    retries: list[tuple[str, str | None]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    pagination: tuple[str | None, int | None, bool] = (None, None, False)
    recent_since: str | None = None
    recent_pages: list[tuple[str, str | None]] = field(default_factory=list)
    sitemaps_read: dict[str, str | None] = field(default_factory=dict)
    list_entries: list[dict[str, Any]] = field(default_factory=list)  # a screening list's stored snapshot

    @classmethod
    def take(cls, view: StoredView, now: str, recent_since: str | None, *, lists: bool = False) -> ViewSnapshot:
        page = view.pagination()
        return cls(
            now=now,
            validators=view.validators(),
            retries=view.retries(now),
            waiting=sorted(view.waiting(now)),
            pagination=(page.resume_url, page.resume_page, page.caught_up),
            recent_since=recent_since,
            recent_pages=view.recent_pages(recent_since) if recent_since else [],
            sitemaps_read=view.sitemaps_read(),
            list_entries=list(view.list_snapshot().values()) if lists else [],
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ViewSnapshot:
        return cls(
            now=data["now"],
            validators=tuple(data.get("validators") or (None, None)),
            retries=[(url, title) for url, title in data.get("retries", [])],
            waiting=list(data.get("waiting", [])),
            pagination=tuple(data.get("pagination") or (None, None, False)),
            recent_since=data.get("recent_since"),
            recent_pages=[(url, title) for url, title in data.get("recent_pages", [])],
            sitemaps_read=dict(data.get("sitemaps_read", {})),
            list_entries=list(data.get("list_entries", [])),
        )


class SnapshotView:
    """The answers of a snapshot; "is this page stored?" asked of `stored` (the cluster's shared index of
    stored pages), since pages keep being stored while the crawl runs."""

    def __init__(self, snapshot: ViewSnapshot, stored: Any) -> None:
        self.snapshot = snapshot
        self.stored = stored  # url -> first stored at, or None

    def validators(self) -> tuple[str | None, str | None]:
        return self.snapshot.validators

    def retries(self, now: str) -> list[tuple[str, str | None]]:
        return self.snapshot.retries

    def waiting(self, now: str) -> set[str]:
        return set(self.snapshot.waiting)

    def pagination(self) -> Pagination:
        return Pagination(*self.snapshot.pagination)

    def recent_pages(self, since: str) -> list[tuple[str, str | None]]:
        return self.snapshot.recent_pages

    def stored_since(self, url: str) -> str | None:
        result: str | None = self.stored(url)
        return result

    def sitemaps_read(self) -> dict[str, str | None]:
        return self.snapshot.sitemaps_read

    def list_snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(entry["list_code"], entry["id"]): entry for entry in self.snapshot.list_entries}
