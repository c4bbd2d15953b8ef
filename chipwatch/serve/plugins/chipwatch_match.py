"""A Datasette plugin that makes Datasette search with chipwatch's rules, the ones `chipwatch search` uses.

- chipwatch_match(query) in SQL turns a search query into chipwatch's FTS5 expression: both Chinese
  scripts folded to one, Chinese words as character pairs, known names widened to their other names
  (英伟达 -> Nvidia, 輝達 ...), words confined to title and text.
- escape_fts(query), which Datasette's own table search box runs on what people type, is replaced by the
  same translation on our connections, so the articles table's search box finds Chinese too.
- chipwatch_passage(text, query) gives the passage around the first match with each match between
  ⟦ and ⟧; render_cell shows those as <mark> in HTML (the text escaped first), JSON and CSV keep them.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from chipwatch.reports.snippets import query_terms, snippet
from pipeline.entities import with_other_names
from storage.fts import fts_query

MARK = ("⟦", "⟧")
EMPTY_MATCH = '"chipwatch-empty-query"'


def chipwatch_match(query: str | None) -> str:
    # An empty query would be an FTS5 syntax error; a phrase that matches nothing says "no results" instead.
    return fts_query(with_other_names(query or "")) or EMPTY_MATCH


def chipwatch_passage(text: str | None, query: str | None) -> str | None:
    # The marks in the text itself are made plain brackets, so only ours become <mark>.
    plain = (text or "").replace(MARK[0], "[").replace(MARK[1], "]")
    return snippet(plain, query_terms(with_other_names(query or "")), mark=MARK)


@hookimpl(trylast=True)
def prepare_connection(conn: Any) -> None:
    # trylast: called after Datasette's own prepare_connection, so our escape_fts replaces its version.
    conn.create_function("chipwatch_match", 1, chipwatch_match, deterministic=True)
    conn.create_function("escape_fts", 1, chipwatch_match, deterministic=True)
    conn.create_function("chipwatch_passage", 2, chipwatch_passage, deterministic=True)


@hookimpl
def render_cell(value: Any, column: str) -> Markup | None:
    if column != "passage" or not isinstance(value, str) or MARK[0] not in value:
        return None
    html = str(escape(value))
    return Markup(html.replace(MARK[0], "<mark>").replace(MARK[1], "</mark>"))
