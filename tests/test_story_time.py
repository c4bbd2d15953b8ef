"""Stories on real coverage's dates: time as an interval with its uncertainty (pipeline/when.py), estimates
linked only on specific evidence, backfills grouped like day-by-day crawls, coarse developments apart."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chipwatch.bench.story_eval import day_dated, demo_story_items, load_story_items, pairwise, score
from pipeline.batch import BatchItem, cluster_batch
from pipeline.when import EARLIEST, When, latest_mention, published_within

SEEN = "2026-03-01T12:00:00Z"


def test_each_kind_of_date_gives_its_interval():
    moment = published_within("2025-12-08T22:15:00Z", "second", "2025-12-08", SEEN)
    assert moment.earliest == moment.latest and moment.certain
    day = published_within("2025-12-09T00:00:00Z", "day", "2025-12-09", SEEN)
    assert (
        day.certain
        and day.earliest < datetime(2025, 12, 9, tzinfo=UTC) < datetime(2025, 12, 10, tzinfo=UTC) < day.latest
    )
    month = published_within("2025-12-01T00:00:00Z", "month", "2025-12", SEEN)
    assert not month.certain and month.earliest.month == 11 and month.latest.month == 1
    undated = published_within(None, None, None, SEEN)
    assert undated.earliest == EARLIEST and undated.latest == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert not undated.certain


def test_dates_named_in_the_text_place_an_undated_article():
    text = "The rule took effect on January 15. 商务部于12月8日发布公告。Officials met on Feb. 20, 2026."
    assert latest_mention(text, datetime(2026, 3, 1, tzinfo=UTC)).isoformat() == "2026-02-20"
    # A year-less date is the latest one on or before the upper bound; later ones do not count.
    assert latest_mention("on December 8", datetime(2026, 3, 1, tzinfo=UTC)).isoformat() == "2025-12-08"
    assert latest_mention("due on 5 May 2026", datetime(2026, 3, 1, tzinfo=UTC)) is None
    # A text that names fifty dates says nothing of its own.
    calendar = " ".join(f"March {day % 28 + 1}, 2025" for day in range(60))
    assert latest_mention(calendar, datetime(2026, 3, 1, tzinfo=UTC)) is None
    placed = published_within(None, None, None, SEEN, "Senators wrote on February 20 to the Commerce Department.")
    assert not placed.certain and placed.earliest.year == 2026 and placed.latest <= datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_intervals_are_close_only_when_they_are():
    day = timedelta(days=1)
    start = datetime(2025, 12, 8, tzinfo=UTC)
    assert When(start, start + day).gap(When(start + 2 * day, start + 3 * day)) == day
    assert When(start, start + 5 * day).gap(When(start + day, start + 2 * day)) == timedelta(0)


def test_the_realistic_set_holds_with_and_without_dates(classifier):
    items = load_story_items()
    assert len(items) >= 70 and len({i["story"] for i in items if i["story"]}) >= 15
    assert sum(1 for i in items if not i.get("published")) >= 15  # search results with no date
    dated = score("dated", items, classifier)
    assert dated.precision >= 0.95 and dated.recall >= 0.65, dated
    undated = score("undated", items, classifier, dates=False)
    assert undated.precision >= 0.8, undated  # never one giant story
    assert score("day-dated", day_dated(items), classifier).precision >= 0.95


def test_no_date_never_makes_one_giant_story(classifier):
    """A backfill without page dates: every item first seen in the same minute. The demo's coverage must
    not collapse into one story (before: precision 0.27)."""
    items = demo_story_items()
    results = cluster_batch([BatchItem(i["id"], i["title"], i["text"]) for i in items], classifier)
    sizes = [sum(1 for r in results if r.story == story) for story in {r.story for r in results if r.story}]
    assert max(sizes) <= 12, sorted(sizes)
    precision, _, _ = pairwise([i["story"] for i in items], [r.story for r in results])
    assert precision >= 0.85


def test_a_backfill_groups_as_day_by_day_arrival_does(classifier):
    """The same coverage arriving all at once in any order (a first crawl of a sitemap) and day by day in
    order: the same stories."""
    items = sorted(demo_story_items(), key=lambda i: i["published"])

    def partition(order: list[dict]) -> set[frozenset[str]]:
        results = cluster_batch([BatchItem(i["id"], i["title"], i["text"], i["published"]) for i in order], classifier)
        groups: dict[int, set[str]] = {}
        for item, result in zip(order, results, strict=True):
            if result.story is not None:
                groups.setdefault(result.story, set()).add(item["id"])
        return {frozenset(group) for group in groups.values()}

    in_order = partition(items)
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    assert partition(shuffled) == in_order
    assert partition(list(reversed(items))) == in_order


def test_different_bills_and_months_apart_are_different_stories(classifier):
    base = "Senators from both parties introduced the {name}, which targets advanced AI chip exports to China."
    items = [
        BatchItem("a", "Senators introduce GAIN AI Act on chip exports", base.format(name="GAIN AI Act"), "2025-10"),
        BatchItem(
            "b", "Senators introduce SAFE Chips Act on chip exports", base.format(name="SAFE Chips Act"), "2025-10"
        ),
        BatchItem(
            "probe",
            "China opens antitrust probe into Nvidia over Mellanox",
            "China's market regulator SAMR opened an antitrust investigation into Nvidia over the Mellanox deal.",
            "2024-12",
        ),
        BatchItem(
            "finding",
            "China finds Nvidia violated antitrust law in Mellanox probe",
            "China's market regulator SAMR said Nvidia violated the anti-monopoly law over the Mellanox deal.",
            "2025-09",
        ),
    ]
    stories = {r.id: r.story for r in cluster_batch(items, classifier)}
    assert stories["a"] != stories["b"] and stories["probe"] != stories["finding"]


@pytest.mark.parametrize(
    "published",
    ["2999-01-01T00:00:00Z", "not a date", "2025-13", "", None, "1850-01-01"],
)
def test_bad_dates_are_left_alone_sensibly(classifier, published):
    items = [
        BatchItem(
            "x", "Nvidia H200 approved for China with 25% cut", "Fictional text about the H200 decision.", published
        ),
        BatchItem("empty", "", "", published),
    ]
    results = cluster_batch(items, classifier)
    assert [r.id for r in results] == ["x", "empty"] and results[1].story is None


def test_pairwise_counts_pairs():
    assert pairwise(["a", "a", "b"], [1, 1, 2]) == (1.0, 1.0, 1)
    precision, recall, pairs = pairwise(["a", "a", "b", None], [1, 2, 2, 2])
    assert (precision, recall, pairs) == (0.0, 0.0, 1)
