"""Reading stories for people and scripts: the story list, one story's timeline, batch clustering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chipwatch.errors import QueryError
from chipwatch.reports.articles import fit
from storage.stories import get_story, story_articles

SHOWN_ADDITIONS = 6


def timeline(db: Any, story_id: int) -> dict[str, Any]:
    """The story and its articles in date order, each with what it added: names not seen before in it."""
    story = get_story(db, story_id)
    if story is None:
        raise QueryError(f"no story with id {story_id}")
    seen: set[str] = set()
    articles = []
    for article in story_articles(db, story_id):
        new = [e for e in article["entities"] if e not in seen and not e.startswith("event:")]
        seen.update(article["entities"])
        articles.append({**article, "added": new, "follow_up": bool(article.pop("is_follow_up"))})
    return {**story, "articles": articles}


def format_story_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no stories found\n"
    lines = [
        f"{'id':>5} {'first seen':<10} {'last seen':<10} {'items':>5} {'outlets':>7} {'langs':<14} {'topics':<28} title"
    ]
    for row in rows:
        lines.append(
            f"{row['id']:>5} {row['first_seen'][:10]:<10} {row['last_seen'][:10]:<10} {row['article_count']:>5} "
            f"{len(row['outlets']):>7} {','.join(row['languages']):<14} {fit(','.join(row['topics'][:3]), 28)} "
            f"{row['title']}"
        )
    return "\n".join(lines) + "\n"


def format_timeline(story: dict[str, Any]) -> str:
    lines = [
        f"story {story['id']}: {story['title']}",
        f"{story['first_seen'][:10]} – {story['last_seen'][:10]} · {story['article_count']} articles · "
        f"{len(story['outlets'])} outlets · {', '.join(story['languages'])} · {', '.join(story['topics'])}",
        "",
    ]
    for article in story["articles"]:
        when = (article["moment"] or article["published_at"] or article["first_seen_at"] or "")[:16].replace("T", " ")
        marker = "follow-up" if article["follow_up"] else "first"
        lines.append(
            f"{when}  {article['publisher'] or article['source']} [{article['lang']}] ({marker})  #{article['id']}"
        )
        lines.append(f"    {article['title']}")
        if article["added"]:
            shown = ", ".join(article["added"][:SHOWN_ADDITIONS])
            more = (
                f" and {len(article['added']) - SHOWN_ADDITIONS} more"
                if len(article["added"]) > SHOWN_ADDITIONS
                else ""
            )
            lines.append(f"    added: {shown}{more}")
        if article["copies"]:
            outlets = ", ".join(sorted({copy["outlet"] for copy in article["copies"]}))
            lines.append(f"    also carried by {len(article['copies'])} outlets: {outlets}")
    return "\n".join(lines) + "\n"


def read_cluster_lines(stream: Any) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, item or None, error or None) for each non-empty JSON line."""
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except UnicodeDecodeError as error:
            yield number, None, f"not UTF-8 (byte {error.start})"
            continue
        except json.JSONDecodeError as error:
            yield number, None, f"not JSON: {error.msg} at column {error.colno}"
            continue
        if not isinstance(item, dict) or "id" not in item:
            yield number, None, "expected a JSON object with id, title and text"
            continue
        if not isinstance(item.get("title") or "", str) or not isinstance(item.get("text") or "", str):
            yield number, item, "title and text must be strings"
            continue
        yield number, item, None
