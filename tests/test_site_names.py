"""A site's name learned from the pattern its pages share, and taken off its titles — the ones stored
before it was learned too (pipeline/site_names.py, storage/site_names.py)."""

from __future__ import annotations

import pytest

from pipeline import process
from pipeline.items import ArticleItem
from pipeline.site_names import site_of, title_tail
from storage import opened
from storage.site_names import LEARNED_AFTER, learned_site_names

TEXT = (
    "The Commerce Department approved licences for Nvidia to ship H200 accelerators to approved customers in "
    "China, with 25% of the revenue going to the US government, officials said on Monday (fictional test text)."
)


@pytest.mark.parametrize(
    "title, head, name",
    [
        ("Chip curbs widen | Zanzibar Ledger", "Chip curbs widen", "Zanzibar Ledger"),
        ("芯片新规出台，企业忙应对_某某在线", "芯片新规出台，企业忙应对", "某某在线"),
        ("H200 – what the licences say - Quillfeather", "H200 – what the licences say", "Quillfeather"),
    ],
)
def test_the_last_segment_after_a_separator_is_a_candidate_name(title, head, name):
    tail = title_tail(title)
    assert tail is not None and (tail.head, tail.name) == (head, name)
    assert title == tail.head + tail.suffix


@pytest.mark.parametrize(
    "title",
    [
        "Nvidia wins approval to sell H200 chips in China",  # no separator
        "Short | A segment much longer than the headline itself is",  # longer than what precedes it
        "Headline | one two three four five six seven",  # too many words for a name
        "Headline | —",  # no letters
        None,
    ],
)
def test_no_candidate_without_a_name_shaped_segment(title):
    assert title_tail(title) is None


def test_site_of_drops_www_and_case():
    assert site_of("https://WWW.Example.COM/a/b") == "example.com"
    assert site_of("http://127.0.0.1:8765/outlet/a") == "127.0.0.1:8765"
    assert site_of("not a url") is None


def _item(url: str, title: str, n: int) -> ArticleItem:
    return ArticleItem(
        source="wire",
        url=url,
        canonical_url=url,
        fetched_at=f"2025-12-{9 + n:02d}T10:00:00Z",
        title=title,
        text=f"{TEXT} Item number {n} adds its own fictional detail about shipments {n * 7} and {n * 13}.",
        body_extracted=True,
        published_raw=f"2025-12-{9 + n:02d}T09:00:00Z",
    )


def test_a_name_shared_by_enough_pages_is_learned_and_taken_off_every_title(classifier):
    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        headlines = [f"Fictional development number {n} in the H200 story" for n in range(LEARNED_AFTER + 2)]
        other = process.process_article(
            context, _item("https://elsewhere.test/a", f"{headlines[0]} | Zanzibar Ledger", 0)
        )
        stored = []
        for n, headline in enumerate(headlines):
            item = process.process_article(
                context, _item(f"https://www.zanzibar.test/2025/{n}", f"{headline} | Zanzibar Ledger", n + 1)
            )
            stored.append(item.article_id)
            titles = dict(db.execute("SELECT id, title FROM articles").fetchall())
            if n + 1 < LEARNED_AFTER:
                assert titles[item.article_id].endswith(" | Zanzibar Ledger"), "learned too early"
        titles = dict(db.execute("SELECT id, title FROM articles").fetchall())
        assert [titles[i] for i in stored] == headlines
        assert learned_site_names(db, "zanzibar.test") == {"Zanzibar Ledger"}
        # Another site with the same segment once is not taught by this one's pages.
        assert titles[other.article_id].endswith(" | Zanzibar Ledger")
        # The full-text index was rewritten with the titles, and stories carry the clean title.
        hits = db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'title : zanzibar'").fetchone()[0]
        assert hits == 1
        stories = db.execute(
            f"SELECT title_article_id, title FROM stories WHERE title_article_id IN ({','.join('?' * len(stored))})",
            stored,
        ).fetchall()
        assert stories and all(title == titles[article] for article, title in stories)


def test_a_page_stored_by_another_process_before_it_knew_the_name_loses_it_too(classifier):
    """Two crawl processes: one learns the name while the other's page, checked before that, is being
    stored with it. Counting that page finds the name learned and takes it off."""
    from pipeline.site_names import title_tail
    from storage.site_names import note_site_name

    with opened(":memory:") as db:
        context = process.Context(db, classifier, process.StoryModel.of(classifier))
        for n in range(LEARNED_AFTER):
            process.process_article(
                context, _item(f"https://zanzibar.test/{n}", f"Story {n} of the H200 | Zanzibar", n)
            )
        late = _item("https://zanzibar.test/late", "A late fictional H200 story | Zanzibar", 9)
        process.normalise(late)
        process.store(db, late)  # as a process that had not learned the name would have stored it
        tail = title_tail(late.title)
        assert tail is not None
        assert note_site_name(db, "zanzibar.test", tail.name, tail.suffix, late.article_id, "2025-12-20T00:00:00Z")
        title = db.execute("SELECT title FROM articles WHERE id = ?", [late.article_id]).fetchone()[0]
        assert title == "A late fictional H200 story"
