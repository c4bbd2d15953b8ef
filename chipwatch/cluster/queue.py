"""scrapy-redis's scheduler with requests that cannot be lost: taking one leases it.

scrapy-redis pops a request off its queue; a worker killed before the page is handled would lose it. Here a
taken request moves to a `taken` set with a deadline (the visibility timeout) and leaves it only when its
outcome is on its way to the writer (the item added to the stream, the failure reported, or the discovery
document read): a request whose worker died comes back to the queue when its deadline passes, and another
worker fetches it again. The worker renews the deadlines of the requests it is still working on.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from redis import exceptions as redis_errors
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

if TYPE_CHECKING:
    import redis
    from scrapy import Request
    from scrapy.crawler import Crawler

LEASE = "chipwatch_lease"  # request.meta: the queue entry a taken request came from
OUTAGE = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.BusyLoadingError)
OUTAGE_WAIT = 60.0  # seconds a request being queued waits for Redis to come back before it fails

# KEYS: queue, taken, scores; ARGV: visibility timeout (ms). Deadlines are Redis's clock, not the workers'.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, member in ipairs(expired) do
  redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[3], member) or 0, member)
  redis.call('ZREM', KEYS[2], member)
end
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), top[1])
redis.call('HSET', KEYS[3], top[1], top[2])
return top[1]
"""
# KEYS: dupefilter, queue, parent's taken, parent's scores; ARGV: fingerprint ('' : not filtered), score,
# data, parent member ('' : none). 1: queued; 0: seen before (the parent is settled either way).
_PUSH = """
if ARGV[4] ~= '' then
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('HDEL', KEYS[4], ARGV[4])
end
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# KEYS: taken; ARGV: visibility timeout (ms), members. Only requests still taken are renewed.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
end
return #ARGV - 1
"""
# KEYS: queue, taken, scores; ARGV: members. Handed back at once (a worker stopping cleanly).
_HAND_BACK = """
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[3], ARGV[i]) or 0, ARGV[i])
  end
end
return #ARGV
"""


def through_outage(action: Any) -> Any:
    """action(), tried again while Redis restarts (up to OUTAGE_WAIT): a request being queued is never
    dropped because Redis was away for a moment. It blocks the worker's loop meanwhile, as nothing else
    could go on without Redis anyway."""
    deadline = time.monotonic() + OUTAGE_WAIT
    while True:
        try:
            return action()
        except OUTAGE:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def taken_key(queue_key: str) -> str:
    return queue_key + ":taken"


def scores_key(queue_key: str) -> str:
    return queue_key + ":scores"


def lease_of(queue_key: str, member: str) -> str:
    """A lease names its queue and its entry (JSON, which never holds a raw newline)."""
    return f"{queue_key}\n{member}"


def _parts(lease: str) -> tuple[str, str]:
    queue_key, member = lease.split("\n", 1)
    return queue_key, member


def settle(server: redis.Redis, lease: str, pipe: Any = None) -> None:
    """A taken request is done with (in `pipe`, when given, so that it goes with what it produced)."""
    queue_key, member = _parts(lease)
    target = pipe if pipe is not None else server.pipeline()
    target.zrem(taken_key(queue_key), member)
    target.hdel(scores_key(queue_key), member)
    if pipe is None:
        target.execute()


def _by_queue(leases: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for lease in leases:
        queue_key, member = _parts(lease)
        found.setdefault(queue_key, []).append(member)
    return found


def renew(server: redis.Redis, leases: list[str], visibility_ms: int) -> None:
    for queue_key, members in _by_queue(leases).items():
        server.eval(_RENEW, 1, taken_key(queue_key), visibility_ms, *members)


def hand_back(server: redis.Redis, leases: list[str]) -> None:
    for queue_key, members in _by_queue(leases).items():
        server.eval(_HAND_BACK, 3, queue_key, taken_key(queue_key), scores_key(queue_key), *members)


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, where pop() leases instead of removing."""

    visibility_ms = 60_000
    held: set[Any]  # members this process took and has not settled: renewed while it works on them

    def pop(self, timeout: int = 0) -> Request | None:
        member = self.server.eval(_TAKE, 3, self.key, taken_key(self.key), scores_key(self.key), self.visibility_ms)
        if not member:
            return None
        request: Request = self._decode_request(member)
        text = member.decode("utf-8") if isinstance(member, bytes) else member
        request.meta[LEASE] = lease_of(self.key, text)
        self.held.add(request.meta[LEASE])
        return request

    def push(self, request: Request, fingerprint: str = "", dupefilter: str = "") -> bool:
        """Queue the request unless the duplicate filter has seen it (both in one step: a Redis that goes
        away in between never leaves a request marked seen but not queued); False when it had. A retry or a
        redirect carries its parent's lease: the parent is settled in the same step, so that neither is
        lost nor fetched twice."""
        lease = request.meta.pop(LEASE, None)
        parent_queue, parent = _parts(lease) if lease is not None else (self.key, "")
        data = self._encode_request(request)
        keys = [dupefilter or self.key + ":none", self.key, taken_key(parent_queue), scores_key(parent_queue)]
        queued = self.server.eval(_PUSH, 4, *keys, fingerprint, -request.priority, data, parent)
        if lease is not None:
            self.held.discard(lease)
        return bool(queued)

    def taken(self) -> int:
        return int(self.server.zcard(taken_key(self.key)))


class ClusterScheduler(Scheduler):
    """scrapy-redis's Scheduler over two LeasedQueues per crawl: its discovery documents (feeds, sitemaps,
    listing pages), read by the worker that owns the crawl, and its article pages, which any worker with
    room may help fetch. A crawl is not over while another worker's requests for it are still taken (they
    may come back)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler: ClusterScheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.helping = crawler.settings.get("CHIPWATCH_CLUSTER_ROLE") == "helper"
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)  # self.queue: the article pages
        visibility = int(self.crawler.settings.getfloat("CHIPWATCH_VISIBILITY_TIMEOUT", 60.0) * 1000)
        self.discovery = LeasedQueue(
            server=self.server, spider=spider, key=self.queue.key + ":discovery", serializer=self.serializer
        )
        held: set[str] = set()  # one set for both: the worker renews what its crawl holds
        for queue in (self.queue, self.discovery):
            queue.visibility_ms = visibility
            queue.held = held
        self.crawler.chipwatch_held = held

    def enqueue_request(self, request: Request) -> bool:
        return bool(through_outage(lambda: self._enqueue(request)))

    def next_request(self) -> Request | None:
        try:
            return self._next()
        except OUTAGE:  # Redis restarting: the engine asks again on its next beat
            return None

    def has_pending_requests(self) -> bool:
        try:
            return self._pending()
        except OUTAGE:  # not over while Redis cannot say: it may still hold the crawl's requests
            return True

    def _enqueue(self, request: Request) -> bool:
        is_page = getattr(request.callback, "__name__", None) == "parse_article"
        if not is_page and self.helping:
            return False  # a helper fetches pages only; the owner reads the source's documents
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        queued = (self.queue if is_page else self.discovery).push(request, fingerprint, self.df.key)
        if not queued:  # a redirect to a page already asked for: its parent is done with
            self.df.log(request, self.spider)
        return queued

    def _next(self) -> Request | None:
        request = None if self.helping else self.discovery.pop()
        return request or self.queue.pop()

    def _pending(self) -> bool:
        if self.helping:
            return len(self.queue) > 0
        waiting = len(self.queue) + len(self.discovery)
        return waiting > 0 or self.queue.taken() + self.discovery.taken() > len(self.queue.held)

    def close(self, reason: str) -> None:
        # The queues and the duplicate filter outlive this process (SCHEDULER_PERSIST): a crawl stopped here
        # is taken up by the next worker where it stopped. What this process still held goes back at once.
        hand_back(self.server, list(self.queue.held))
        self.queue.held.clear()
        super().close(reason)
