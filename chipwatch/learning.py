"""Wiring for the classifier's life cycle: train (with users' corrections), evaluate, label, reclassify."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.config import ClassifyOptions, Options
from chipwatch.errors import ChipwatchError, QueryError
from pipeline.classify import Classifier, classify, load_classifier
from pipeline.dates import utc_now_iso
from pipeline.evaluate import GroupScores, evaluate, format_report
from pipeline.items import TopicScore
from pipeline.labelled import LabelledItem, load_corpus, load_labelled_file
from pipeline.linear import save_linear
from pipeline.process import StoryModel, classify_article, regroup_stored
from pipeline.rules import TOPIC_IDS, load_rules
from pipeline.train import TrainingReport, train
from storage import opened
from storage.articles import articles_since, get_article, set_classification
from storage.labels import add_label, labelled_article_ids, latest_labels

if TYPE_CHECKING:
    from sqlite_utils import Database


LABEL_MODEL_VERSION = "label"  # the model_version of an article whose tags a reader set


@dataclass
class TrainResult:
    path: Path
    version: str
    report: TrainingReport
    heldout: dict[str, GroupScores]


def corrections_from(db_path: Path) -> list[LabelledItem]:
    """Users' labels as training items (none when there is no database yet)."""
    if not db_path.exists():
        return []
    with opened(db_path) as db:
        return [
            LabelledItem(
                id=f"label-{row['article_id']}",
                lang=row["lang"] or "und",
                voice="reader",
                title=row["title"] or "",
                text=row["text"] or "",
                relevant=row["relevant"],
                topics=tuple(row["topics"]),
                split="train",
                origin="label",
            )
            for row in latest_labels(db)
        ]


SHIPPED_MODEL = ClassifyOptions().model


def train_model(options: Options, out: Path | None = None, progress: Callable[[str], None] = print) -> TrainResult:
    started = time.perf_counter()
    corpus = load_corpus()
    rules = load_rules(options.classify.topics)
    corrections = corrections_from(options.storage.db)
    progress(f"training on {len(corpus)} corpus items and {len(corrections)} corrections (about half a minute)…")
    linear, report = train(corpus, rules, corrections)
    path = out or options.classify.model
    save_linear(linear, path)
    progress(f"trained in {time.perf_counter() - started:.0f} s; scoring the heldout split…")
    classifier = Classifier(rules, linear)
    heldout = [item for item in corpus if item.split == "heldout"]
    scores = evaluate(heldout, [classify(classifier, i.title, i.text) for i in heldout])
    return TrainResult(path, linear.version, report, scores)


def evaluate_items(options: Options, path: Path | None, split: str) -> tuple[str, dict[str, GroupScores]]:
    """The report for a labelled file, or for a split of the built-in corpus."""
    if path is not None:
        items, title = load_labelled_file(path), f"evaluation of {path}"
    else:
        corpus = load_corpus()
        items = corpus if split == "all" else [item for item in corpus if item.split == split]
        title = f"evaluation on the corpus's {split} split"
    if not items:
        raise ChipwatchError("no labelled items to evaluate")
    classifier = load_classifier(options.classify.topics, options.classify.model)
    scores = evaluate(items, [classify(classifier, i.title, i.text, i.lang) for i in items])
    return format_report(scores, f"{title} — model {classifier.version}"), scores


def measure_speed(options: Options, minimum_items: int = 2000) -> tuple[float, float]:
    """(seconds to load the classifier, items classified per second on one core) over the corpus, after
    one pass over it to warm up."""
    started = time.perf_counter()
    classifier = load_classifier(options.classify.topics, options.classify.model)
    load_seconds = time.perf_counter() - started
    items = load_corpus()
    # One pass first: a phrase's pattern is compiled the first time its words occur (pipeline/rules.py), a
    # cost of the first few hundred items a process classifies, not of its throughput.
    for item in items:
        classify(classifier, item.title, item.text)
    done, started = 0, time.perf_counter()
    while done < minimum_items:
        for item in items:
            classify(classifier, item.title, item.text)
        done += len(items)
    return load_seconds, done / (time.perf_counter() - started)


def label_article(
    db: Database, article_id: int, topics: tuple[str, ...], irrelevant: bool, stories: StoryModel | None = None
) -> dict[str, Any]:
    """Apply a reader's correction to a stored article at once: its relevance and topics, and its story (an
    article marked irrelevant leaves its story, one marked relevant joins the story grouping gives it when
    stories is given); search, the digest and stories see it immediately."""
    if irrelevant and topics:
        raise QueryError("give topics or --irrelevant, not both")
    if not irrelevant and not topics:
        raise QueryError("give at least one topic, or --irrelevant")
    unknown = [t for t in topics if t not in TOPIC_IDS]
    if unknown:
        raise QueryError(f"unknown topic {unknown[0]!r} (known: {', '.join(TOPIC_IDS)})")
    if get_article(db, article_id) is None:
        raise QueryError(f"no article with id {article_id}")
    relevant, chosen = not irrelevant, list(dict.fromkeys(topics))
    add_label(db, article_id, relevant, chosen, utc_now_iso())
    # A label outranks any model: applied to the article at once, kept by reclassify.
    scores = [TopicScore(topic, 1.0, ["labelled by a reader"]) for topic in chosen] if relevant else []
    set_classification(db, article_id, relevant, 1.0 if relevant else 0.0, scores, LABEL_MODEL_VERSION)
    if relevant and stories is not None:
        regroup_stored(db, stories, article_id)
    article = get_article(db, article_id)
    assert article is not None
    return article


@dataclass
class ReclassifyResult:
    examined: int
    changed: int
    labelled_kept: int
    version: str


def reclassify(db: Database, classifier: Classifier, since: str | None) -> ReclassifyResult:
    """Re-tag stored articles with the classifier, through the crawl's own classify step; articles a reader
    labelled keep the label."""
    labelled = labelled_article_ids(db)
    examined = changed = kept = 0
    for row in articles_since(db, since):
        examined += 1
        if row["id"] in labelled:
            kept += 1
            continue
        result = classify_article(classifier, row["title"], row["text"], row["lang"])
        changed += set_classification(
            db, row["id"], result.relevant, result.relevance, result.topics, result.model_version
        )
    return ReclassifyResult(examined, changed, kept, classifier.version)
