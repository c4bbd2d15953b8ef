"""Printing results: a table for people, JSON and CSV for scripts (the JSON shape is a stable contract)."""

from __future__ import annotations

import csv
import json
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from chipwatch.reports.snippets import query_terms, snippet

ARTICLE_FIELDS = (
    "id",
    "url",
    "title",
    "source",
    "publisher",
    "lang",
    "published_at",
    "relevant",
    "relevance",
    "topics",
    "story_id",
)
EXPORT_FIELDS = (*ARTICLE_FIELDS, "first_seen_at", "is_follow_up", "summary", "text")
ANSI_MARK = ("\x1b[1;33m", "\x1b[0m")
PLAIN_MARK = ("[", "]")


def display_width(text: str) -> int:
    """Terminal columns a string takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def fit(text: str, width: int) -> str:
    """Cut and pad text to exactly width terminal columns."""
    out, used = [], 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > width - (1 if used + w < display_width(text) else 0):
            out.append("…")
            used += 1
            break
        out.append(char)
        used += w
    return "".join(out) + " " * max(0, width - used)


def print_articles(rows: Sequence[dict[str, Any]], fmt: str, stream: TextIO, query: str | None = None) -> None:
    if fmt == "json":
        json.dump([_article(row) for row in rows], stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(_article(row), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(ARTICLE_FIELDS)
        for row in rows:
            record = _article(row)
            record["topics"] = ";".join(t["id"] for t in record["topics"])
            writer.writerow([record[field] for field in ARTICLE_FIELDS])
    else:
        _table(rows, stream, query)


def write_export(rows: Iterable[dict[str, Any]], fmt: str, stream: TextIO) -> int:
    """Write rows as they come (JSON Lines or CSV with a header); returns how many."""
    count = 0
    writer = csv.writer(stream) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_FIELDS)
    for row in rows:
        record = {field: row.get(field) for field in EXPORT_FIELDS}
        topic_ids = [t["id"] for t in row.get("topics", [])]
        record["topics"] = ";".join(topic_ids) if writer is not None else topic_ids
        if writer is not None:
            writer.writerow([record[field] for field in EXPORT_FIELDS])
        else:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _article(row: dict[str, Any]) -> dict[str, Any]:
    return {field: row.get(field) for field in ARTICLE_FIELDS}


def _table(rows: Sequence[dict[str, Any]], stream: TextIO, query: str | None = None) -> None:
    if not rows:
        stream.write("no articles found\n")
        return
    width = max(80, min(shutil.get_terminal_size((120, 20)).columns, 160))
    fixed = 6 + 11 + 8 + 18 + 26
    title_width = max(20, width - fixed)
    terms = query_terms(query)
    mark = ANSI_MARK if stream.isatty() else PLAIN_MARK
    header = f"{'id':>5} {'published':<10} {'lang':<7} {fit('source', 17)} {fit('topics', 25)} title"
    stream.write(header + "\n")
    for row in rows:
        topics = ",".join(t["id"] for t in row.get("topics", [])) or ("-" if row.get("relevant") else "(off-topic)")
        date = (row.get("published_at") or row.get("first_seen_at") or "")[:10]
        outlet = row.get("publisher") or row.get("source") or ""
        stream.write(
            f"{row['id']:>5} {date:<10} {(row.get('lang') or '?'):<7} {fit(outlet, 17)} "
            f"{fit(topics, 25)} {fit(row.get('title') or '(untitled)', title_width).rstrip()}\n"
        )
        passage = snippet(row.get("text") or row.get("excerpt"), terms, width=min(width - 8, 200), mark=mark)
        if passage and display_width(passage) > width - 6:
            passage = fit(passage, width - 6).rstrip()  # Chinese characters take two columns each
            stream.write(f"      {passage}\n")


def format_article(article: dict[str, Any], full: bool = False, preview_chars: int = 1500) -> str:
    """One article for people: provenance, topics and their evidence, story, copies, entities, text."""
    lines = [f"#{article['id']}  {article.get('title') or '(untitled)'}", article.get("canonical_url") or ""]
    outlet = article.get("publisher") or article["source"]
    via = f" (via {article['source']})" if article.get("publisher") else ""
    lines.append(
        f"outlet: {outlet}{via}   lang: {article.get('lang') or '?'}   published: "
        f"{article.get('published_at') or 'unknown'}   first seen: {article.get('first_seen_at')}"
    )
    if article.get("authors"):
        lines.append("by " + ", ".join(article["authors"]))
    verdict = "relevant" if article["relevant"] else "off-topic"
    lines.append(f"{verdict} (relevance {article.get('relevance') or 0:.2f}, model {article.get('model_version')})")
    for topic in article["topics"]:
        evidence = ", ".join(f'"{phrase}"' for phrase in topic["evidence"][:5])
        lines.append(f"  {topic['id']:<16} {topic['score']:.2f}  {evidence}")
    story = article.get("story")
    if story:
        follow = " — a follow-up" if article.get("is_follow_up") else ""
        lines.append(f"story #{story['id']}: {story['title']} ({story['article_count']} articles){follow}")
    for copy in article["copies"]:
        lines.append(f"  also carried by {copy['outlet']}: {copy['url']}")
    for kind, values in article["entities"].items():
        lines.append(f"  {kind}: {', '.join(values)}")
    lines += _document_lines(article.get("document"))
    lines += _list_change_lines(article.get("list_changes") or [])
    text = article.get("text") or ""
    if not full and len(text) > preview_chars:
        text = text[:preview_chars] + f"… ({len(article['text']):,} characters; --full for all)"
    lines += ["", text]
    return "\n".join(lines) + "\n"


def _document_lines(document: dict[str, Any] | None) -> list[str]:
    """A Federal Register document's own fields: what a compliance reader checks first."""
    if not document:
        return []
    head = f"{document.get('doc_type') or 'document'} {document['document_number']}"
    if document.get("citation"):
        head += f", {document['citation']}"
    lines = [head]
    dated = [
        f"{label} {document[name]}"
        for label, name in (
            ("published", "publication_date"),
            ("effective", "effective_on"),
            ("comments close", "comments_close_on"),
        )
        if document.get(name)
    ]
    if dated:
        lines.append("  " + "; ".join(dated))
    if document.get("rin"):
        lines.append(f"  RIN {document['rin']}")
    if document.get("cfr_parts"):
        lines.append("  amends " + ", ".join(document["cfr_parts"]))
    if document.get("agencies"):
        lines.append("  by " + ", ".join(document["agencies"]))
    return lines


def _list_change_lines(changes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for change in changes:
        name = change["name"] + (f" ({change['original_name']})" if change.get("original_name") else "")
        where = ", ".join(change.get("countries") or [])
        revised = f": {', '.join(change['fields'])}" if change["kind"] == "changed" and change.get("fields") else ""
        lines.append(f"  {change['kind']} {change['list_code']} {change['entry_id']}: {name}"
                     f"{' [' + where + ']' if where else ''}{revised}")  # fmt: skip
    return lines
