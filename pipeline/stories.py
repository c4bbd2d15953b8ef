"""Story threads: which earlier articles cover the same development as a new one?

Pure functions. Two articles are compared on the entities they name (language-independent: chip:h200,
percent:25%, agency:samr, event:smuggling — rare ones and actors weigh most), their keywords (only within
one script) and their topics. Articles of one development published within a few days of each other are
linked; a story is a group of linked articles, so the result does not depend on the order in which
articles arrive, and a story that goes quiet for longer than the gap is closed: a new development with the
same words starts a new story.

Time is evidence with its uncertainty (pipeline/when.py): two articles are close only when their
publication intervals are. Between articles whose dates are certain, the usual threshold links them; when
either is dated only by a month, the dates its text names, or not at all, the link needs strong evidence
that is specific to one development (a rare entity shared, and distinctive words in one script or a
second rare entity across scripts), never the big actors every article of the story names. Articles that
name different bills, chips or percentages are about different developments, whatever else they share.

The weights and thresholds were chosen on the demo network's story truth (demo/manifest.toml) and on the
realistic set in chipwatch/bench/labels/story-eval.jsonl.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy

from pipeline.features import analyze
from pipeline.when import When

MAX_GAP = timedelta(days=3)
ENTITY_WEIGHT, KEYWORD_WEIGHT, TOPIC_WEIGHT = 0.7, 0.8, 0.1
THRESHOLD = 0.35
KEYWORDS = 60
KEYWORD_KINDS = ("w:", "c:", "s:", "b:")
DEFAULT_IDF = 6.0
# Actors and instruments identify a development better than the companies every article names.
KIND_WEIGHTS = {"agency": 2.0, "bill": 2.0, "event": 1.5, "money": 1.5, "company": 0.7}
# Linking an article whose time is an estimate needs evidence specific to one development: a higher score,
# an entity rarer than the story's big actors (Nvidia, H20, H200, Commerce and licences all sit below
# SPECIFIC_IDF in the trained rarity) and, within one script, words in common beyond them. Two estimates
# need more of each than an estimate and a dated article.
SPECIFIC_IDF = 4.2
ONE_ESTIMATE = (0.45, 0.05)  # (score, keyword overlap within one script)
TWO_ESTIMATES = (0.6, 0.15)
# Entity kinds whose values tell developments apart: two articles naming only different ones differ.
EXCLUSIVE_KINDS = ("bill", "chip", "percent", "citation")
# keywords() rounds weights to 5 decimals: as whole numbers of 1e-5 they multiply and add exactly, so a dot
# product is the same whatever order its terms come in (set order follows each process's string hashing)
# and whether it is worked out for one pair or for hundreds at once (keyword_overlaps).
SCALE = 100_000


@dataclass
class ArticleProfile:
    entities: list[str]
    keywords: dict[str, float]
    topics: list[str]
    when: When
    script: str = field(init=False)
    entity_set: frozenset[str] = field(init=False)
    topic_set: frozenset[str] = field(init=False)
    # The entities of each kind that tell developments apart (EXCLUSIVE_KINDS), for the kinds it names.
    exclusive: dict[str, frozenset[str]] = field(init=False)
    # The keywords as one array for keyword_overlaps: their string hashes, sorted (row 0), and their weights
    # in SCALE units in the same order (row 1). The hashes are this process's, so they are never stored.
    terms: numpy.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.script = script(self.keywords)
        self.entity_set = frozenset(self.entities)
        self.topic_set = frozenset(self.topics)
        hashes = numpy.fromiter(map(hash, self.keywords), dtype=numpy.int64, count=len(self.keywords))
        weights = numpy.fromiter(map(_scaled, self.keywords.values()), dtype=numpy.int64, count=len(self.keywords))
        order = numpy.argsort(hashes, kind="stable")
        self.terms = numpy.stack([hashes[order], weights[order]])
        by_kind: dict[str, set[str]] = {}
        for entity in self.entity_set:
            kind = entity.split(":", 1)[0]
            if kind in EXCLUSIVE_KINDS:
                by_kind.setdefault(kind, set()).add(entity)
        self.exclusive = {kind: frozenset(values) for kind, values in by_kind.items()}
        self._total: tuple[dict[str, float], float] | None = None

    def entity_total(self, idf: dict[str, float], known: dict[str, float]) -> float:
        """The summed weight of its entities under these rarities (kept: stored profiles are compared
        with every new article near them)."""
        if self._total is None or self._total[0] is not idf:
            self._total = (idf, math.fsum(_weight(e, idf, known) for e in self.entity_set))
        return self._total[1]

    @property
    def moment(self) -> datetime:
        return self.when.anchor


def keywords(title: str, text: str, idf: dict[str, float]) -> dict[str, float]:
    """The article's strongest words, stems, word pairs and Chinese character n-grams, TF-IDF weighted,
    unit length."""
    counts = analyze(title, text)
    weights = {
        feature: (1 + math.log(count)) * idf.get(feature, DEFAULT_IDF)
        for feature, count in counts.items()
        if feature.startswith(KEYWORD_KINDS)
    }
    top = sorted(weights.items(), key=lambda pair: (-pair[1], pair[0]))[:KEYWORDS]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {feature: round(w / norm, 5) for feature, w in top}


def script(keywords: dict[str, float]) -> str:
    """ "zh" when most keyword weight is on Chinese character n-grams, else "latin"."""
    chinese = sum(weight for term, weight in keywords.items() if term.startswith("c:"))
    return "zh" if chinese > sum(keywords.values()) / 2 else "latin"


def entity_weight(key: str, idf: dict[str, float]) -> float:
    """Rare entities and actors weigh most; an entity the corpus never saw counts as rare."""
    return idf.get(key, DEFAULT_IDF) * KIND_WEIGHTS.get(key.split(":", 1)[0], 1.0)


def similarity(
    first: ArticleProfile,
    second: ArticleProfile,
    entity_idf: dict[str, float],
    weights: dict[str, float] | None = None,
    shared: frozenset[str] | None = None,
    words: float | None = None,
) -> float:
    """How strongly two articles look like coverage of one development. `weights` keeps entity weights
    between calls (links() compares one article with hundreds), and `shared` and `words` are their common
    entities and their keyword_overlap when the caller has them already."""
    if shared is None:
        shared = first.entity_set & second.entity_set
    entity = 0.0
    if shared:
        known = weights if weights is not None else {}
        union = first.entity_total(entity_idf, known) + second.entity_total(entity_idf, known)
        common = math.fsum(_weight(e, entity_idf, known) for e in shared)
        union -= common
        entity = common / union if union > 0 else 0.0
    topic = 0.0
    if first.topics and second.topics:
        same_primary = 1.0 if first.topics[0] == second.topics[0] else 0.0
        overlap = len(first.topic_set & second.topic_set) / len(first.topic_set | second.topic_set)
        topic = 0.5 * same_primary + 0.5 * overlap
    if first.script != second.script:
        # English words say nothing about Chinese ones: across scripts, entities and topics decide alone.
        return (ENTITY_WEIGHT * entity + TOPIC_WEIGHT * topic) / (ENTITY_WEIGHT + TOPIC_WEIGHT)
    if words is None:
        words = keyword_overlap(first, second)
    return ENTITY_WEIGHT * entity + KEYWORD_WEIGHT * words + TOPIC_WEIGHT * topic


def keyword_overlap(first: ArticleProfile, second: ArticleProfile) -> float:
    """The dot product of two articles' unit keyword vectors, summed exactly (in SCALE units).

    Sums over sets must not depend on their order (of entity weights: math.fsum, which rounds the exact sum
    once): a set's order follows each process's string hashing, and a plain sum in that order could end a
    link's score a last bit apart from one run to the next, and on the other side of a threshold."""
    a, b = first.keywords, second.keywords
    return sum(_scaled(a[term]) * _scaled(b[term]) for term in a.keys() & b.keys()) / SCALE**2


def keyword_overlaps(article: ArticleProfile, others: Sequence[ArticleProfile]) -> tuple[list[int], list[float]]:
    """For each of others, how many keywords it shares with the article and keyword_overlap (the same
    number), worked out for all of them at once: links() compares a new article with hundreds, and one set
    intersection of sixty words each was half of its time.

    Keywords are matched by their string hashes: two different words of the two articles with the same
    64-bit hash (about one chance in 10^15 for a pair of articles) would count as shared."""
    count = len(others)
    mine, mine_weights = article.terms
    if not count or not len(mine):
        return [0] * count, [0.0] * count
    hashes, weights = numpy.concatenate([other.terms for other in others], axis=1)
    owner = numpy.repeat(numpy.arange(count), [len(other.keywords) for other in others])
    at = _positions(mine, hashes)
    hits = numpy.flatnonzero(at)
    owners = owner[hits]
    # Products of two weights in SCALE units are below 2^34 and their sums below 2^53 (unit vectors): as
    # floats, bincount adds them exactly.
    products = mine_weights[at[hits] - 1] * weights[hits]
    shared = numpy.bincount(owners, minlength=count)
    dots = numpy.bincount(owners, weights=products, minlength=count) / SCALE**2
    return shared.tolist(), dots.tolist()


def _positions(mine: numpy.ndarray, hashes: numpy.ndarray) -> numpy.ndarray:
    """Where each of hashes is among mine (sorted, distinct), counted from 1; 0 for those not among them.

    A table indexed by 16 bits of the hash finds them in two look-ups each, when mine's hashes differ in
    those bits (the lowest that do, of four tries); when they never do (about one article in two million),
    a binary search."""
    for shift in (0, 16, 32, 48):
        table = numpy.zeros(1 << 16, dtype=numpy.int16)
        table[(mine >> shift) & 0xFFFF] = numpy.arange(1, len(mine) + 1, dtype=numpy.int16)
        if numpy.count_nonzero(table) == len(mine):
            at = table[(hashes >> shift) & 0xFFFF]
            break
    else:
        at = numpy.searchsorted(mine, hashes) + 1
        at[at > len(mine)] = 0
    at *= (numpy.concatenate(([0], mine))[at] == hashes) & (at > 0)
    return at


def _scaled(weight: float) -> int:
    return round(weight * SCALE)


def _weight(key: str, idf: dict[str, float], known: dict[str, float]) -> float:
    found = known.get(key)
    if found is None:
        found = known[key] = entity_weight(key, idf)
    return found


def links(article: ArticleProfile, recent: dict[int, ArticleProfile], entity_idf: dict[str, float]) -> dict[int, float]:
    """The recent articles (by id) the new one is linked to, with the strength of each link."""
    found = {}
    entities = article.entity_set
    certain = article.when.certain
    # Further apart than MAX_GAP (When.gap), with the bounds worked out once for the hundreds compared.
    after, before = article.when.latest + MAX_GAP, article.when.earliest - MAX_GAP
    near = [
        (article_id, other)
        for article_id, other in recent.items()
        if not (other.when.earliest > after or other.when.latest < before)
    ]
    counts, words = keyword_overlaps(article, [other for _, other in near])
    weights: dict[str, float] = {}
    for (article_id, other), count, in_common in zip(near, counts, words, strict=True):
        shared = entities & other.entity_set
        if not shared and not count:
            continue  # nothing in common: cannot reach the threshold
        if different_developments(article, other):
            continue
        score = similarity(article, other, entity_idf, weights, shared, in_common)
        both_dated = certain and other.when.certain
        linked = score >= THRESHOLD if both_dated else specific(article, other, score, entity_idf)
        if linked:
            found[article_id] = round(score, 4)
    return found


def different_developments(first: ArticleProfile, second: ArticleProfile) -> bool:
    """Both name bills (or chips, or percentages) and none in common: two bills, two chips' decisions, a 15%
    deal and a 25% one are different developments however many actors they share."""
    for kind, mine in first.exclusive.items():
        theirs = second.exclusive.get(kind)
        if theirs and mine.isdisjoint(theirs):
            return True
    return False


def specific(first: ArticleProfile, second: ArticleProfile, score: float, entity_idf: dict[str, float]) -> bool:
    """Whether a link involving an estimated time rests on evidence specific to one development: a score
    above the higher bar, a shared entity rarer than the big actors, and words in common beyond them
    (within one script) or a second rare entity (across scripts, where words cannot be compared; with one
    dated side, one rare entity and the score suffice)."""
    both_estimates = not first.when.certain and not second.when.certain
    needed_score, needed_words = TWO_ESTIMATES if both_estimates else ONE_ESTIMATE
    rare = [e for e in first.entity_set & second.entity_set if entity_idf.get(e, DEFAULT_IDF) >= SPECIFIC_IDF]
    if score < needed_score or not rare:
        return False
    if first.script != second.script:
        return len(rare) >= 2 or not both_estimates
    if len(rare) >= 2:
        return True
    return keyword_overlap(first, second) >= needed_words
