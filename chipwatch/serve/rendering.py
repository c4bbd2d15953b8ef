"""Rendering the reading room's pages: one Jinja environment, autoescaping everything; the only markup a
page gets unescaped is the server's own (charts it drew, <mark> around matched words after escaping)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from chipwatch.serve.pages import MARK

_environment = Environment(
    loader=PackageLoader("chipwatch.serve", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _marked(text: str) -> Markup:
    plain = str(escape(text.replace("<mark>", "").replace("</mark>", "")))
    return Markup(plain.replace(MARK[0], "<mark>").replace(MARK[1], "</mark>"))


_environment.filters["marked"] = _marked


def render(template: str, context: dict[str, Any], args: dict[str, str], database: str) -> str:
    def query_for(page: int) -> str:
        return urllib.parse.urlencode({**{k: v for k, v in args.items() if v and k != "page"}, "page": page})

    return _environment.get_template(template).render(**context, query_for=query_for, database=database)
