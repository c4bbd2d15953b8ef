"""Measuring the classifier: relevance and topic precision, recall and F1, by language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.classify import Classification
from pipeline.labelled import LabelledItem
from pipeline.rules import TOPIC_IDS

GROUPS = ("all", "en", "zh", "zh-Hans", "zh-Hant")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class GroupScores:
    items: int = 0
    relevance: Counts = field(default_factory=Counts)
    topics: dict[str, Counts] = field(default_factory=lambda: {t: Counts() for t in TOPIC_IDS})
    primary_right: int = 0
    primary_total: int = 0

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.topics.values():
            total.tp, total.fp, total.fn = total.tp + counts.tp, total.fp + counts.fp, total.fn + counts.fn
        return total

    @property
    def macro_f1(self) -> float:
        present = [c for c in self.topics.values() if c.tp + c.fn > 0]
        return sum(c.f1 for c in present) / len(present) if present else 0.0

    @property
    def primary_accuracy(self) -> float:
        return self.primary_right / self.primary_total if self.primary_total else 1.0


def evaluate(items: Sequence[LabelledItem], predictions: Sequence[Classification]) -> dict[str, GroupScores]:
    """Scores per language group; topics count on every item (none predicted for an irrelevant one)."""
    groups = {name: GroupScores() for name in GROUPS}
    for item, prediction in zip(items, predictions, strict=True):
        names = ["all", item.lang] + (["zh"] if item.lang.startswith("zh") else [])
        predicted_topics = {t.id for t in prediction.topics} if prediction.relevant else set()
        for name in names:
            group = groups.setdefault(name, GroupScores())
            group.items += 1
            group.relevance.add(prediction.relevant, item.relevant)
            for topic, counts in group.topics.items():
                counts.add(topic in predicted_topics, topic in item.topics)
            if item.topics:
                group.primary_total += 1
                group.primary_right += bool(prediction.topics) and prediction.topics[0].id in item.topics
    return {name: scores for name, scores in groups.items() if scores.items}


def summary(scores: GroupScores) -> dict[str, float]:
    """The headline figures of one group."""
    return {
        "relevance_f1": scores.relevance.f1,
        "topic_micro_f1": scores.micro.f1,
        "topic_macro_f1": scores.macro_f1,
        "primary_accuracy": scores.primary_accuracy,
    }


def format_report(groups: dict[str, GroupScores], title: str) -> str:
    names = [name for name in GROUPS if name in groups]
    width = 10
    lines = [title, ""]
    header = f"{'':24}" + "".join(f"{name:>{width}}" for name in names)
    lines.append(header)
    lines.append(f"{'items':24}" + "".join(f"{groups[n].items:>{width}}" for n in names))

    def row(label: str, values: list[float]) -> None:
        lines.append(f"{label:24}" + "".join(f"{v:>{width}.3f}" for v in values))

    lines.append("relevance")
    row("  precision", [groups[n].relevance.precision for n in names])
    row("  recall", [groups[n].relevance.recall for n in names])
    row("  F1", [groups[n].relevance.f1 for n in names])
    lines.append("topics")
    row("  micro precision", [groups[n].micro.precision for n in names])
    row("  micro recall", [groups[n].micro.recall for n in names])
    row("  micro F1", [groups[n].micro.f1 for n in names])
    row("  macro F1", [groups[n].macro_f1 for n in names])
    row("  primary-topic accuracy", [groups[n].primary_accuracy for n in names])
    lines.append("per topic (P / R / F1, all languages, then F1 by language)")
    for topic in TOPIC_IDS:
        counts = groups["all"].topics[topic]
        per_lang = " ".join(f"{n}={groups[n].topics[topic].f1:.2f}" for n in names if n != "all")
        lines.append(f"  {topic:22}{counts.precision:>6.3f} {counts.recall:>6.3f} {counts.f1:>6.3f}   {per_lang}")
    return "\n".join(lines) + "\n"
