"""Phrase rules from the topics file: domain knowledge written down, with the matched phrases as evidence.

English, Simplified and Traditional Chinese are matched alike (Traditional text is mapped to Simplified
before matching). The classifier (classify.py) blends these scores with a trained linear model.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from chipwatch.errors import ConfigError
from pipeline.language import to_simplified

TOPIC_IDS = (
    "export-controls",
    "revenue-share",
    "legislation",
    "china-response",
    "china-chips",
    "market",
    "enforcement",
    "industry",
)
MAX_TEXT_CHARS = 20_000
TITLE_WEIGHT = 1.5
TOPIC_SCALE = 5.0
MAX_EVIDENCE = 5
GROUP_CAPS = {"subject": 2.0, "policy": 3.0, "china": 2.0}
CJK = re.compile(r"[\u3400-\u9fff]")
# Letters and digits that continue a word: ASCII and accented Latin, not CJK ("輝達H20晶片" contains h20).
WORD = "a-z0-9\u00c0-\u024f"


@dataclass(frozen=True)
class Phrase:
    text: str
    weight: float
    literal: str  # must occur in the text for the pattern to be worth running
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    description: str
    phrases: tuple[Phrase, ...]


@dataclass(frozen=True)
class RuleModel:
    version: str
    threshold: float
    scale: float
    groups: dict[str, tuple[Phrase, ...]]
    topics: tuple[Topic, ...]

    @cached_property
    def by_literal(self) -> dict[int, dict[str, tuple[Phrase, ...]]]:
        """Per phrase group (keyed by id), its phrases by literal: matching starts from literals present."""
        groups = [*self.groups.values(), *(topic.phrases for topic in self.topics)]
        index: dict[int, dict[str, tuple[Phrase, ...]]] = {}
        for phrases in groups:
            table: dict[str, list[Phrase]] = {}
            for phrase in phrases:
                table.setdefault(phrase.literal, []).append(phrase)
            index[id(phrases)] = {literal: tuple(group) for literal, group in table.items()}
        return index

    @cached_property
    def literals(self) -> tuple[str, ...]:
        """Every distinct literal the phrases need, once."""
        phrases = [p for group in self.groups.values() for p in group] + [p for t in self.topics for p in t.phrases]
        return tuple(sorted({phrase.literal for phrase in phrases}))

    @cached_property
    def literals_by_start(self) -> dict[str, tuple[str, ...]]:
        """Literals keyed by their first two characters (or one, for one-character literals)."""
        table: dict[str, list[str]] = {}
        for literal in self.literals:
            table.setdefault(literal[:2], []).append(literal)
        return {key: tuple(values) for key, values in table.items()}


@dataclass
class RuleScores:
    relevance: float
    # topic id -> (score 0..1, phrases that matched, strongest first)
    topics: dict[str, tuple[float, list[str]]] = field(default_factory=dict)
    subject: float = 0.0  # weight of the subject phrases found (chips, chipmakers), uncapped
    negative: float = 0.0  # weight of the phrases that point elsewhere (snacks, casinos, blue chips)


def load_rules(path: Path) -> RuleModel:
    """Read the topics file; its content hash is part of the model version."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: topics file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    relevance = data.get("relevance", {})
    groups = {
        name: _phrases(relevance.get(name, {}), f"{path}: [relevance.{name}]")
        for name in ("subject", "policy", "china", "negative")
    }
    topics = []
    for index, entry in enumerate(data.get("topic", [])):
        topic_id = entry.get("id")
        if topic_id not in TOPIC_IDS:
            raise ConfigError(f"{path}: topic #{index + 1}: id {topic_id!r} is not one of {', '.join(TOPIC_IDS)}")
        topics.append(
            Topic(
                id=topic_id,
                label=str(entry.get("label", topic_id)),
                description=str(entry.get("description", "")),
                phrases=_phrases(entry.get("phrases", {}), f"{path}: topic {topic_id}"),
            )
        )
    missing = set(TOPIC_IDS) - {topic.id for topic in topics}
    if missing:
        raise ConfigError(f"{path}: topics missing: {', '.join(sorted(missing))}")
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return RuleModel(
        version=f"{data.get('version', 'rules')}:{digest}",
        threshold=float(relevance.get("threshold", 0.5)),
        scale=float(relevance.get("scale", 2.0)),
        groups=groups,
        topics=tuple(topics),
    )


def _phrases(table: dict[str, object], where: str) -> tuple[Phrase, ...]:
    phrases = []
    for text, weight in table.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            raise ConfigError(f"{where}: weight of {text!r} must be a number")
        phrases.append(_compile(text, float(weight)))
    return tuple(phrases)


def _compile(text: str, weight: float) -> Phrase:
    normalised = to_simplified(text.lower().strip())
    pieces = normalised.split("*")  # "allow* sales": a * matches the rest of a word, anywhere in a phrase
    core = normalised.replace("*", "")
    escaped = rf"[{WORD}]*".join(re.escape(piece) for piece in pieces)
    if CJK.search(core):
        pattern = escaped
    else:
        # Whole words for English: h20 must not match h200, ban must not match banking (unless "ban*").
        start = rf"(?<![{WORD}])" if core[:1].isalnum() else ""
        end = "" if normalised.endswith("*") else (rf"(?![{WORD}])" if core[-1:].isalnum() else "")
        pattern = start + escaped + end
    literal = max(pieces, key=len)
    return Phrase(text=text, weight=weight, literal=literal, pattern=re.compile(pattern))


def _matches(phrases: tuple[Phrase, ...], haystack: str, original: str, present: set[str]) -> list[tuple[Phrase, str]]:
    found = []
    for phrase in phrases:
        if phrase.literal not in haystack:
            continue
        match = phrase.pattern.search(haystack)
        if match:
            same_length = len(haystack) == len(original)
            found.append((phrase, original[match.start() : match.end()] if same_length else match.group()))
    return found


def _prepare(value: str | None) -> tuple[str, str]:
    original = (value or "")[:MAX_TEXT_CHARS]
    return to_simplified(original.lower()), original


def score_rules(model: RuleModel, title: str | None, text: str | None) -> RuleScores:
    """Relevance and every topic's score from the phrases that occur in title and text."""
    title_hay, title_original = _prepare(title)
    text_hay, text_original = _prepare(text)
    # One pass over the distinct literals finds the few phrases worth a regex; most never occur.
    both = f"{title_hay}\n{text_hay}"
    # Only literals whose first two characters occur anywhere are worth a substring search.
    starts = {both[i : i + 2] for i in range(len(both))} | set(both)  # one-character literals (涨) too
    present = {
        literal
        for key in starts.intersection(model.literals_by_start)
        for literal in model.literals_by_start[key]
        if literal in both
    }

    def weigh(phrases: tuple[Phrase, ...]) -> tuple[float, dict[str, tuple[float, str]]]:
        table = model.by_literal[id(phrases)]
        phrases = tuple(phrase for literal in sorted(present.intersection(table)) for phrase in table[literal])
        scored: dict[str, tuple[float, str]] = {}
        for phrase, seen in _matches(phrases, title_hay, title_original, present):
            scored[phrase.text] = (phrase.weight * TITLE_WEIGHT, seen)
        for phrase, seen in _matches(phrases, text_hay, text_original, present):
            if phrase.text not in scored:
                scored[phrase.text] = (phrase.weight, seen)
        return sum(weight for weight, _ in scored.values()), scored

    group_scores = {name: weigh(phrases)[0] for name, phrases in model.groups.items()}
    subject = min(group_scores["subject"], GROUP_CAPS["subject"])
    context = min(group_scores["policy"], GROUP_CAPS["policy"]) + min(group_scores["china"], GROUP_CAPS["china"])
    raw = subject * context - group_scores["negative"] * 2
    relevance = 1 - math.exp(-max(raw, 0.0) / model.scale)
    topics: dict[str, tuple[float, list[str]]] = {}
    for topic in model.topics:
        total, scored = weigh(topic.phrases)
        if total > 0:
            evidence = [seen for _, seen in sorted(scored.values(), key=lambda pair: -pair[0])]
            topics[topic.id] = (1 - math.exp(-total / TOPIC_SCALE), _unique(evidence)[:MAX_EVIDENCE])
    return RuleScores(relevance, topics, group_scores["subject"], group_scores["negative"])


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        key = value.lower()
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result
