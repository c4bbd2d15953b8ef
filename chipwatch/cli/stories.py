"""Commands around copies and stories: stories, story, cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from chipwatch.cli.options import check_topic, since_option, with_storage
from chipwatch.config import Options

if TYPE_CHECKING:
    from sqlite_utils import Database


@click.command()
@click.option("--since", help="Only stories seen on or after this date (YYYY-MM-DD).")
@click.option("--topic", help="Only stories with this topic.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_storage()
def stories(options: Options, db: Database, since: str | None, topic: str | None, limit: int, fmt: str) -> None:
    """List story threads, most recently active first: span, articles, outlets, languages, topics.

    \b
    Example:
      chipwatch stories --since 2025-12-01 --topic china-response
    """
    from chipwatch.reports.stories import format_story_table
    from storage.stories import list_stories

    since_iso = since_option(since)
    check_topic(topic)
    rows = list_stories(db, since_iso, topic, limit)
    if fmt == "json":
        fields = ("id", "title", "first_seen", "last_seen", "article_count", "outlets", "languages", "topics")
        click.echo(json.dumps([{f: row[f] for f in fields} for row in rows], ensure_ascii=False, indent=2))
    else:
        click.echo(format_story_table(rows), nl=False)


@click.command()
@click.argument("story_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_storage()
def story(options: Options, db: Database, story_id: int, fmt: str) -> None:
    """One story's timeline: each article with its date, outlet, language, whether it follows up, what it
    added (names not seen before in the story) and the outlets that carried copies of it.

    \b
    Example:
      chipwatch story 12
    """
    from chipwatch.reports.stories import format_timeline, timeline

    result = timeline(db, story_id)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(format_timeline(result), nl=False)


@click.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.pass_obj
def cluster(options: Options, file: Any) -> None:
    """Group a batch of articles outside the database: JSON Lines in (id, title, text, optional published),
    JSON Lines out (id, story, duplicate_of), one per input line, in order.

    published may be a moment (ISO 8601, RFC 822), a day (2025-12-09) or a month (2025-12): a day or a
    month is grouped as that span, and an item without a date only on strong, specific evidence.

    story numbers stories within the batch (null for an item that is not about chip export policy);
    duplicate_of is the id of the item this one copies, or null.

    \b
    Example:
      chipwatch cluster articles.jsonl > groups.jsonl
    """
    from chipwatch.reports.stories import read_cluster_lines
    from pipeline.batch import BatchItem, cluster_batch
    from pipeline.classify import load_classifier

    classifier = load_classifier(options.classify.topics, options.classify.model)
    lines = list(read_cluster_lines(file))
    items = []
    for _, item, error in lines:
        if error is None and item is not None:
            published = str(item["published"]) if item.get("published") else None
            items.append(BatchItem(item["id"], item.get("title") or "", item.get("text") or "", published))
    results = iter(cluster_batch(items, classifier))
    for number, item, error in lines:
        if error is not None:
            click.echo(f"line {number}: {error}", err=True)
            click.echo(json.dumps({"id": item.get("id") if item else None, "error": error}, ensure_ascii=False))
            continue
        result = next(results)
        click.echo(
            json.dumps(
                {"id": result.id, "story": result.story, "duplicate_of": result.duplicate_of}, ensure_ascii=False
            )
        )


@click.command(name="eval-stories")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def eval_stories(options: Options, file: Path | None, fmt: str) -> None:
    """Story grouping against hand-made story truth: pairwise precision and recall on a realistic labelled
    set (the one shipped with chipwatch, or FILE: JSON Lines of id, title, text, optional published, story)
    with its dates, with only its day-dated items and with no dates, and on the demo network.

    \b
    Example:
      chipwatch eval-stories
    """
    from chipwatch.bench.story_eval import run
    from pipeline.classify import load_classifier

    classifier = load_classifier(options.classify.topics, options.classify.model)
    scores = run(classifier, file)
    if fmt == "json":
        fields = ("name", "items", "precision", "recall", "f1", "true_pairs")
        click.echo(json.dumps([{f: getattr(s, f) for f in fields} for s in scores], indent=2))
        return
    click.echo(f"{'set':<28} {'items':>5} {'precision':>9} {'recall':>7} {'F1':>6} {'pairs':>6}")
    for s in scores:
        click.echo(f"{s.name:<28} {s.items:>5} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.true_pairs:>6}")
