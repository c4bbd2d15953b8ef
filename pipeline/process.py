"""One path from a fetched page to a stored, tagged, grouped article.

    extract -> normalise -> site name -> classify -> entities | find copies -> store -> story

The steps before the bar need only the page (a cluster's workers run them on any machine); those after it
need what is stored (only the database's one writer runs them).

Each step is a plain function over an ArticleItem. The crawl's Scrapy stages (pipeline/stages.py) are thin
wrappers that call one step each; `chipwatch cluster` (pipeline/batch.py), `chipwatch reclassify` and the
benchmarks call the same steps through `process_article`, so every way in tags and groups alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from pipeline.classify import Classification, Classifier, classify
from pipeline.dates import Stated, finest, is_future, read_date, to_utc_iso
from pipeline.day_shown import local_days
from pipeline.entities import extract_entities
from pipeline.extract import ExtractedPage
from pipeline.grouping import assign_story, find_copy, fingerprint_record
from pipeline.items import ArticleItem, TopicScore
from pipeline.language import detect_language, normalise_lang
from pipeline.metadata import clean_authors
from pipeline.site_names import site_of, title_tail
from pipeline.title_only import absorb_title_only_copies, full_article_for, is_title_only, title_key
from pipeline.urls import choose_canonical
from pipeline.when import published_within
from storage.articles import (
    ARTICLE_COLUMNS,
    add_copy,
    article_details,
    canonical_url_of,
    find_by_content_hash,
    promote_original,
    published_at,
    store_article,
)
from storage.rule_documents import store_document
from storage.screening_lists import apply_changes
from storage.site_names import learned_site_names, note_site_name

SUMMARY_CHARS = 300
# Far above any real article; a page of junk text is kept only this far.
MAX_TEXT_CHARS = 500_000
MIN_HASHED_CHARS = 100
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EmptyPage(ValueError):
    """A page with neither article text nor a title: nothing to store."""


@dataclass(frozen=True)
class StoryModel:
    """What story grouping weighs words and entities by (from the trained model; empty without one)."""

    idf: dict[str, float] = field(default_factory=dict)
    entity_idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, classifier: Classifier | None) -> StoryModel:
        linear = classifier.linear if classifier is not None else None
        return cls(linear.idf, linear.entity_idf) if linear is not None else cls()


@dataclass
class Context:
    """What the steps after extraction need: the database, the classifier and the story weights."""

    db: Database
    classifier: Classifier
    stories: StoryModel


# -- extract ---------------------------------------------------------------------------------------------------


def apply_extraction(item: ArticleItem, page: ExtractedPage) -> list[str]:
    """Fill the item from its extracted page, the feed entry standing in for what the page lacks.

    Returns the problems worth recording (nothing was lost: the feed's title and summary were kept).
    Raises EmptyPage when there is nothing to store.
    """
    title = page.title or item.feed_title
    if not page.text and not title:
        raise EmptyPage(f"empty page: no article text or title at {item.url}")
    problems = []
    if page.problem:
        problems.append(f"{page.problem}; stored the feed's title and summary")
    elif not page.text:
        problems.append("no article text found; stored the feed's title and summary")
    item.title = title
    item.text = page.text or item.feed_summary
    item.body_extracted = bool(page.text)
    item.authors = page.authors or clean_authors(item.feed_authors or [])
    zone = item.source_timezone or "UTC"
    item.published_raw, item.day_shown = page_published(page, zone, item.feed_published)
    item.updated_raw = page.updated
    item.lang = page.lang if page.lang and page.lang != "und" else normalise_lang(item.source_lang)
    item.canonical_url = choose_canonical(item.url, page.canonical_url)
    item.html_encoding = page.encoding
    item.body = b""  # the page is no longer needed; keep memory flat on long crawls
    return problems


def from_entry(item: ArticleItem) -> ArticleItem:
    """An item stored from its feed entry alone (a search result whose article cannot be reached)."""
    if not item.feed_title:
        raise EmptyPage(f"entry without a title at {item.url}")
    item.title = item.feed_title
    item.text = item.feed_summary
    item.authors = clean_authors(item.feed_authors or [])
    item.published_raw = item.feed_published
    item.lang = detect_language(f"{item.feed_title}\n{item.feed_summary or ''}", None, item.source_lang)
    item.canonical_url = choose_canonical(item.url, None)
    return item


# -- normalise -------------------------------------------------------------------------------------------------


def normalise(item: ArticleItem) -> ArticleItem:
    """Dates as UTC ISO 8601, clean whitespace, a summary and a content hash."""
    zone = item.source_timezone or "UTC"
    item.published_at, item.published_date, item.published_precision = publication(
        item.published_raw, item.day_shown, zone
    )
    updated = _stated(item.updated_raw, zone)
    item.updated_at = updated.utc_iso() if updated is not None else None
    item.title = clean_line(item.title)
    item.text = clean_text((item.text or "")[:MAX_TEXT_CHARS])
    item.authors = [name for name in (clean_line(a) for a in item.authors or []) if name]
    summary = clean_line(item.feed_summary) or clean_line((item.text or "")[: SUMMARY_CHARS * 2])
    item.summary = summary[:SUMMARY_CHARS] if summary else None
    # Only a real body identifies an article: equal feed summaries or a few words say nothing.
    substantial = item.body_extracted and len(item.text or "") >= MIN_HASHED_CHARS
    item.content_hash = content_hash(item.text) if substantial else None
    return item


def content_hash(text: str | None) -> str | None:
    """Identity of an article's text, insensitive to case and whitespace."""
    if not text:
        return None
    normalised = " ".join(text.lower().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def clean_line(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(CONTROL_CHARS.sub("", value).split())
    return value or None


def clean_text(value: str | None) -> str | None:
    if not value:
        return None
    lines = [" ".join(CONTROL_CHARS.sub("", line).split()) for line in value.splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or None


def default_zone(lang: str | None) -> str:
    """The zone of a page's dates written without one, when no source says: Chinese pages are most
    likely in Beijing time, others are read as UTC."""
    return "Asia/Shanghai" if (lang or "").startswith("zh") else "UTC"


def page_published(page: ExtractedPage, zone: str, feed_published: str | None = None) -> tuple[str | None, str | None]:
    """The page's publication date as written (its metadata, else the feed's, else the printed one) and
    the day the page shows for it when that is another day (see pipeline/day_shown.py)."""
    raw = finest(page.published, feed_published, page.text_date, default_timezone=zone)
    return raw, page.day_shown if raw is not None and raw == page.published else None


def publication(raw: str | None, day_shown: str | None, zone: str) -> tuple[str | None, str | None, str | None]:
    """published_at (UTC), published_date (the day as the page states or shows it) and precision; three
    Nones when the date cannot be read or lies in the future. A shown day replaces the stated one only for
    a moment that falls on it somewhere: it is about a moment, never about a day or a month as stated."""
    stated = _stated(raw, zone)
    if stated is None:
        return None, None, None
    day = day_shown if day_shown and stated.has_time and day_shown in local_days(stated.moment) else stated.day
    return stated.utc_iso(), day, stated.precision


def _stated(value: str | None, zone: str) -> Stated | None:
    """The date as stated, unless it cannot be read or lies in the future (a wrong date, not a scoop)."""
    stated = read_date(value, zone)
    if stated is None or is_future(stated.moment, datetime.now(UTC)):
        return None
    return stated


# -- site names ------------------------------------------------------------------------------------------------


def drop_site_name(db: Database, item: ArticleItem) -> ArticleItem:
    """The title without a site name learned from the site's other pages (pipeline/site_names.py)."""
    return drop_known_site_name(item, lambda site: learned_site_names(db, site))


def drop_known_site_name(item: ArticleItem, names_of: Callable[[str], Collection[str]]) -> ArticleItem:
    """The title without a site name that names_of(site) knows (the database, or a cluster's copy of it)."""
    tail = title_tail(item.title)
    site = site_of(item.canonical_url or item.url)
    if tail is not None and site and tail.name in names_of(site):
        item.title = tail.head
    return item


def learn_site_name(db: Database, item: ArticleItem) -> ArticleItem:
    """Count a new article's trailing title segment for its site; when enough pages share it, it is the
    site's name: off this title and the site's stored ones."""
    tail = title_tail(item.title)
    site = site_of(item.canonical_url or item.url)
    if item.store_status != "new" or item.article_id is None or tail is None or not site:
        return item
    if note_site_name(db, site, tail.name, tail.suffix, item.article_id, utc_stamp()):
        item.title = tail.head
    return item


# -- copies ----------------------------------------------------------------------------------------------------


def find_duplicate(db: Database, item: ArticleItem) -> ArticleItem:
    """The stored article this page copies (the same text, or a syndicated version with small edits)."""
    if item.list_changes:
        # A list's changes are never a copy, even when their text repeats an earlier item's (an entry taken
        # off, put back and taken off again): stored as a copy, the changes would never reach the snapshot.
        return item
    canonical = item.canonical_url or item.url
    if item.content_hash:
        item.duplicate_of = find_by_content_hash(db, item.content_hash, canonical)
    if item.duplicate_of is None and is_title_only(item):
        item.duplicate_of = full_article_for(db, item)  # a search result of an article already stored
    if item.duplicate_of is None and item.body_extracted:
        check = find_copy(db, item.text, item.publisher or item.source)
        # A page re-fetched at its own URL is an update of itself, not a copy.
        same_page = check.duplicate_of is not None and canonical_url_of(db, check.duplicate_of) == canonical
        item.duplicate_of = None if same_page else check.duplicate_of
        item.fingerprint = check.fingerprint
    return item


# -- classify and entities ---------------------------------------------------------------------------------------


def classify_article(classifier: Classifier, title: str | None, text: str | None, lang: str | None) -> Classification:
    """Relevance and topics for one article (the step reclassify also takes)."""
    return classify(classifier, title, text, lang)


def tag(classifier: Classifier, item: ArticleItem) -> ArticleItem:
    result = classify_article(classifier, item.title, item.text, item.lang)
    item.relevant = result.relevant
    item.relevance = result.relevance
    item.topics = result.topics
    item.model_version = result.model_version
    return apply_stated(item)


def apply_stated(item: ArticleItem) -> ArticleItem:
    """What the source states outright stands beside the classifier's reading: a screening-list change is
    export controls whatever its wording, and a list's first reading is a record, not news."""
    have = {topic.id for topic in item.topics}
    for topic in item.stated_topics:
        if topic not in have:
            item.topics.append(TopicScore(topic, 1.0, ["stated by the source"]))
    if item.stated_relevant is not None:
        item.relevant = item.stated_relevant
        if item.stated_relevant:
            item.relevance = max(item.relevance or 0.0, 1.0 if item.stated_topics else 0.0)
    return item


def name_entities(item: ArticleItem) -> ArticleItem:
    """Companies, chips, agencies, bills, people, percentages and money named in the article."""
    found = [entity.key for entity in extract_entities(item.title, item.text)]
    item.entities = sorted(set(found) | set(item.stated_entities)) if item.stated_entities else found
    return item


# -- store and group ----------------------------------------------------------------------------------------------


def store(db: Database, item: ArticleItem) -> ArticleItem:
    """Upsert keyed on canonical URL, or record the page as a copy; one transaction per item."""
    if item.list_changes and all(change["kind"] == "listed" for change in item.list_changes):
        # A list's first reading is its snapshot, not news: recorded, with no article.
        apply_changes(db, item.source, None, item.list_changes, item.fetched_at or utc_stamp())
        item.store_status = "recorded"
        return item
    if item.duplicate_of:
        original = item.duplicate_of
        stored_date = published_at(db, original)
        # An earlier page becomes the article, unless it is only a search result's headline.
        if item.published_at and stored_date and item.published_at < stored_date and not is_title_only(item):
            # This page published the article first: it becomes the article, the stored page its copy.
            promote_original(db, original, article_record(item))
            added = True
        else:
            fetched = item.fetched_at or utc_stamp()
            added = add_copy(db, original, item.source, item.url, fetched, item.title, item.publisher)
        item.article_id = original
        item.store_status = "copy" if added else "unchanged"
        return item
    record = article_record(item)
    fingerprint = fingerprint_record(item.fingerprint) if item.fingerprint is not None else None
    result = store_article(db, record, item.topics, item.fetched_at or utc_stamp(), item.entities, fingerprint)
    item.article_id = result.article_id
    item.store_status = result.status
    store_structured(db, item)
    return item


def store_structured(db: Database, item: ArticleItem) -> None:
    """A rule's fields and a list item's changes, beside the stored article. Both writes are idempotent, so
    an item stored again after an interruption completes what the first try left undone."""
    if item.article_id is None:
        return
    if item.document:
        store_document(db, item.article_id, item.document)
    if item.list_changes:
        apply_changes(db, item.source, item.article_id, item.list_changes, item.fetched_at or utc_stamp())


def article_record(item: ArticleItem) -> dict[str, object]:
    record: dict[str, object] = {column: getattr(item, column, None) for column in ARTICLE_COLUMNS}
    record["relevant"] = int(bool(item.relevant))
    record["title_only"] = int(is_title_only(item))
    record["title_key"] = title_key(item.title)
    return record


def group(db: Database, stories: StoryModel, item: ArticleItem) -> ArticleItem:
    """A new relevant article joins the open story it continues (a follow-up) or starts a new one."""
    if item.store_status != "new" or not item.relevant or item.article_id is None:
        return item
    when = published_within(
        item.published_at, item.published_precision, item.published_date, item.fetched_at, item.text or ""
    )
    assignment = assign_story(
        db,
        item.article_id,
        item.title or "",
        item.text or "",
        item.entities,
        [topic.id for topic in item.topics],
        when,
        stories.idf,
        stories.entity_idf,
        item.fetched_at or utc_stamp(),
    )
    item.story_id = assignment.story_id
    item.follow_up = assignment.follow_up
    return item


def regroup_stored(db: Database, stories: StoryModel, article_id: int) -> int | None:
    """Put a stored article that has no story (a reader just marked it relevant) where grouping would have
    put it; its story id, or None when it is not relevant or already in one."""
    article = article_details(db, article_id)
    if article is None or not article["relevant"] or article["story_id"] is not None:
        return None
    item = ArticleItem(source=article["source"], url=article["url"], canonical_url=article["canonical_url"])
    item.title, item.text = article["title"], article["text"]
    item.published_at, item.published_date = article["published_at"], article["published_date"]
    item.published_precision, item.fetched_at = article["published_precision"], article["first_seen_at"]
    item.entities = [f"{kind}:{value}" for kind, values in article["entities"].items() for value in values]
    item.topics = [TopicScore(topic["id"], topic["score"]) for topic in article["topics"]]
    item.relevant, item.store_status, item.article_id = True, "new", article_id
    return group(db, stories, item).story_id


def utc_stamp() -> str:
    return to_utc_iso(datetime.now(UTC))


# -- the whole path -------------------------------------------------------------------------------------------------


def process_article(context: Context, item: ArticleItem) -> ArticleItem:
    """Every step after extraction, in the crawl's order."""
    normalise(item)
    drop_site_name(context.db, item)
    tag(context.classifier, item)
    name_entities(item)
    return store_half(context.db, context.stories, item)


def store_half(db: Database, stories: StoryModel, item: ArticleItem) -> ArticleItem:
    """The steps that need what is stored, in order: copies, store, site name, headline-only copies, story.
    (A cluster's writer calls this for each item its workers send.)"""
    find_duplicate(db, item)
    store(db, item)
    learn_site_name(db, item)
    absorb_title_only_copies(db, item)
    return group(db, stories, item)
