"""A Datasette plugin: chipwatch_match(query) in SQL turns a search query into chipwatch's FTS5 expression
(Chinese words as character pairs, words confined to title and text), as `chipwatch search` does."""

from datasette import hookimpl

from storage.fts import fts_query


def chipwatch_match(query: str | None) -> str:
    # An empty query would be an FTS5 syntax error; a phrase that matches nothing says "no results" instead.
    return fts_query(query or "") or '"chipwatch-empty-query"'


@hookimpl
def prepare_connection(conn):
    conn.create_function("chipwatch_match", 1, chipwatch_match, deterministic=True)
