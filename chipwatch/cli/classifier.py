"""Commands around the classifier: classify, eval, train, label, reclassify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from chipwatch.cli.options import since_option, with_storage
from chipwatch.config import Options
from chipwatch.errors import ChipwatchError

if TYPE_CHECKING:
    from sqlite_utils import Database


@click.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.pass_obj
def classify(options: Options, file: Any) -> None:
    """Classify JSON Lines (id, title, text, optional lang) from FILE or stdin; one JSON line out per line in.

    \b
    Example:
      echo '{"id": 1, "title": "US lets Nvidia sell H200 to China", "text": "..."}' | chipwatch classify
    """
    from pipeline.classify import classify as classify_item
    from pipeline.classify import load_classifier

    model = load_classifier(options.classify.topics, options.classify.model)
    failures = 0
    total = 0
    for number, line in _numbered_lines(file):
        total += 1
        try:
            item = _json_line(line)
            result = classify_item(model, _text_field(item, "title"), _text_field(item, "text"), item.get("lang"))
            out = {
                "id": item.get("id"),
                "relevant": result.relevant,
                "relevance": result.relevance,
                "topics": [{"id": t.id, "score": t.score, "evidence": t.evidence} for t in result.topics],
            }
        except ValueError as error:
            failures += 1
            click.echo(f"line {number}: {error}", err=True)
            out = {"id": _id_if_any(line), "error": str(error)}
        click.echo(json.dumps(out, ensure_ascii=False))
    if failures:
        click.echo(f"{failures} of {total} lines could not be classified", err=True)
        raise SystemExit(1)


def _numbered_lines(stream: Any) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, 1):
        if line.strip():
            yield number, line


def _json_line(line: bytes) -> dict[str, Any]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte {error.start})") from None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object with id, title and text")
    return item


def _text_field(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} must be a string")
    return value


def _id_if_any(line: bytes) -> Any:
    try:
        item = json.loads(line.decode("utf-8", errors="replace"))
        return item.get("id") if isinstance(item, dict) else None
    except ValueError:
        return None


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the model.")
@click.option("--force", is_flag=True, help="Overwrite the model that ships with chipwatch.")
@click.pass_obj
def train(options: Options, out: Path | None, force: bool) -> None:
    """Train the classifier on the labelled corpus plus readers' corrections (`chipwatch label`).

    Writes the model to [classify] model (or --out) and prints cross-validated and heldout scores.
    The same corpus and corrections always give the same model file.

    \b
    Example:
      chipwatch train --out data/model.json && CHIPWATCH_CLASSIFY_MODEL=data/model.json chipwatch reclassify
    """
    from chipwatch.learning import SHIPPED_MODEL, train_model
    from pipeline.evaluate import summary

    target = out or options.classify.model
    if target.resolve() == SHIPPED_MODEL.resolve() and not force:
        raise ChipwatchError(
            f"{target} is the model that ships with chipwatch: give --out FILE (then point [classify] model at "
            "it), or --force to overwrite it"
        )
    result = train_model(options, out, progress=lambda line: click.echo(line, err=True))
    report = result.report
    click.echo(f"model {result.version} written to {result.path}")
    click.echo(
        f"trained on {report.items} items ({report.corrections} corrections), {report.features} features, C={report.c}"
    )
    click.echo("cross-validated: " + _figures(report.cv_scores))
    for group in ("all", "en", "zh"):
        if group in result.heldout:
            click.echo(f"heldout {group:>3}: " + _figures(summary(result.heldout[group])))


def _figures(scores: dict[str, float]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {value:.3f}" for name, value in scores.items())


@click.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option(
    "--split",
    type=click.Choice(["heldout", "dev", "train", "all"]),
    default="heldout",
    show_default=True,
    help="Which part of the built-in corpus, when no FILE is given.",
)
@click.option("--speed", is_flag=True, help="Also measure load time and items per second.")
@click.pass_obj
def eval_command(options: Options, file: Path | None, split: str, speed: bool) -> None:
    """Measure the classifier: relevance and per-topic P/R/F1, micro and macro F1, primary-topic accuracy,
    each by language.

    FILE is labelled items, as JSON Lines (id, title, text, lang, relevant, topics) or in the corpus's own
    text format (pipeline/corpus/README.md). Without FILE, the built-in corpus's heldout split.

    \b
    Example:
      chipwatch eval                       # the heldout split
      chipwatch eval my-labels.jsonl --speed
    """
    from chipwatch.learning import evaluate_items, measure_speed

    report, _ = evaluate_items(options, file, split)
    click.echo(report)
    if speed:
        load_seconds, per_second = measure_speed(options)
        click.echo(f"model load {load_seconds * 1000:.0f} ms; {per_second:,.0f} items per second on one core")


@click.command()
@click.argument("article_id", type=int)
@click.argument("topics", nargs=-1)
@click.option("--irrelevant", is_flag=True, help="The article is not about chip export policy.")
@with_storage(readonly=False)
def label(options: Options, db: Database, article_id: int, topics: tuple[str, ...], irrelevant: bool) -> None:
    """Correct the classifier on one stored article; `chipwatch train` learns from corrections.

    The correction applies at once: search, the digest and stories see it (an article marked irrelevant
    leaves its story, whose title and span are recomputed; one marked relevant joins a story).

    \b
    Examples:
      chipwatch label 42 export-controls revenue-share
      chipwatch label 43 --irrelevant
    """
    from chipwatch.learning import label_article
    from pipeline.classify import load_classifier
    from pipeline.process import StoryModel

    stories = None if irrelevant else StoryModel.of(load_classifier(options.classify.topics, options.classify.model))
    article = label_article(db, article_id, topics, irrelevant, stories)
    tags = ", ".join(t["id"] for t in article["topics"]) or "not relevant"
    click.echo(f"labelled article {article_id} ({article['title']}): {tags}")


@click.command()
@click.option("--since", help="Only articles first stored on or after this date (YYYY-MM-DD).")
@with_storage(readonly=False)
def reclassify(options: Options, db: Database, since: str | None) -> None:
    """Re-tag stored articles with the current classifier, recording its version on each.

    Articles a reader labelled keep their labels.

    \b
    Example:
      chipwatch reclassify --since 2025-12-01
    """
    from chipwatch.learning import reclassify as run_reclassify
    from pipeline.classify import load_classifier

    classifier = load_classifier(options.classify.topics, options.classify.model)
    result = run_reclassify(db, classifier, since_option(since))
    click.echo(
        f"examined {result.examined} articles: {result.changed} re-tagged with {result.version}, "
        f"{result.labelled_kept} kept their readers' labels"
    )
