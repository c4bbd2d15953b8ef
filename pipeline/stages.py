"""The item pipeline, one small class per stage: extract -> normalise -> dedupe -> classify -> store.

Each stage reads its settings in from_crawler, opens resources in open_spider and closes them in
close_spider, and either returns the item or raises DropItem with a reason that the crawl run records.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from pipeline.classify import Classifier, classify, load_classifier
from pipeline.dates import is_future, more_precise, parse_date, to_utc_iso
from pipeline.entities import extract_entities
from pipeline.extract import extract_page
from pipeline.grouping import assign_story, find_copy, fingerprint_record
from pipeline.language import detect_language, normalise_lang
from pipeline.linear import load_linear
from pipeline.metadata import clean_authors
from pipeline.urls import choose_canonical
from spiders.signals import fetch_failed
from storage import open_database
from storage.articles import TopicScore, add_copy, find_by_content_hash, promote_original, published_at, store_article

SUMMARY_CHARS = 300
# Far above any real article; a page of junk text is kept only this far.
MAX_TEXT_CHARS = 500_000
MIN_HASHED_CHARS = 100
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DuplicateItem(DropItem):
    """The same article was already handled in this crawl: dropped, but not an error."""


class DatabaseStage:
    """A stage that needs the database: it opens its own connection for the crawl and closes it after."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.db = None

    @staticmethod
    def db_path_from(crawler: Any) -> Path:
        db = crawler.settings.get("CHIPWATCH_DB")
        if not db:
            raise NotConfigured("no database (CHIPWATCH_DB)")
        return Path(db)

    def open_spider(self) -> None:
        self.db = open_database(self.db_path)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()


class ExtractStage:
    """Body text and metadata from the page, with the feed entry as fallback.

    Extraction is most of a crawl's CPU time, so with workers > 1 it runs in that many worker processes
    (forked on first use) while the crawl's own process downloads, classifies and stores. Every source
    crawled in the process shares the one pool: eighteen sources still make two workers, not thirty-six.
    """

    shared_pool: ClassVar[ProcessPoolExecutor | None] = None
    users: ClassVar[int] = 0

    def __init__(self, signals: Any = None, workers: int = 1) -> None:
        self.signals = signals
        self.workers = workers

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractStage:
        return cls(crawler.signals, crawler.settings.getint("CHIPWATCH_EXTRACT_WORKERS", 1))

    def open_spider(self) -> None:
        ExtractStage.users += 1

    def close_spider(self) -> None:
        ExtractStage.users -= 1
        if ExtractStage.users <= 0 and ExtractStage.shared_pool is not None:
            ExtractStage.shared_pool.shutdown(wait=False, cancel_futures=True)
            ExtractStage.shared_pool = None

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if not adapter["page_fetched"]:
            return self._from_entry(adapter, item)
        page = await self._extract(adapter)
        title = page.title or adapter["feed_title"]
        if not page.text and not title:
            raise DropItem(f"empty page: no article text or title at {adapter['url']}")
        if page.problem:
            self._warn(adapter, "extract", f"{page.problem}; stored the feed's title and summary")
        elif not page.text:
            self._warn(adapter, "extract", "no article text found; stored the feed's title and summary")
        adapter["title"] = title
        adapter["text"] = page.text or adapter["feed_summary"]
        adapter["body_extracted"] = bool(page.text)
        adapter["authors"] = page.authors or clean_authors(adapter["feed_authors"] or [])
        adapter["published_raw"] = page.published or more_precise(adapter["feed_published"], page.text_date)
        adapter["updated_raw"] = page.updated
        adapter["lang"] = page.lang if page.lang and page.lang != "und" else normalise_lang(adapter["source_lang"])
        adapter["canonical_url"] = choose_canonical(adapter["url"], page.canonical_url)
        adapter["html_encoding"] = page.encoding
        adapter["body"] = b""  # the page is no longer needed; keep memory flat on long crawls
        return item

    async def _extract(self, adapter: ItemAdapter) -> Any:
        job = partial(
            extract_page,
            adapter["body"],
            adapter["url"],
            content_type=adapter["content_type"],
            lang_hint=adapter["source_lang"],
        )
        if self.workers <= 1:
            return job()
        if ExtractStage.shared_pool is None:
            # fork: the workers start at once with everything already imported.
            ExtractStage.shared_pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        try:
            return await asyncio.get_running_loop().run_in_executor(ExtractStage.shared_pool, job)
        except BrokenProcessPool:
            # A worker died on this page (or was killed): the page is dropped, the next ones get a new pool.
            ExtractStage.shared_pool = None
            raise DropItem(f"extraction crashed on {adapter['url']}") from None

    def _from_entry(self, adapter: ItemAdapter, item: Any) -> Any:
        if not adapter["feed_title"]:
            raise DropItem(f"entry without a title at {adapter['url']}")
        adapter["title"] = adapter["feed_title"]
        adapter["text"] = adapter["feed_summary"]
        adapter["authors"] = clean_authors(adapter["feed_authors"] or [])
        adapter["published_raw"] = adapter["feed_published"]
        text = f"{adapter['feed_title']}\n{adapter['feed_summary'] or ''}"
        adapter["lang"] = detect_language(text, None, adapter["source_lang"])
        adapter["canonical_url"] = choose_canonical(adapter["url"], None)
        return item

    def _warn(self, adapter: ItemAdapter, kind: str, message: str) -> None:
        if self.signals is not None:
            self.signals.send_catch_log(
                signal=fetch_failed,
                source=adapter["source"],
                url=adapter["url"],
                kind=kind,
                message=message,
                fatal=False,
            )


class NormaliseStage:
    """Dates as UTC ISO 8601, clean whitespace, a summary and a content hash."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        zone = adapter["source_timezone"] or "UTC"
        adapter["published_at"] = _utc(adapter["published_raw"], zone)
        adapter["updated_at"] = _utc(adapter["updated_raw"], zone)
        adapter["title"] = _clean_line(adapter["title"])
        adapter["text"] = _clean_text((adapter["text"] or "")[:MAX_TEXT_CHARS])
        adapter["authors"] = [name for name in (_clean_line(a) for a in adapter["authors"] or []) if name]
        summary = _clean_line(adapter["feed_summary"]) or _clean_line((adapter["text"] or "")[: SUMMARY_CHARS * 2])
        adapter["summary"] = summary[:SUMMARY_CHARS] if summary else None
        # Only a real body identifies an article: equal feed summaries or a few words say nothing.
        substantial = adapter["body_extracted"] and len(adapter["text"] or "") >= MIN_HASHED_CHARS
        adapter["content_hash"] = content_hash(adapter["text"]) if substantial else None
        return item


class DedupeStage(DatabaseStage):
    """One article per canonical URL in a crawl; pages that copy a stored article (the same text, or a
    syndicated version with small edits) become copies of it instead of articles of their own."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path)
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> DedupeStage:
        return cls(cls.db_path_from(crawler))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        canonical = adapter["canonical_url"]
        if canonical in self.seen:
            raise DuplicateItem(f"duplicate: {canonical} was already handled in this crawl")
        self.seen.add(canonical)
        if adapter["content_hash"]:
            adapter["duplicate_of"] = find_by_content_hash(self.db, adapter["content_hash"], canonical)
        if adapter["duplicate_of"] is None and adapter["body_extracted"]:
            check = find_copy(self.db, adapter["text"], adapter["publisher"] or adapter["source"])
            adapter["duplicate_of"] = check.duplicate_of if not self._same_url(check.duplicate_of, canonical) else None
            adapter["fingerprint"] = check.fingerprint
        return item

    def _same_url(self, article_id: int | None, canonical: str) -> bool:
        """A page re-fetched at its own URL is an update of itself, not a copy."""
        if article_id is None:
            return False
        row = self.db.execute("SELECT canonical_url FROM articles WHERE id = ?", [article_id]).fetchone()
        return bool(row) and row[0] == canonical


class ClassifyStage:
    """Relevance and topics from the topics file."""

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClassifyStage:
        topics = crawler.settings.get("CHIPWATCH_TOPICS")
        if not topics:
            raise NotConfigured("no topics file (CHIPWATCH_TOPICS)")
        model = crawler.settings.get("CHIPWATCH_MODEL")
        return cls(load_classifier(Path(topics), Path(model) if model else None))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        result = classify(self.classifier, adapter["title"], adapter["text"], adapter["lang"])
        adapter["relevant"] = result.relevant
        adapter["relevance"] = result.relevance
        adapter["topics"] = [{"id": t.id, "score": t.score, "evidence": t.evidence} for t in result.topics]
        adapter["model_version"] = result.model_version
        return item


class EntitiesStage:
    """Companies, chips, agencies, bills, people, percentages and money named in the article."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        adapter["entities"] = [entity.key for entity in extract_entities(adapter["title"], adapter["text"])]
        return item


class StoreStage(DatabaseStage):
    """Upsert into SQLite keyed on canonical URL (or record a copy); one transaction per item."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoreStage:
        return cls(cls.db_path_from(crawler))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["duplicate_of"]:
            original = adapter["duplicate_of"]
            stored_date = published_at(self.db, original)
            if adapter["published_at"] and stored_date and adapter["published_at"] < stored_date:
                # This page published the article first: it becomes the article, the stored page its copy.
                record = adapter.asdict()
                promote_original(self.db, original, record)
                added = True
            else:
                added = add_copy(
                    self.db,
                    original,
                    adapter["source"],
                    adapter["url"],
                    adapter["fetched_at"],
                    adapter["title"],
                    adapter["publisher"],
                )
            adapter["article_id"] = original
            adapter["store_status"] = "copy" if added else "unchanged"
            return item
        record = adapter.asdict()
        record["relevant"] = int(bool(record["relevant"]))
        topics = [TopicScore(t["id"], t["score"], t["evidence"]) for t in adapter["topics"]]
        fingerprint = fingerprint_record(adapter["fingerprint"]) if adapter["fingerprint"] is not None else None
        result = store_article(
            self.db, record, topics, adapter["fetched_at"], entities=adapter["entities"], fingerprint=fingerprint
        )
        adapter["article_id"] = result.article_id
        adapter["store_status"] = result.status
        return item


class StoryStage(DatabaseStage):
    """New relevant articles join the open story they continue (a follow-up) or start a new one."""

    def __init__(self, db_path: Path, idf: dict[str, float], entity_idf: dict[str, float]) -> None:
        super().__init__(db_path)
        self.idf = idf
        self.entity_idf = entity_idf

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoryStage:
        model = crawler.settings.get("CHIPWATCH_MODEL")
        linear = load_linear(Path(model)) if model else None
        return cls(cls.db_path_from(crawler), linear.idf if linear else {}, linear.entity_idf if linear else {})

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter["store_status"] != "new" or not adapter["relevant"]:
            return item
        moment = parse_date(adapter["published_at"] or adapter["fetched_at"]) or datetime.now(UTC)
        assignment = assign_story(
            self.db,
            adapter["article_id"],
            adapter["title"] or "",
            adapter["text"] or "",
            adapter["entities"],
            [topic["id"] for topic in adapter["topics"]],
            moment,
            self.idf,
            self.entity_idf,
            adapter["fetched_at"] or to_utc_iso(datetime.now(UTC)),
        )
        adapter["story_id"] = assignment.story_id
        adapter["follow_up"] = assignment.follow_up
        return item


def content_hash(text: str | None) -> str | None:
    """Identity of an article's text, insensitive to case and whitespace."""
    if not text:
        return None
    normalised = " ".join(text.lower().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _utc(value: str | None, zone: str) -> str | None:
    moment = parse_date(value, zone)
    if moment is None or is_future(moment, datetime.now(UTC)):
        return None
    return to_utc_iso(moment)


def _clean_line(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(CONTROL_CHARS.sub("", value).split())
    return value or None


def _clean_text(value: str | None) -> str | None:
    if not value:
        return None
    lines = [" ".join(CONTROL_CHARS.sub("", line).split()) for line in value.splitlines()]
    text = "\n".join(line for line in lines if line)
    return text or None
