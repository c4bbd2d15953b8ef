"""Small readers of a Scrapy response that every spider needs."""

from __future__ import annotations

from scrapy.http import Response


def header(response: Response, name: str) -> str | None:
    """A header's value as text (headers are bytes in Scrapy), or None when the response has none."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
