"""The one path through the pipeline: the steps the crawl's stages wrap are the ones batch grouping and
reclassify call, and a stage without its setting refuses to start instead of silently switching off."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from chipwatch.errors import ConfigError
from pipeline import process
from pipeline.batch import BatchItem, cluster_batch
from pipeline.items import ArticleItem, TopicScore
from pipeline.stages import ClassifyStage, StoreStage
from storage import opened

TEXT = (
    "The Commerce Department approved licences for Nvidia to ship H200 accelerators to approved customers in "
    "China, with 25% of the revenue going to the US government, officials said on Monday. Blackwell stays off "
    "the list, and AMD and Intel are to get the same treatment, the officials added. Lawmakers in both parties "
    "objected and said they would try to block the sales, while Beijing told its companies to buy fewer of them."
)


def test_a_stage_without_its_setting_is_a_configuration_error():
    with pytest.raises(ConfigError, match="CHIPWATCH_TOPICS"):
        ClassifyStage.from_crawler(get_crawler(settings_dict={}))
    stage = StoreStage.from_crawler(get_crawler(settings_dict={}))
    with pytest.raises(ConfigError, match="CHIPWATCH_DB"):
        stage.open_spider()


def test_process_article_tags_stores_and_groups_with_one_topic_type(classifier):
    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        item = ArticleItem(
            source="wire",
            url="https://wire.test/h200",
            canonical_url="https://wire.test/h200",
            fetched_at="2025-12-09T10:00:00Z",
            title="US lets Nvidia sell H200 chips to China for a 25% cut",
            text=TEXT,
            body_extracted=True,
            published_raw="2025-12-09T09:00:00Z",
        )
        process.process_article(context, item)
        assert item.store_status == "new" and item.relevant and item.story_id is not None
        assert item.topics and all(isinstance(topic, TopicScore) for topic in item.topics)
        stored = db.execute("SELECT topic FROM article_topics WHERE article_id = ?", [item.article_id]).fetchall()
        assert [row[0] for row in stored] == [topic.id for topic in item.topics]
        assert item.published_at == "2025-12-09T09:00:00Z"


def test_batch_grouping_takes_the_crawls_path(classifier):
    """The same article twice from two outlets: the second is a copy of the first in batch as in a crawl."""
    items = [
        BatchItem("a", "US lets Nvidia sell H200 chips to China for a 25% cut", TEXT),
        BatchItem("b", "Nvidia may sell H200 to China, 25% to Washington", TEXT + " Shares rose."),
        BatchItem("c", "Potato chip maker launches a new flavour", "A snack company launched a new flavour today."),
    ]
    first, second, third = cluster_batch(items, classifier)
    assert first.story is not None and first.duplicate_of is None
    assert second.duplicate_of == "a" and second.story == first.story
    assert third.story is None and third.duplicate_of is None
