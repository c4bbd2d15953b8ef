"""What every discovery document (feed, sitemap, API page, listing) yields: entries that point at articles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entry:
    link: str
    title: str | None = None
    published: str | None = None  # as the document writes it
    summary: str | None = None
    authors: list[str] = field(default_factory=list)
    guid: str | None = None
    publisher: str | None = None  # the outlet, when a search feed or news sitemap names it
    lang: str | None = None
    keywords: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None  # a Federal Register document's structured fields
