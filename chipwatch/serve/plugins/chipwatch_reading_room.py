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

HTML = "text/html; charset=utf-8"


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/$", _today),
        (r"^/stories$", _stories),
        (r"^/stories/(?P<story_id>\d+)$", _story),
        (r"^/find$", _find),
        (r"^/articles/(?P<article_id>\d+)$", _article),
    ]


async def _page(
    datasette: Any, request: Any, template: str, name: str, build: Callable[[sqlite_utils.Database], dict[str, Any]]
) -> Response:
    database = datasette.get_database()
    args = {key: request.args.get(key) for key in request.args}
    try:
        context = await database.execute_fn(lambda conn: build(sqlite_utils.Database(conn)))
    except QueryError as error:
        if template == "find.html":
            context = {
                "q": args.get("q") or "",
                "filters": args,
                "topics": pages.TOPIC_LABELS,
                "results": [],
                "total": 0,
                "page": 1,
                "pages": 1,
                "error": str(error),
            }
            return Response.html(render(template, {**context, "section": name}, args, database.name), status=400)
        body = render(
            "error.html", {"heading": "Not here", "message": str(error), "section": name}, args, database.name
        )
        return Response.html(body, status=404)
    except ChipwatchError as error:
        body = render(
            "error.html", {"heading": "Cannot show this", "message": str(error), "section": name}, args, database.name
        )
        return Response.html(body, status=500)
    return Response.html(render(template, {**context, "section": name}, args, database.name))


async def _today(datasette: Any, request: Any) -> Response:
    return await _page(datasette, request, "today.html", "today", pages.today)


async def _stories(datasette: Any, request: Any) -> Response:
    args = {key: request.args.get(key) for key in request.args}
    return await _page(datasette, request, "stories.html", "stories", lambda db: pages.stories(db, args))


async def _story(datasette: Any, request: Any) -> Response:
    story_id = int(request.url_vars["story_id"])
    return await _page(datasette, request, "story.html", "stories", lambda db: pages.story(db, story_id))


async def _find(datasette: Any, request: Any) -> Response:
    args = {key: request.args.get(key) for key in request.args}
    return await _page(datasette, request, "find.html", "find", lambda db: pages.find(db, args))


async def _article(datasette: Any, request: Any) -> Response:
    article_id = int(request.url_vars["article_id"])
    return await _page(datasette, request, "article.html", "", lambda db: pages.article(db, article_id))


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
