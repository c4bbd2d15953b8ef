"""A story's summary kept up to date article by article (storage/story_summaries.py) is the one refresh_summary
computes from the whole story: after every join, over the realistic and demo sets grouped for real and over
random stories built to hit the edge cases (estimates only, a first dated article, headlines missing, ties,
links into other stories, merges, copies)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import storage.stories as stories
import storage.story_summaries as summaries
from chipwatch.bench.story_eval import demo_story_items, load_story_items
from pipeline.batch import BatchItem, cluster_batch
from storage import open_database, transaction


def summary(conn: Any, story_id: int) -> tuple[Any, ...]:
    """Everything refresh_summary writes: the story's row (but when it last changed) and the follow-up flags."""
    row = conn.execute(
        "SELECT title, title_article_id, first_seen, last_seen, article_count, outlets, languages, topics, "
        "titles, lead_article_id, title_ids FROM stories WHERE id = ?",
        [story_id],
    ).fetchone()
    flags = conn.execute("SELECT id, is_follow_up FROM articles WHERE story_id = ? ORDER BY id", [story_id]).fetchall()
    return row, flags


@contextmanager
def checked_against_refresh() -> Iterator[list[int]]:
    """Every summary kept up to date by a join is compared with the one read from the whole story."""
    kept = summaries.add_to_summary
    joins: list[int] = []

    def compare(conn: Any, story_id: int, article_id: int, links: dict[int, float]) -> bool:
        done = kept(conn, story_id, article_id, links)
        if done:
            incremental = summary(conn, story_id)
            summaries.refresh_summary(conn, story_id)
            assert summary(conn, story_id) == incremental, f"story {story_id} after article {article_id}"
            joins.append(article_id)
        return done

    summaries.add_to_summary = compare  # type: ignore[assignment]
    try:
        yield joins
    finally:
        summaries.add_to_summary = kept  # type: ignore[assignment]


@pytest.mark.parametrize("dates", [True, False])
def test_grouping_the_labelled_sets_keeps_each_summary_as_refresh_would(classifier, dates: bool) -> None:
    items = load_story_items() + demo_story_items()
    batch = [
        BatchItem(i["id"], i.get("title") or "", i.get("text") or "", i.get("published") if dates else None)
        for i in items
    ]
    with checked_against_refresh() as joins:
        cluster_batch(batch, classifier)
    assert len(joins) > 20  # the articles that joined a story kept its summary up to date


LANGUAGES = ["en", "en", "zh-Hans", "zh-Hant", None]


def add_article(conn: Any, rng: random.Random, number: int) -> int:
    """An article with random outlet, language, headline (sometimes none), moment and certainty."""
    title = rng.choice([f"Headline {number}", f"标题{number}", "", None])
    moment = f"2025-12-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
    cursor = conn.execute(
        "INSERT INTO articles (canonical_url, url, source, publisher, title, text, lang, first_seen_at, fetched_at, "
        "published_at, relevant) VALUES (?, ?, ?, ?, ?, 'text', ?, ?, ?, ?, 1)",
        [
            f"https://a.test/{number}",
            f"https://a.test/{number}",
            rng.choice(["wire", "paper", "portal"]),
            rng.choice([None, "Agency", "Daily"]),
            title,
            rng.choice(LANGUAGES),
            moment,
            moment,
            moment,
        ],
    )
    article_id = int(cursor.lastrowid)
    certain = rng.random() < 0.7
    conn.execute(
        "INSERT INTO article_profiles (article_id, moment, keywords, topics, earliest, latest, certain) "
        "VALUES (?, ?, '{}', '[]', ?, ?, ?)",
        [article_id, moment, moment, moment if certain else "2025-12-31T00:00:00Z", int(certain)],
    )
    for topic in rng.sample(["export-controls", "market", "legislation"], rng.randint(0, 2)):
        conn.execute(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, 1, '[]')",
            [article_id, topic],
        )
    if rng.random() < 0.2:
        conn.execute(
            "INSERT INTO copies (article_id, source, url, fetched_at, publisher) VALUES (?, 'mirror', ?, ?, ?)",
            [article_id, f"https://copy.test/{number}", moment, rng.choice([None, "Syndicate"])],
        )
    return article_id


@pytest.mark.parametrize("seed", range(6))
def test_random_stories_keep_each_summary_as_refresh_would(tmp_path, seed: int) -> None:
    rng = random.Random(seed)
    db = open_database(tmp_path / "s.db")
    members: dict[int, list[int]] = {}
    now = "2025-12-31T00:00:00Z"
    with checked_against_refresh() as joins:
        for number in range(300):
            with transaction(db) as conn:
                article_id = add_article(conn, rng, number)
                if not members or rng.random() < 0.15:
                    story_id = stories.create_story(conn, "new", article_id, "2025-12-01T00:00:00Z", now)
                    members[story_id] = []
                else:
                    story_id = rng.choice(sorted(members))
                    if len(members) > 1 and rng.random() < 0.05:  # the article shows two stories are one
                        other = rng.choice([s for s in sorted(members) if s != story_id])
                        stories.merge_stories(conn, story_id, other)
                        members[story_id] += members.pop(other)
                partners = rng.sample(members[story_id], min(len(members[story_id]), rng.randint(0, 4)))
                strangers = [a for s, ids in members.items() if s != story_id for a in ids]
                partners += rng.sample(strangers, min(len(strangers), rng.choice([0, 0, 0, 1])))
                # Ties are likely: scores from a few values, so centralities often meet.
                links = {partner: rng.choice([0.4, 0.5, 0.5, 0.75]) for partner in partners}
                stories.join_story(conn, story_id, article_id, links, now)
                members[story_id].append(article_id)
    assert len(joins) > 150
    # And every story, read whole now, has the summary the joins left. Only one whose articles gained
    # centrality through another story's links (marked: no title_ids) may have kept an older title.
    for story_id in members:
        before = summary(db.conn, story_id)
        with transaction(db) as conn:
            summaries.refresh_summary(conn, story_id)
        after = summary(db.conn, story_id)
        assert after[1] == before[1]  # the follow-up flags
        assert after[0][2:8] + after[0][9:10] == before[0][2:8] + before[0][9:10]  # span, counts, lead
        if before[0][10] is not None:
            assert after[0] == before[0]
    db.close()
