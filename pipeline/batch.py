"""Grouping a batch of articles outside any crawl (`chipwatch cluster`): the same classifier, copy
detection and story assignment as the crawl, run against a throwaway in-memory database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.classify import Classifier, classify
from pipeline.dates import to_utc_iso
from pipeline.entities import extract_entities
from pipeline.grouping import assign_story, find_copy, fingerprint_record
from storage import open_database
from storage.articles import TopicScore, store_article


@dataclass
class BatchItem:
    id: object
    title: str
    text: str
    published: datetime | None = None
    source: str | None = None  # unknown in a batch: each item counts as its own outlet


@dataclass
class BatchResult:
    id: object
    story: int | None
    duplicate_of: object


def cluster_batch(items: Iterable[BatchItem], classifier: Classifier, now: datetime | None = None) -> list[BatchResult]:
    """Story and copy-of for each item, in input order. Items without a date are taken to be from now."""
    now = now or datetime.now(UTC)
    idf = classifier.linear.idf if classifier.linear else {}
    entity_idf = classifier.linear.entity_idf if classifier.linear else {}
    db = open_database(":memory:")
    ids_by_article: dict[int, object] = {}
    results = []
    try:
        for number, item in enumerate(items):
            moment = item.published or now
            source = item.source or f"item-{number}"
            copy = find_copy(db, item.text, source)
            if copy.duplicate_of is not None:
                story = db.execute("SELECT story_id FROM articles WHERE id = ?", [copy.duplicate_of]).fetchone()[0]
                results.append(BatchResult(item.id, story, ids_by_article[copy.duplicate_of]))
                continue
            verdict = classify(classifier, item.title, item.text)
            entities = [e.key for e in extract_entities(item.title, item.text)]
            stamp = to_utc_iso(moment)
            record = {
                "canonical_url": f"batch:{number}",
                "url": f"batch:{number}",
                "source": source,
                "title": item.title,
                "text": item.text,
                "published_at": stamp,
                "fetched_at": stamp,
                "relevant": int(verdict.relevant),
                "relevance": verdict.relevance,
            }
            topics = [TopicScore(t.id, t.score, t.evidence) for t in verdict.topics]
            fingerprint = fingerprint_record(copy.fingerprint) if copy.fingerprint is not None else None
            stored = store_article(db, record, topics, stamp, entities=entities, fingerprint=fingerprint)
            ids_by_article[stored.article_id] = item.id
            if verdict.relevant:  # as in a crawl, only relevant articles form stories
                topic_ids = [t.id for t in verdict.topics]
                assign_story(
                    db, stored.article_id, item.title, item.text, entities, topic_ids, moment, idf, entity_idf, stamp
                )
            results.append(BatchResult(item.id, None, None))
        # Stories merge as later items arrive; report each item's final story.
        final = {row[0]: row[1] for row in db.execute("SELECT id, story_id FROM articles")}
        by_item = {ids_by_article[article_id]: story for article_id, story in final.items()}
        for result in results:
            if result.duplicate_of is None:
                result.story = by_item.get(result.id)
            else:
                result.story = by_item.get(result.duplicate_of)
        return results
    finally:
        db.close()
