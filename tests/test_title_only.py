"""A news-search result stored from its headline alone and the publisher's own article: one article (the
full one) with the search result as its copy, in either order, so readers get the text and one story."""

from __future__ import annotations

import pytest

from pipeline import process
from pipeline.items import ArticleItem
from storage import opened

TITLE = "Commerce approves first fictional H200 licences for Chinese cloud buyers"
TEXT = (
    "The Commerce Department approved the first licences for Nvidia to ship H200 accelerators to approved "
    "customers in China, officials said, with 25% of the revenue going to the US government. Blackwell stays "
    "off the list. This is fictional text written for chipwatch's tests, long enough to be an article body."
)


def search_result(day: str, title: str = TITLE) -> ArticleItem:
    return ArticleItem(
        source="news-search",
        url=f"https://news.example/rss/articles/opaque-{day}",
        canonical_url=f"https://news.example/rss/articles/opaque-{day}",
        fetched_at=f"{day}T08:00:00Z",
        title=title,
        text="Fictional search summary.",
        publisher="Wire Example",
        page_fetched=False,
        published_raw=f"{day}T07:00:00Z",
    )


def full_article(day: str, title: str = TITLE) -> ArticleItem:
    return ArticleItem(
        source="wire-example",
        url=f"https://wire.example/{day}/h200",
        canonical_url=f"https://wire.example/{day}/h200",
        fetched_at=f"{day}T09:00:00Z",
        title=title,
        text=TEXT,
        body_extracted=True,
        published_raw=f"{day}T06:30:00Z",
    )


def rows(db):
    return db.execute("SELECT id, title_only, canonical_url FROM articles ORDER BY id").fetchall()


def test_the_publishers_article_takes_in_the_search_result_stored_before_it(classifier):
    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        first = process.process_article(context, search_result("2025-12-09"))
        assert first.store_status == "new" and rows(db)[0][1] == 1
        db.execute(
            "INSERT INTO labels (article_id, relevant, topics, created_at) VALUES (?, 1, '[]', 'x')", [first.article_id]
        )
        full = process.process_article(context, full_article("2025-12-10"))
        assert [row[2] for row in rows(db)] == ["https://wire.example/2025-12-10/h200"]
        copies = [row[0] for row in db.execute("SELECT url FROM copies WHERE article_id = ?", [full.article_id])]
        assert copies == ["https://news.example/rss/articles/opaque-2025-12-09"]
        assert db.execute("SELECT article_id FROM labels").fetchone()[0] == full.article_id
        stories = db.execute("SELECT article_count FROM stories").fetchall()
        assert stories == [(1,)]  # the search result's story went with it; the article has its own


def test_a_search_result_of_a_stored_article_is_its_copy(classifier):
    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        full = process.process_article(context, full_article("2025-12-09"))
        later = process.process_article(context, search_result("2025-12-08", TITLE.upper() + "!"))
        assert later.store_status == "copy" and later.article_id == full.article_id
        assert len(rows(db)) == 1
        # The search result was "published" earlier than the page, but a headline never replaces the text.
        assert db.execute("SELECT text FROM articles").fetchone()[0].startswith("The Commerce Department")


@pytest.mark.parametrize(
    "other",
    [
        lambda: full_article("2025-12-20"),  # ten days later: another article with the headline
        lambda: full_article("2025-12-10", "Commerce approves first fictional H20 licences for Chinese buyers"),
    ],
)
def test_different_headlines_or_days_stay_apart(classifier, other):
    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        process.process_article(context, search_result("2025-12-09"))
        process.process_article(context, other())
        assert [row[1] for row in rows(db)] == [1, 0]
