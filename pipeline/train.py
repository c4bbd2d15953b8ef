"""Training the linear model on the labelled corpus (and users' corrections), and choosing how it is
blended with the phrase rules. Deterministic: the same corpus gives the same model file.

The regularisation strength and the blend are chosen by 5-fold cross-validation over the train and dev
splits (more stable than one small dev set), then the model is refitted on both. The heldout split is
never used here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

from pipeline.classify import Classifier, Components, combiner_inputs, components, decide
from pipeline.entities import extract_entities
from pipeline.evaluate import evaluate
from pipeline.features import analyze
from pipeline.labelled import LabelledItem
from pipeline.linear import LinearModel
from pipeline.rules import TOPIC_IDS, RuleModel

LABELS = ("relevant", *TOPIC_IDS)
C_VALUES = (2.0, 8.0, 32.0)
FOLDS = 5
MIN_WEIGHT = 5e-4
COMBINER_C = 10.0
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6)
SECONDARY_RATIOS = (0.0, 0.5, 0.7)


@dataclass
class TrainingReport:
    items: int
    corrections: int
    features: int
    c: float
    blend: dict[str, Any]
    cv_scores: dict[str, float]


def fit(items: Sequence[LabelledItem], c: float) -> LinearModel:
    """TF-IDF (sublinear tf, smooth idf, L2 norm) and one L2 logistic regression per label."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    docs = [analyze(item.title, item.text) for item in items]
    df: Counter[str] = Counter(feature for doc in docs for feature in doc)
    n = len(docs)
    idf = {feature: math.log((1 + n) / (1 + count)) + 1 for feature, count in df.items()}
    rows = []
    for doc in docs:
        row = {f: (1 + math.log(count)) * idf[f] for f, count in doc.items()}
        norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
        rows.append({f: v / norm for f, v in row.items()})
    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(rows)
    names = vectorizer.get_feature_names_out()
    relevant_rows = np.array([item.relevant for item in items])
    coefficients, intercepts = [], []
    for label in LABELS:
        if label == "relevant":
            x, y = matrix, relevant_rows.astype(int)
        else:
            # Topic models learn from relevant items only: they are only asked about relevant ones.
            x = matrix[np.flatnonzero(relevant_rows)]
            y = np.array([label in item.topics for item in items if item.relevant], dtype=int)
        model = LogisticRegression(C=c, solver="lbfgs", class_weight="balanced", max_iter=2000)
        model.fit(x, y)
        coefficients.append(model.coef_[0])
        intercepts.append(float(model.intercept_[0]))
    stacked = np.vstack(coefficients).T  # one row per feature
    weights = {
        str(name): [round(float(w), 4) for w in row]
        for name, row in zip(names, stacked, strict=True)
        if np.abs(row).max() >= MIN_WEIGHT
    }
    return LinearModel(
        version="",
        labels=LABELS,
        idf={feature: round(value, 4) for feature, value in sorted(idf.items())},
        weights=weights,
        intercepts=tuple(round(v, 4) for v in intercepts),
        blend={},
    )


def _out_of_fold(items: Sequence[LabelledItem], rules: RuleModel, c: float) -> list[Components]:
    """Each item's components from a model that never saw it."""
    parts: list[Components | None] = [None] * len(items)
    for fold in range(FOLDS):
        training = [item for n, item in enumerate(items) if n % FOLDS != fold]
        classifier = Classifier(rules, fit(training, c))
        for n, item in enumerate(items):
            if n % FOLDS == fold:
                parts[n] = components(classifier, item.title, item.text)
    return [p for p in parts if p is not None]


def fit_combiner(items: Sequence[LabelledItem], parts: Sequence[Components]) -> dict[str, Any]:
    """Per label, a logistic regression from (rule score, model probability, ...) to the truth."""
    from sklearn.linear_model import LogisticRegression

    combiner: dict[str, Any] = {}
    for label in LABELS:
        rows, truth = [], []
        for item, part in zip(items, parts, strict=True):
            if label != "relevant" and not item.relevant:
                continue  # topics are only decided for relevant items
            rows.append(combiner_inputs(part, label))
            truth.append(int(item.relevant if label == "relevant" else label in item.topics))
        model = LogisticRegression(C=COMBINER_C, max_iter=1000).fit(rows, truth)
        combiner[label] = [[round(float(w), 4) for w in model.coef_[0]], round(float(model.intercept_[0]), 4)]
    return combiner


def _scores(items: Sequence[LabelledItem], parts: Sequence[Components], blend: dict[str, Any]) -> dict[str, float]:
    predictions = [decide(p, blend, "") for p in parts]
    overall = evaluate(items, predictions)["all"]
    return {
        "relevance_f1": overall.relevance.f1,
        "topic_micro_f1": overall.micro.f1,
        "primary_accuracy": overall.primary_accuracy,
    }


def choose_blend(items: Sequence[LabelledItem], parts: Sequence[Components]) -> tuple[dict[str, Any], dict[str, float]]:
    """The combiner, then the thresholds that score best on the cross-validated predictions.

    The combiner is fitted and scored on the same out-of-fold predictions; with five parameters per
    label the optimism is small, and the heldout split measures what is left.
    """
    combiner = fit_combiner(items, parts)
    best_value, best = -1.0, {}
    for relevance, topic, ratio in product(THRESHOLDS, THRESHOLDS, SECONDARY_RATIOS):
        blend = {
            "combiner": combiner,
            "relevance_threshold": relevance,
            "topic_threshold": topic,
            "secondary_ratio": ratio,
        }
        scores = _scores(items, parts, blend)
        value = scores["relevance_f1"] + scores["topic_micro_f1"] + scores["primary_accuracy"]
        if value > best_value + 1e-9:
            best_value, best = value, blend
    return best, _scores(items, parts, best)


def entity_idf(items: Sequence[LabelledItem]) -> dict[str, float]:
    """Smoothed inverse document frequency of every entity named in the items."""
    df: Counter[str] = Counter()
    for item in items:
        df.update({entity.key for entity in extract_entities(item.title, item.text)})
    n = len(items)
    return {key: round(math.log((n + 1) / (count + 1)) + 1, 4) for key, count in sorted(df.items())}


def train(
    items: Sequence[LabelledItem], rules: RuleModel, corrections: Sequence[LabelledItem] = ()
) -> tuple[LinearModel, TrainingReport]:
    """Choose C and the blend by cross-validation over train + dev (+ corrections), then refit on all."""
    pool = [item for item in items if item.split in ("train", "dev")] + list(corrections)
    best: tuple[float, float, dict[str, float], dict[str, float]] | None = None
    for c in C_VALUES:
        blend, scores = choose_blend(pool, _out_of_fold(pool, rules, c))
        value = scores["relevance_f1"] + scores["topic_micro_f1"] + scores["primary_accuracy"]
        if best is None or value > best[0] + 1e-9:
            best = (value, c, blend, scores)
    assert best is not None
    _, c, blend, scores = best
    linear = replace(fit(pool, c), blend=blend, entity_idf=entity_idf(pool))
    digest = hashlib.sha256(
        json.dumps(linear.to_json(), sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:8]
    linear = replace(linear, version=f"linear-{digest}")
    report = TrainingReport(len(pool), len(corrections), len(linear.weights), c, blend, scores)
    return linear, report
