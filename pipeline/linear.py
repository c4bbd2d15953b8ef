"""The trained linear model: TF-IDF weighted features and one logistic output per label, stored as JSON
(pipeline/model/classifier.json) and scored in plain Python, so loading takes milliseconds and needs no
pickles."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy

from chipwatch.errors import ConfigError
from pipeline.features import analyze

FORMAT = 1
# 1 + log(count), the sublinear term frequency, for the counts most features have: a title's features
# count at least twice, so a third of all lookups would otherwise call log().
COUNT_SCALE = (0.0, 1.0, *(1.0 + math.log(count) for count in range(2, 64)))


@dataclass(frozen=True)
class LinearModel:
    version: str
    labels: tuple[str, ...]  # "relevant", then topic ids
    idf: dict[str, float]
    weights: dict[str, list[float]]  # feature -> one weight per label
    intercepts: tuple[float, ...]
    blend: dict[str, Any]  # how the classifier combines this model with the rules
    # How common each entity is in the corpus: story grouping weighs rare names (SAMR, B30A) over common
    # ones (Nvidia). Fixed at training time, so grouping does not depend on what happens to be stored.
    entity_idf: dict[str, float] = field(default_factory=dict)

    def scores(self, title: str, text: str) -> tuple[dict[str, float], dict[str, float]]:
        """Probability per label, and the item's weighted features (to explain a label, see strongest_features)."""
        get, log, scale = self._table.get, math.log, COUNT_SCALE
        weighted: dict[str, float] = {}
        rows, values = [], []
        squares = 0.0
        for feature, count in analyze(title, text).items():
            entry = get(feature)
            if entry is None:
                continue
            weight, row = entry
            value = weight if count == 1 else (scale[count] if count < 64 else 1.0 + log(count)) * weight
            weighted[feature] = value
            squares += value * value
            if row >= 0:
                rows.append(row)
                values.append(value)
        norm = math.sqrt(squares) or 1.0
        totals = self._intercepts + (numpy.asarray(values) @ self._matrix[rows] / norm if rows else 0.0)
        probabilities = dict(zip(self.labels, map(_sigmoid, totals.tolist()), strict=True))
        return probabilities, weighted

    def strongest_features(self, weighted: dict[str, float], label: str, count: int) -> list[str]:
        """The features that pushed label up most in this item."""
        index = self.labels.index(label)
        parts = []
        for feature, value in weighted.items():
            weights = self.weights.get(feature)
            if weights is not None and value * weights[index] > 0:
                parts.append((value * weights[index], feature))
        return [feature for _, feature in sorted(parts, reverse=True)[:count]]

    def prepare(self) -> None:
        """Build the lookup table and the weight matrix now rather than at the first item."""
        _ = self._table, self._matrix, self._intercepts

    @cached_property
    def _table(self) -> dict[str, tuple[float, int]]:
        """Each known feature's idf and its row in the weight matrix (-1: weighed for the norm only), so that
        scoring looks each feature up once."""
        rows = {feature: row for row, feature in enumerate(self.weights)}
        return {feature: (weight, rows.get(feature, -1)) for feature, weight in self.idf.items()}

    @cached_property
    def _matrix(self) -> numpy.ndarray:
        return numpy.array(list(self.weights.values()), dtype=numpy.float64).reshape(-1, len(self.labels))

    @cached_property
    def _intercepts(self) -> numpy.ndarray:
        return numpy.array(self.intercepts, dtype=numpy.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "labels": list(self.labels),
            "intercepts": list(self.intercepts),
            "blend": self.blend,
            "idf": self.idf,
            "weights": self.weights,
            "entity_idf": self.entity_idf,
        }


def _sigmoid(value: float) -> float:
    if value < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-value))


def load_linear(path: Path) -> LinearModel:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: model file not found (run `chipwatch train`)") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a chipwatch model: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a chipwatch model of format {FORMAT} (retrain with `chipwatch train`)")
    return LinearModel(
        version=data["version"],
        labels=tuple(data["labels"]),
        idf=data["idf"],
        weights=data["weights"],
        intercepts=tuple(data["intercepts"]),
        blend=data["blend"],
        entity_idf=data.get("entity_idf", {}),
    )


def save_linear(model: LinearModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
