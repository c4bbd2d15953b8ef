"""A Datasette plugin: chipwatch's reading room, read-only, in the same server as Datasette's tables.

/ (today), /stories, /stories/ID, /find?q=, /articles/ID. Each route reads through chipwatch's own
storage queries on Datasette's read-only connection and renders its own templates
(chipwatch/serve/templates/); Datasette's tables and SQL stay at /DATABASE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import Response

from chipwatch.errors import ChipwatchError, QueryError
from chipwatch.serve import pages
from chipwatch.serve.rendering import render

# What a page shows: (storage, query arguments, URL parts) -> the template's context.
Build = Callable[[sqlite_utils.Database, dict[str, str], dict[str, str]], dict[str, Any]]
# (route, template, navigation section, what the page shows)
PAGES: list[tuple[str, str, str, Build]] = [
    (r"^/$", "today.html", "today", lambda db, args, parts: pages.today(db)),
    (r"^/stories$", "stories.html", "stories", lambda db, args, parts: pages.stories(db, args)),
    (r"^/stories/(?P<id>\d+)$", "story.html", "stories", lambda db, args, parts: pages.story(db, int(parts["id"]))),
    (r"^/find$", "find.html", "find", lambda db, args, parts: pages.find(db, args)),
    (r"^/articles/(?P<id>\d+)$", "article.html", "", lambda db, args, parts: pages.article(db, int(parts["id"]))),
]


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(route, _view(template, section, build)) for route, template, section, build in PAGES]


def _view(
    template: str,
    section: str,
    build: Callable[[sqlite_utils.Database, dict[str, str], dict[str, str]], dict[str, Any]],
) -> Callable[[Any, Any], Any]:
    async def view(datasette: Any, request: Any) -> Response:
        database = datasette.get_database()
        args = {key: request.args.get(key) for key in request.args}
        parts = dict(request.url_vars)
        try:
            context = await database.execute_fn(lambda conn: build(sqlite_utils.Database(conn), args, parts))
        except QueryError as error:
            if template == "find.html":  # a query people typed: the form again, with what was wrong
                context = {
                    "q": args.get("q") or "",
                    "filters": args,
                    "topics": pages.TOPIC_LABELS,
                    "results": [],
                    "total": 0,
                    "page": 1,
                    "pages": 1,
                    "error": str(error),
                    "section": section,
                }
                return Response.html(render(template, context, args, database.name), status=400)
            context = {"heading": "Not here", "message": str(error), "section": section}
            return Response.html(render("error.html", context, args, database.name), status=404)
        except ChipwatchError as error:
            context = {"heading": "Cannot show this", "message": str(error), "section": section}
            return Response.html(render("error.html", context, args, database.name), status=500)
        return Response.html(render(template, {**context, "section": section}, args, database.name))

    return view


@hookimpl
def render_cell(value: Any, column: str, table: str | None) -> Any:
    """In Datasette's own tables: a story id links to its page in the reading room; a story's JSON lists
    read as plain lists."""
    from markupsafe import Markup, escape

    if column == "story_id" and isinstance(value, int):
        return Markup(f'<a href="/stories/{value}">{value}</a>')
    if table in ("stories", "stories_overview") and column in ("outlets", "languages", "topics"):
        import json

        try:
            items = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            return None
        if isinstance(items, list):
            return Markup(escape(", ".join(str(item) for item in items)))
    return None
