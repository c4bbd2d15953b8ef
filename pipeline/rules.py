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
from typing import Any

import ahocorasick

from chipwatch.errors import ConfigError
from pipeline.language import NOT_AFTER_WORD, NOT_BEFORE_WORD, WORD, to_simplified

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


@dataclass(frozen=True)
class Phrase:
    text: str
    weight: float
    literal: str  # must occur in the text for the pattern to be worth running
    source: str  # the regular expression, compiled the first time the literal occurs
    leads: bool = False  # every match starts with the literal: the search can start where it first occurs

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        # Most of the thousand phrases never occur in a given crawl: compiling them all took a quarter of a
        # second of every crawl's start-up.
        return re.compile(self.source)


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
    def placements(self) -> dict[str, tuple[tuple[int, Phrase], ...]]:
        """Each literal's phrases, with the slot of the group that holds each (0-3: the relevance groups in
        order, then one per topic): scoring visits only the groups whose literals occur in the text."""
        groups = [*self.groups.values(), *(topic.phrases for topic in self.topics)]
        table: dict[str, list[tuple[int, Phrase]]] = {}
        for slot, phrases in enumerate(groups):
            for phrase in phrases:
                table.setdefault(phrase.literal, []).append((slot, phrase))
        return {literal: tuple(placed) for literal, placed in table.items()}

    def compile(self) -> None:
        """Build the literal finder and compile every phrase's pattern now, not as each first occurs: what a
        process that forks crawls does once, so that no crawl compiles its own."""
        # Reading a cached property builds it.
        _ = self.finder
        for placed in self.placements.values():
            for _slot, phrase in placed:
                _ = phrase.pattern

    @cached_property
    def literals(self) -> tuple[str, ...]:
        """Every distinct literal the phrases need, once."""
        phrases = [p for group in self.groups.values() for p in group] + [p for t in self.topics for p in t.phrases]
        return tuple(sorted({phrase.literal for phrase in phrases}))

    @cached_property
    def finder(self) -> Any:
        """An Aho-Corasick automaton over every literal: one pass over a text finds all that occur."""
        automaton = ahocorasick.Automaton()
        for literal in self.literals:
            if literal:
                automaton.add_word(literal, literal)
        automaton.make_automaton()
        return automaton

    def present(self, text: str) -> set[str]:
        """The literals that occur in text."""
        found = {literal for _, literal in self.finder.iter(text)} if len(self.finder) else set()
        if "" in self.literals:
            found.add("")
        return found


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
        start = NOT_AFTER_WORD if core[:1].isalnum() else ""
        end = "" if normalised.endswith("*") else (NOT_BEFORE_WORD if core[-1:].isalnum() else "")
        pattern = start + escaped + end
    literal = max(pieces, key=len)
    return Phrase(text=text, weight=weight, literal=literal, source=pattern, leads=literal == pieces[0])


class _Matcher:
    """One text's matches, each phrase's pattern run at most once however many groups hold the phrase."""

    def __init__(self, haystack: str, original: str) -> None:
        self.haystack, self.original = haystack, original
        self.same_length = len(haystack) == len(original)
        self.found: dict[str, str | None] = {}

    def match(self, phrase: Phrase) -> str | None:
        """What the phrase matched, as the text writes it; None when it does not occur."""
        if phrase.source in self.found:
            return self.found[phrase.source]
        seen = None
        at = self.haystack.find(phrase.literal)
        if at >= 0:
            # No match can start before the literal's first occurrence when it opens the phrase (a lookbehind
            # still sees the character before): the regex skips the text before it.
            match = phrase.pattern.search(self.haystack, at if phrase.leads else 0)
            if match:
                seen = self.original[match.start() : match.end()] if self.same_length else match.group()
        self.found[phrase.source] = seen
        return seen


def _prepare(value: str | None) -> tuple[str, str]:
    original = (value or "")[:MAX_TEXT_CHARS]
    return to_simplified(original.lower()), original


def score_rules(model: RuleModel, title: str | None, text: str | None) -> RuleScores:
    """Relevance and every topic's score from the phrases that occur in title and text."""
    title_hay, title_original = _prepare(title)
    text_hay, text_original = _prepare(text)
    # One pass over the text finds the few literals whose phrases are worth a regex; most never occur.
    present = model.present(f"{title_hay}\n{text_hay}")
    if not present:
        return RuleScores(0.0)
    candidates: dict[int, list[Phrase]] = {}
    placements = model.placements
    for literal in sorted(present):
        for slot, phrase in placements[literal]:
            candidates.setdefault(slot, []).append(phrase)
    in_title, in_text = _Matcher(title_hay, title_original), _Matcher(text_hay, text_original)
    weighed = {slot: _weigh(phrases, in_title, in_text) for slot, phrases in candidates.items()}
    names = tuple(model.groups)
    group_scores = {name: weighed[slot][0] if slot in weighed else 0.0 for slot, name in enumerate(names)}
    subject = min(group_scores["subject"], GROUP_CAPS["subject"])
    context = min(group_scores["policy"], GROUP_CAPS["policy"]) + min(group_scores["china"], GROUP_CAPS["china"])
    raw = subject * context - group_scores["negative"] * 2
    relevance = 1 - math.exp(-max(raw, 0.0) / model.scale)
    topics: dict[str, tuple[float, list[str]]] = {}
    for slot, topic in enumerate(model.topics, start=len(names)):
        total, scored = weighed.get(slot, (0.0, {}))
        if total > 0:
            evidence = [seen for _, seen in sorted(scored.values(), key=lambda pair: -pair[0])]
            topics[topic.id] = (1 - math.exp(-total / TOPIC_SCALE), _unique(evidence)[:MAX_EVIDENCE])
    return RuleScores(relevance, topics, group_scores["subject"], group_scores["negative"])


def _weigh(phrases: list[Phrase], in_title: _Matcher, in_text: _Matcher) -> tuple[float, dict[str, tuple[float, str]]]:
    """One group's score from the phrases whose literals occur: a phrase counts once, from the title
    (weighted up) when it is there, else from the text."""
    scored: dict[str, tuple[float, str]] = {}
    for phrase in phrases:
        seen = in_title.match(phrase)
        if seen is not None:
            scored[phrase.text] = (phrase.weight * TITLE_WEIGHT, seen)
    for phrase in phrases:
        if phrase.text not in scored:
            seen = in_text.match(phrase)
            if seen is not None:
                scored[phrase.text] = (phrase.weight, seen)
    return sum(weight for weight, _ in scored.values()), scored


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        key = value.lower()
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result
