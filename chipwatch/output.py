"""Printing results: a table for people, JSON and CSV for scripts (the JSON shape is a stable contract)."""

from __future__ import annotations

import csv
import json
import shutil
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

ARTICLE_FIELDS = ("id", "url", "title", "source", "lang", "published_at", "relevant", "relevance", "topics")


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


def print_articles(rows: Sequence[dict[str, Any]], fmt: str, stream: TextIO) -> None:
    if fmt == "json":
        json.dump([_article(row) for row in rows], stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    elif fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(ARTICLE_FIELDS)
        for row in rows:
            record = _article(row)
            record["topics"] = ";".join(t["id"] for t in record["topics"])
            writer.writerow([record[field] for field in ARTICLE_FIELDS])
    else:
        _table(rows, stream)


def _article(row: dict[str, Any]) -> dict[str, Any]:
    return {field: row.get(field) for field in ARTICLE_FIELDS}


def _table(rows: Sequence[dict[str, Any]], stream: TextIO) -> None:
    if not rows:
        stream.write("no articles found\n")
        return
    width = max(80, min(shutil.get_terminal_size((120, 20)).columns, 160))
    fixed = 6 + 11 + 8 + 18 + 26
    title_width = max(20, width - fixed)
    header = f"{'id':>5} {'published':<10} {'lang':<7} {fit('source', 17)} {fit('topics', 25)} title"
    stream.write(header + "\n")
    for row in rows:
        topics = ",".join(t["id"] for t in row.get("topics", [])) or ("-" if row.get("relevant") else "(off-topic)")
        date = (row.get("published_at") or row.get("first_seen_at") or "")[:10]
        stream.write(
            f"{row['id']:>5} {date:<10} {(row.get('lang') or '?'):<7} {fit(row.get('source') or '', 17)} "
            f"{fit(topics, 25)} {fit(row.get('title') or '(untitled)', title_width).rstrip()}\n"
        )
