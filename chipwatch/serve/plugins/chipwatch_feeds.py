"""A Datasette plugin that publishes chipwatch's Atom feeds beside Datasette's pages, read-only:
/feeds/all.atom, /feeds/topic/ID.atom, /feeds/story/N.atom and /feeds/watch/NAME.atom, the same documents
`chipwatch feed` prints (?limit=N, at most 1000)."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import Response

from chipwatch.errors import QueryError
from chipwatch.feeds.selection import DEFAULT_LIMIT, render_feed

ATOM_TYPE = "application/atom+xml; charset=utf-8"


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/feeds/all\.atom$", _all),
        (r"^/feeds/(?P<kind>topic|story|watch)/(?P<value>[^/]+)\.atom$", _one),
    ]


async def _all(datasette: Any, request: Any) -> Response:
    return await _feed(datasette, request, "all")


async def _one(datasette: Any, request: Any) -> Response:
    return await _feed(datasette, request, f"{request.url_vars['kind']}:{request.url_vars['value']}")


async def _feed(datasette: Any, request: Any, spec: str) -> Response:
    try:
        limit = min(max(int(request.args.get("limit", DEFAULT_LIMIT)), 1), 1000)
    except ValueError:
        return Response.text("limit: a whole number from 1 to 1000\n", status=400)
    public_url = (datasette.plugin_config("chipwatch_feeds") or {}).get("public_url") or ""
    if not public_url:
        public_url = f"{request.scheme}://{request.host}"

    def build(conn: Any) -> bytes:
        return render_feed(sqlite_utils.Database(conn), spec, limit, public_url)

    try:
        body = await datasette.get_database().execute_fn(build)
    except QueryError as error:
        return Response.text(f"{error}\n", status=404)
    return Response(body, content_type=ATOM_TYPE, headers={"Cache-Control": "max-age=300"})
