"""JSON for what travels through Redis (scrapy-redis's SCHEDULER_SERIALIZER, and the stream's items).

scrapy-redis pickles requests by default; anything that can write to the Redis could then run code on every
worker. JSON carries only data: bytes tagged as base64, and the few dataclasses a request or an item holds
(entries, topic scores), named in KNOWN.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from chipwatch.crawl.runbook import RunEnd
from pipeline.items import ArticleItem, TopicScore
from spiders.base import CrawlState
from spiders.entries import Entry
from storage.crawl_state import Pagination

KNOWN: dict[str, type] = {
    "entry": Entry,
    "topic": TopicScore,
    "article": ArticleItem,
    "run-end": RunEnd,
    "crawl-state": CrawlState,
    "pagination": Pagination,
}
_NAMES = {cls: name for name, cls in KNOWN.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    name = _NAMES.get(type(value))
    if name is not None:
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$" + name: fields}
    if isinstance(value, dict):
        return {str(_text(key)): _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Headers and the like: a mapping of bytes to lists of bytes.
    if hasattr(value, "items"):
        return {str(_text(key)): _encode(item) for key, item in value.items()}
    raise TypeError(f"cannot send a {type(value).__name__} through the cluster")


def _text(key: Any) -> Any:
    return key.decode("latin-1") if isinstance(key, bytes) else key


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$b":
                return base64.b64decode(inner)
            if key.startswith("$") and key[1:] in KNOWN:
                cls = KNOWN[key[1:]]
                names = {f.name for f in dataclasses.fields(cls)}
                return cls(**{name: _decode(item) for name, item in inner.items() if name in names})
        return {key: _decode(item) for key, item in value.items()}
    return value


def dumps(obj: Any) -> bytes:
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return _decode(json.loads(data))
