"""The classifier: is an item about chip export policy, and which parts of the story is it about?

It combines two views: phrase rules from the topics file (domain knowledge, readable evidence) and a
linear model trained on the labelled corpus (phrasing the rules do not list). A small logistic combiner
per label, fitted on cross-validated predictions, weighs the two; it travels in the model file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.features import readable
from pipeline.items import TopicScore
from pipeline.linear import LinearModel, load_linear
from pipeline.rules import TOPIC_IDS, RuleModel, RuleScores, load_rules, score_rules

__all__ = ["TOPIC_IDS", "Classification", "Classifier", "TopicScore", "classify", "load_classifier"]

# Without a trained model, the rules decide alone: relevant at 0.5, secondary topics from 0.4 and at
# least 0.6 of the best topic's score.
RULES_ONLY = {"relevance_threshold": 0.5, "topic_threshold": 0.4, "secondary_ratio": 0.6}
MAX_INPUT_CHARS = 50_000
MAX_EVIDENCE = 5
HTML_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


@dataclass(frozen=True)
class Classifier:
    rules: RuleModel
    linear: LinearModel | None

    @property
    def version(self) -> str:
        return f"{self.linear.version}+{self.rules.version}" if self.linear else self.rules.version

    @property
    def blend(self) -> dict[str, Any]:
        return self.linear.blend if self.linear else RULES_ONLY

    def prepare(self) -> None:
        """Build now what scoring builds on first use (the rules' literal finder and every phrase's pattern,
        the model's lookup table and matrix): what a process that forks crawls does once for all of them."""
        self.rules.compile()
        if self.linear is not None:
            self.linear.prepare()


@dataclass
class Classification:
    relevant: bool
    relevance: float
    topics: list[TopicScore]
    model_version: str


def load_classifier(topics: Path, model: Path | None) -> Classifier:
    """The rules from the topics file and, when model is given, the trained linear model."""
    return Classifier(load_rules(topics), load_linear(model) if model is not None else None)


@dataclass
class Components:
    """What the two views say about one item, before they are blended."""

    rules: RuleScores
    probabilities: dict[str, float]
    vector: dict[str, float]  # the item's model features, to explain a topic the rules did not see
    linear: LinearModel | None = None


def components(classifier: Classifier, title: str | None, text: str | None) -> Components:
    title, text = _plain(title), _plain(text)
    rules = score_rules(classifier.rules, title, text)
    if classifier.linear is None:
        return Components(rules, {}, {})
    probabilities, vector = classifier.linear.scores(title, text)
    return Components(rules, probabilities, vector, classifier.linear)


def combiner_inputs(parts: Components, label: str) -> list[float]:
    """What the learned combiner sees for one label: the rules' score, the model's, and how they interact."""
    rule = parts.rules.relevance if label == "relevant" else parts.rules.topics.get(label, (0.0, []))[0]
    model = min(max(parts.probabilities.get(label, 0.0), 1e-4), 1 - 1e-4)
    return [rule, model, rule * model, math.log(model / (1 - model))]


def _combined(parts: Components, label: str, blend: dict[str, Any]) -> float:
    combiner = blend.get("combiner")
    if not combiner:
        rule = parts.rules.relevance if label == "relevant" else parts.rules.topics.get(label, (0.0, []))[0]
        return rule
    (w_rule, w_model, w_both, w_logit), intercept = combiner[label]
    rule, model, both, logit = combiner_inputs(parts, label)
    # Written out rather than summed over a zip: decide() calls this nine times an item. Same order of
    # additions as sum(), so the same float.
    value = intercept + (w_rule * rule + w_model * model + w_both * both + w_logit * logit)
    return 1.0 / (1.0 + math.exp(-max(min(value, 40.0), -40.0)))


def decide(parts: Components, blend: dict[str, Any], version: str) -> Classification:
    """Combine the two views: relevance first, then topics for a relevant item."""
    relevance = _combined(parts, "relevant", blend)
    relevant = relevance >= blend["relevance_threshold"]
    topics: list[TopicScore] = []
    if relevant:
        scored = sorted((-_combined(parts, topic_id, blend), topic_id) for topic_id in TOPIC_IDS)
        # The best topic always stays (a relevant item belongs somewhere); others must be strong enough.
        floor = max(blend["topic_threshold"], -scored[0][0] * blend.get("secondary_ratio", 0.0))
        for rank, (negative, topic_id) in enumerate(scored):
            if rank > 0 and -negative < floor:
                break
            phrases = parts.rules.topics.get(topic_id, (0.0, []))[1]
            evidence = phrases or _model_evidence(parts, topic_id)
            topics.append(TopicScore(topic_id, round(-negative, 4), evidence[:MAX_EVIDENCE]))
    return Classification(relevant, round(relevance, 4), topics, version)


def classify(classifier: Classifier, title: str | None, text: str | None, lang: str | None = None) -> Classification:
    """Relevance (0-1) and topics, best first, each with the words that drove it.

    lang is accepted for the interface; both views work on all languages alike.
    """
    return decide(components(classifier, title, text), classifier.blend, classifier.version)


def _plain(value: str | None) -> str:
    """Text without HTML left in it, and no longer than is useful."""
    value = (value or "")[:MAX_INPUT_CHARS]
    if "<" in value and HTML_TAG.search(value):
        from bs4 import BeautifulSoup  # rarely needed: imported when it is, not with every crawl

        value = BeautifulSoup(value, "lxml").get_text(" ")
    return value


def _model_evidence(parts: Components, label: str) -> list[str]:
    if parts.linear is None:
        return []
    return [readable(feature) for feature in parts.linear.strongest_features(parts.vector, label, MAX_EVIDENCE)]
