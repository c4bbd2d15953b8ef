"""Politeness shared by every worker of a cluster, through Redis: a site's limit of requests in flight,
the pause a Retry-After asks for, and robots.txt (fetched once for the cluster, not once per worker).

On one machine spiders/middlewares.py keeps the same rules in the process; here the counts are Redis's,
with deadlines, so that a worker that dies holding a site's place gives it back when the deadline passes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any, ClassVar

import redis
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

from chipwatch.cluster.connection import Keys
from chipwatch.cluster.queue import OUTAGE
from spiders.middlewares import PoliteRetryMiddleware, _pause

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

SITE_SLOT = "chipwatch_shared_slot"
HANDED_BACK = "chipwatch_handed_back"  # request.meta: not fetched because the worker stopped
ROBOTS_TRIES = 3  # a robots.txt that cannot be fetched lets every page through: it is tried again first
ROBOTS_TTL = 24 * 3600  # seconds a cluster keeps a site's robots.txt
POLL = 0.05  # seconds between tries for a place

# KEYS: slots, pause; ARGV: limit, token, ttl (ms). 1: taken; 0: full; -N: the site is paused for N ms.
_TAKE_PLACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return -paused end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""


def cluster_of(crawler: Crawler) -> tuple[redis.Redis, Keys]:
    found = getattr(crawler, "chipwatch_cluster", None)
    if found is None:
        from scrapy.exceptions import NotConfigured

        raise NotConfigured("not a cluster worker's crawl")
    return found.server, found.keys


class SharedSiteConcurrencyMiddleware:
    """At most CONCURRENT_REQUESTS_PER_DOMAIN requests in flight to one host across the whole cluster."""

    _tokens = itertools.count()
    # Places this process gave back while Redis was away, given back again as soon as it answers: left to
    # their deadline (a download's timeout), one lost release would hold a site's place for every worker.
    _unreleased: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, crawl: Any, server: redis.Redis, keys: Keys, limit: int, hold_seconds: float) -> None:
        self.crawl = crawl
        self.server = server
        self.keys = keys
        self.limit = max(1, limit)
        self.hold_ms = int(hold_seconds * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedSiteConcurrencyMiddleware:
        server, keys = cluster_of(crawler)
        settings = crawler.settings
        # A place is held at most as long as a download may take (then it is the site's again).
        hold = settings.getfloat("DOWNLOAD_TIMEOUT", 30.0) + 10.0
        crawl = crawler.chipwatch_cluster  # type: ignore[attr-defined]
        return cls(crawl, server, keys, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), hold)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.crawl.stopping and not request.meta.get("dont_obey_robotstxt"):
            # The worker is stopping: no new download starts; the request goes back to the queue for the
            # next worker (the spider does not count it as failed, and its lease is handed back).
            request.meta[HANDED_BACK] = True
            raise IgnoreRequest("the worker is stopping: handed back")
        host = urlparse_cached(request).hostname or ""
        token = f"{self.me}:{next(self._tokens)}"
        slots, pause = self.keys.site_slots(host), self.keys.site_pause(host)
        while True:
            try:
                self._give_back_unreleased()
                answer = int(self.server.eval(_TAKE_PLACE, 2, slots, pause, self.limit, token, self.hold_ms))
            except OUTAGE:  # Redis restarting: the request waits for it, it does not fail
                answer = -500
            if answer == 1:
                break
            await _pause(min(-answer / 1000, 5.0) if answer < 0 else POLL)
        request.meta[SITE_SLOT] = (slots, token)
        return None

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        self._release(request)
        return None

    def _release(self, request: Request) -> None:
        held = request.meta.pop(SITE_SLOT, None)
        if held is not None:
            self._unreleased.append(held)
        with contextlib.suppress(*OUTAGE):  # kept, and given back on the next request
            self._give_back_unreleased()

    def _give_back_unreleased(self) -> None:
        while self._unreleased:
            slots, token = self._unreleased[-1]
            self.server.zrem(slots, token)
            self._unreleased.pop()


class SharedPoliteRetryMiddleware(PoliteRetryMiddleware):
    """Retries as on one machine; a Retry-After pauses the site for every worker, not just this one."""

    def _slow_down(self, request: Request, seconds: float) -> None:
        super()._slow_down(request, seconds)
        server, keys = cluster_of(self.crawler)
        host = urlparse_cached(request).hostname or ""
        pause_ms = int(min(seconds, self.max_wait) * 1000)
        if pause_ms > 0:
            # Never shortens a longer pause another worker was asked for.
            with contextlib.suppress(*OUTAGE):
                current = server.pttl(keys.site_pause(host))
                if current is None or current < pause_ms:
                    server.set(keys.site_pause(host), "retry-after", px=pause_ms)


class SharedRobotsMiddleware:
    """robots.txt fetched once for the cluster: Scrapy's robots.txt middleware asks for it through the
    downloader, and this answers from Redis when another worker (or this one) fetched it lately. Pages are
    also checked against the cluster's copy here, before Scrapy's own check: a crawl whose own fetch of
    robots.txt failed (a worker stopping, a reset) would otherwise read it as "everything allowed"."""

    CACHED = "chipwatch_robots_cached"
    RECHECK = 30.0  # seconds a worker keeps its parsed copy before asking Redis again

    def __init__(self, server: redis.Redis, keys: Keys, obey: bool = False, agent: str = "") -> None:
        self.server = server
        self.keys = keys
        self.obey = obey
        self.agent = agent
        self._parsed: dict[str, tuple[float, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRobotsMiddleware:
        settings = crawler.settings
        agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or "*"
        return cls(*cluster_of(crawler), obey=settings.getbool("ROBOTSTXT_OBEY"), agent=agent)

    def _rules(self, netloc: str) -> Any:
        """The cluster's parsed copy of a site's robots.txt (None: no copy, or not a 200)."""
        now = time.monotonic()
        kept = self._parsed.get(netloc)
        if kept is not None and now - kept[0] < self.RECHECK:
            return kept[1]
        try:
            cached = self.server.get(self.keys.robots(netloc))
        except OUTAGE:
            return kept[1] if kept is not None else None
        rules = None
        if cached is not None:
            data = json.loads(cached)
            if data.get("status") == 200:
                from protego import Protego

                rules = Protego.parse(data["body"])
        self._parsed[netloc] = (now, rules)
        return rules

    def _forbidden(self, request: Request) -> bool:
        if not self.obey or request.meta.get("dont_obey_robotstxt"):
            return False
        rules = self._rules(urlparse_cached(request).netloc)
        return rules is not None and not rules.can_fetch(request.url, self.agent)

    @staticmethod
    def _is_robots(request: Request) -> bool:
        return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"

    def process_request(self, request: Request, spider: Spider | None = None) -> Response | None:
        if not self._is_robots(request):
            if self._forbidden(request):
                raise IgnoreRequest("Forbidden by robots.txt (the cluster's copy)")
            return None
        try:
            cached = self.server.get(self.keys.robots(urlparse_cached(request).netloc))
        except OUTAGE:
            cached = None  # fetched from the site instead
        if cached is None:
            return None
        data: dict[str, Any] = json.loads(cached)
        request.meta[self.CACHED] = True
        return Response(request.url, status=data["status"], body=data["body"].encode("utf-8"), request=request)

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> Request | None:
        # Scrapy reads a robots.txt it could not fetch as "everything allowed"; a passing failure (a worker
        # busy waiting for Redis, a reset) must not open a site's disallowed pages: it is tried again.
        tries = request.meta.get("chipwatch_robots_tries", 0)
        if not self._is_robots(request) or tries + 1 >= ROBOTS_TRIES:
            return None
        again = request.replace(dont_filter=True)
        again.meta["chipwatch_robots_tries"] = tries + 1
        return again

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if self._is_robots(request) and not request.meta.get(self.CACHED) and response.status < 500:
            body = response.body.decode("utf-8", "replace")
            record = json.dumps({"status": response.status, "body": body})
            with contextlib.suppress(*OUTAGE):
                self.server.set(self.keys.robots(urlparse_cached(request).netloc), record, ex=ROBOTS_TTL)
        return response
