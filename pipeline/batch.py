"""Grouping a batch of articles outside any crawl (`chipwatch cluster`): the crawl's own steps
(pipeline/process.py) run against a throwaway in-memory database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.classify import Classifier
from pipeline.dates import to_utc_iso
from pipeline.items import ArticleItem
from pipeline.process import Context, StoryModel, process_article
from storage import opened
from storage.stories import story_of_articles


@dataclass
class BatchItem:
    id: object
    title: str
    text: str
    published: str | None = None  # as given: a moment, a day (2025-12-09) or a month (2025-12); None if unknown
    source: str | None = None  # unknown in a batch: each item counts as its own outlet


@dataclass
class BatchResult:
    id: object
    story: int | None
    duplicate_of: object


def cluster_batch(items: Iterable[BatchItem], classifier: Classifier, now: datetime | None = None) -> list[BatchResult]:
    """Story and copy-of for each item, in input order. A date keeps its precision (a day or a month is that
    span, not its first moment); an item without one was published some time before now, no more is known."""
    now = now or datetime.now(UTC)
    with opened(":memory:") as db:
        context = Context(db, classifier, StoryModel.of(classifier))
        ids: list[object] = []
        article_at: list[int | None] = []  # by input position: the article it is, or the one it copies
        is_copy: list[bool] = []
        position_of: dict[int, int] = {}  # article id -> the input position that stored it
        for number, batch_item in enumerate(items):
            item = ArticleItem(
                source=batch_item.source or f"item-{number}",
                url=f"batch:{number}",
                canonical_url=f"batch:{number}",
                fetched_at=to_utc_iso(now),
                title=batch_item.title,
                text=batch_item.text,
                body_extracted=True,
                published_raw=batch_item.published,
            )
            process_article(context, item)
            ids.append(batch_item.id)
            article_at.append(item.article_id)
            is_copy.append(item.duplicate_of is not None)
            if item.duplicate_of is None and item.article_id is not None:
                position_of[item.article_id] = number
        # Stories merge as later items arrive: report each item's final story.
        story = story_of_articles(db)
        results = []
        for number, item_id in enumerate(ids):
            article = article_at[number]
            story_id = story.get(article) if article is not None else None
            original = ids[position_of[article]] if is_copy[number] and article in position_of else None
            results.append(BatchResult(item_id, story_id, original))
        return results
