"""How well stories are grouped: pairwise precision and recall against hand-made story truth.

Two sets: the realistic one shipped in labels/story-eval.jsonl (fiction written in the shapes real
coverage takes — headlines with only a month, search results with no text and no date, official notice
titles, Chinese and English reports of one event, different developments of the same actors over a year)
and the demo network's manifest. Each is grouped by the same path as `chipwatch cluster`, with its dates
and without any, and (for the realistic set) with only its items dated to the day or better.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chipwatch.errors import ChipwatchError
from chipwatch.resources import packaged
from pipeline.batch import BatchItem, cluster_batch
from pipeline.classify import Classifier

STORY_EVAL = "story-eval.jsonl"


@dataclass(frozen=True)
class PairScore:
    name: str
    items: int
    precision: float
    recall: float
    true_pairs: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def load_story_items(path: Path | None = None) -> list[dict[str, Any]]:
    """The labelled items: id, title, text, optional published, lang, story (None for an item that is not
    about chip export policy)."""
    path = path or packaged("chipwatch.bench", "labels", STORY_EVAL)
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ChipwatchError(f"{path}: cannot read: {error}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise ChipwatchError(f"{path}:{number}: not JSON: {error}") from None
        if not isinstance(item, dict) or "id" not in item or "story" not in item:
            raise ChipwatchError(f"{path}:{number}: an item needs an id and a story (null when not relevant)")
        items.append(item)
    return items


def demo_story_items() -> list[dict[str, Any]]:
    """The demo network's articles with their story truth (relevant ones; copies share the original's)."""
    from demo.network import load_network

    network = load_network()
    return [
        {
            "id": article.id,
            "title": article.title,
            "text": "\n".join(article.paragraphs),
            "published": article.published.isoformat(),
            "story": article.story if article.relevant else None,
        }
        for article in network.articles
        if not article.members_only
    ]


def pairwise(truth: list[str | None], predicted: list[int | None]) -> tuple[float, float, int]:
    """Precision and recall over item pairs: a pair is together in the truth when both have the same story,
    predicted together when both got the same story id."""
    true_positive = predicted_pairs = true_pairs = 0
    for (want_a, got_a), (want_b, got_b) in itertools.combinations(zip(truth, predicted, strict=True), 2):
        together = want_a is not None and want_a == want_b
        guessed = got_a is not None and got_a == got_b
        true_pairs += together
        predicted_pairs += guessed
        true_positive += together and guessed
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    return precision, recall, true_pairs


def score(name: str, items: list[dict[str, Any]], classifier: Classifier, *, dates: bool = True) -> PairScore:
    """Group the items as `chipwatch cluster` does and score the pairs."""
    batch = [
        BatchItem(item["id"], item.get("title") or "", item.get("text") or "", item.get("published") if dates else None)
        for item in items
    ]
    results = cluster_batch(batch, classifier)
    precision, recall, true_pairs = pairwise([item["story"] for item in items], [r.story for r in results])
    return PairScore(name, len(items), precision, recall, true_pairs)


def day_dated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items dated to the day or better (a published value longer than a month)."""
    return [item for item in items if len(str(item.get("published") or "")) >= 10]


def run(classifier: Classifier, path: Path | None = None) -> list[PairScore]:
    realistic = load_story_items(path)
    demo = demo_story_items()
    return [
        score("realistic, with dates", realistic, classifier),
        score("realistic, day-dated only", day_dated(realistic), classifier),
        score("realistic, no dates", realistic, classifier, dates=False),
        score("demo, with dates", demo, classifier),
        score("demo, no dates", demo, classifier, dates=False),
    ]
