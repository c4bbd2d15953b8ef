"""Features for the linear model: words, word pairs and word stems for alphabetic text, character
bigrams and trigrams for Chinese (which needs no segmentation this way). Traditional is mapped to
Simplified first, so both scripts share features. Training and inference call the same function."""

from __future__ import annotations

import re
from collections import Counter

from pipeline.language import to_simplified

TOKEN = re.compile(r"[a-z0-9][a-z0-9'\-.%]*[a-z0-9%]|[a-z0-9]|[\u4e00-\u9fff\u3400-\u4dbf]+")
MAX_CHARS = 3000  # headline and lede carry the topic; the rest of a long article adds cost, not signal
STEM_LENGTH = 5


def analyze(title: str, text: str) -> Counter[str]:
    """Feature counts of one item; the title counts twice."""
    heading = _features(to_simplified((title or "").lower()))
    return Counter(heading + heading + _features(to_simplified((text or "")[:MAX_CHARS].lower())))


def _features(text: str) -> list[str]:
    features: list[str] = []
    previous: str | None = None
    for token in TOKEN.findall(text):
        if token[0] >= "\u3400":  # a run of Chinese characters (TOKEN's other tokens start with a-z or 0-9)
            previous = None
            features.extend("c:" + token[i : i + 2] for i in range(len(token) - 1))
            features.extend("c:" + token[i : i + 3] for i in range(len(token) - 2))
            if len(token) == 1:
                features.append("c:" + token)
            continue
        token = token.strip("'.")
        if not token:
            continue
        features.append("w:" + token)
        if len(token) > STEM_LENGTH and token.isalpha():
            features.append("s:" + token[:STEM_LENGTH])
        if previous is not None:
            features.append(f"b:{previous} {token}")
        previous = token
    return features


def readable(feature: str) -> str:
    """A feature as a reader would quote it ("w:licence" -> "licence", "s:smugg" -> "smugg…")."""
    kind, _, value = feature.partition(":")
    return value + "…" if kind == "s" else value
