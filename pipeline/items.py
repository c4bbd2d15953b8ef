"""What travels from a spider through the pipeline into storage: the article item and its topic scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TopicScore:
    """One topic the classifier gave an article: its id, score and the phrases behind it. Stored as is."""

    id: str
    score: float
    evidence: list[str] = field(default_factory=list)


@dataclass
class ArticleItem:
    # Set by the spider: where the page came from and what the feed said about it.
    source: str
    url: str
    body: bytes = b""
    content_type: str | None = None
    fetched_at: str | None = None
    source_lang: str | None = None
    source_timezone: str = "UTC"
    feed_title: str | None = None
    feed_summary: str | None = None
    feed_published: str | None = None
    feed_authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    # False for an entry stored from what its feed says (a search result whose article cannot be reached).
    page_fetched: bool = True
    # What a structured source states outright, kept beside what the classifier and the gazetteer find:
    # topics and entities it implies (a screening-list change is export controls; it names its countries),
    # and its relevance (None: the classifier decides).
    stated_topics: list[str] = field(default_factory=list)
    stated_entities: list[str] = field(default_factory=list)
    stated_relevant: bool | None = None
    # A Federal Register document's structured fields (number, type, RIN, CFR parts, dates).
    document: dict[str, Any] | None = None
    # A screening-list item's changes (pipeline/list_changes.py Change.row), stored with it.
    list_changes: list[dict[str, Any]] = field(default_factory=list)
    # Filled by ExtractStage.
    html_encoding: str | None = None
    body_extracted: bool = False  # False when text is only the feed's summary
    title: str | None = None
    text: str | None = None
    authors: list[str] = field(default_factory=list)
    published_raw: str | None = None
    day_shown: str | None = None  # the day the page prints for published_raw's moment, when not its own
    updated_raw: str | None = None
    lang: str | None = None
    canonical_url: str | None = None
    # Filled by NormaliseStage.
    published_at: str | None = None  # UTC; for a date without a time, that day (as stated) at 00:00Z
    published_date: str | None = None  # the day as the page states it, YYYY-MM-DD (YYYY-MM for a month)
    published_precision: str | None = None  # second, minute, day or month
    updated_at: str | None = None
    summary: str | None = None
    content_hash: str | None = None
    # Filled by DedupeStage: the stored article this page copies (exactly or nearly), and its fingerprint.
    duplicate_of: int | None = None
    fingerprint: Any = None
    # Filled by ClassifyStage.
    relevant: bool | None = None
    relevance: float | None = None
    topics: list[TopicScore] = field(default_factory=list)
    model_version: str | None = None
    # Filled by EntitiesStage: "kind:value" keys such as chip:h200 or company:nvidia.
    entities: list[str] = field(default_factory=list)
    # Filled by StoreStage.
    article_id: int | None = None
    store_status: str | None = None
    # Filled by StoryStage.
    story_id: int | None = None
    follow_up: bool = False
    # Set on a cluster's worker: the queue entry the page's request came from (settled once the item is on
    # its way to the writer), and the URLs the stored page answers for (where it was fetched, the entry's).
    lease: str | None = None
    page_urls: list[str] = field(default_factory=list)
