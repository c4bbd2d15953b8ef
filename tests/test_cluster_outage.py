"""A Redis restart seen from inside one worker, against a real redis-server: the questions a document's parse
asks wait for Redis instead of breaking the parse off (which lost the rest of a sitemap's links), and a
site's place given back while Redis was away is given back when it returns (left to its deadline, it held
the demo network's one host for 40 s). The whole crawl through a restart is in test_cluster_faults.py."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import redis
from scrapy import Request

from chipwatch.cluster.connection import Keys
from chipwatch.cluster.politeness import SITE_SLOT, SharedSiteConcurrencyMiddleware
from chipwatch.cluster.stored import SharedIndex


def restart_later(redis_server, after: float = 1.0) -> threading.Thread:
    """Redis stopped now, started again `after` seconds later (its AOF keeps what it held)."""
    redis_server.stop()
    thread = threading.Thread(target=lambda: (time.sleep(after), redis_server.start()))
    thread.start()
    return thread


def test_a_page_asked_about_while_redis_restarts_is_answered_once_it_is_back(redis_server):
    keys = Keys("outage")
    server = redis.Redis.from_url(redis_server.url)
    server.hset(keys.stored, "https://example.org/a", "2025-12-09T00:00:00Z")
    server.hset(keys.site_names, "example.org", '["Example Wire"]')
    index = SharedIndex(server, keys)
    thread = restart_later(redis_server)
    try:
        started = time.monotonic()
        assert index.stored_since("https://example.org/a") == "2025-12-09T00:00:00Z"
        assert time.monotonic() - started >= 0.5  # it waited for the restart rather than failing
        assert index.stored_since("https://example.org/b") is None
        assert index.site_names("example.org") == {"Example Wire"}
    finally:
        thread.join()


def take_place_at_once(middleware: SharedSiteConcurrencyMiddleware, request: Request) -> None:
    """process_request run to its end without waiting: a request that would have to wait for the site's
    place fails here at once (rather than after the place's 40-second deadline)."""
    step = middleware.process_request(request)
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise AssertionError(f"{request.url} had to wait for the site's place")


def middleware(server: redis.Redis, keys: Keys) -> SharedSiteConcurrencyMiddleware:
    return SharedSiteConcurrencyMiddleware(SimpleNamespace(stopping=False), server, keys, limit=1, hold_seconds=40)


def test_a_place_given_back_while_redis_is_away_is_freed_when_it_returns(redis_server):
    keys = Keys("outage")
    server = redis.Redis.from_url(redis_server.url)
    first, second = middleware(server, keys), middleware(server, keys)  # two crawls of one worker
    page = Request("http://127.0.0.1:9/one.html")
    take_place_at_once(first, page)
    slots, token = page.meta[SITE_SLOT]
    assert server.zscore(slots, token) is not None

    redis_server.stop()
    first.process_response(page, None)  # Redis away: the place cannot be given back yet
    redis_server.start()
    assert server.zscore(slots, token) is not None  # still held in Redis: the release did not reach it

    other = Request("http://127.0.0.1:9/two.html")
    take_place_at_once(second, other)  # limit 1: the place is free only if the first was given back
    assert server.zscore(slots, token) is None
    assert server.zscore(slots, other.meta[SITE_SLOT][1]) is not None
    second.process_response(other, None)
    assert server.zcard(slots) == 0
