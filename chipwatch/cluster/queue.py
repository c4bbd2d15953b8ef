"""scrapy-redis's scheduler with requests that cannot be lost: taking one leases it.

scrapy-redis pops a request off its queue; a worker killed before the page is handled would lose it. Here a
taken request moves to a `taken` set with a deadline (the visibility timeout) and leaves it only when its
outcome is on its way to the writer (the item added to the stream, the failure reported, or the discovery
document read): a request whose worker died comes back to the queue when its deadline passes, and another
worker fetches it again. The worker renews the deadlines of the requests it is still working on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

if TYPE_CHECKING:
    import redis
    from scrapy import Request
    from scrapy.crawler import Crawler

LEASE = "chipwatch_lease"  # request.meta: the queue entry a taken request came from

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


def taken_key(queue_key: str) -> str:
    return queue_key + ":taken"


def scores_key(queue_key: str) -> str:
    return queue_key + ":scores"


def settle(server: redis.Redis, queue_key: str, member: str | bytes, pipe: Any = None) -> None:
    """A taken request is done with (in `pipe`, when given, so that it goes with what it produced)."""
    target = pipe if pipe is not None else server.pipeline()
    target.zrem(taken_key(queue_key), member)
    target.hdel(scores_key(queue_key), member)
    if pipe is None:
        target.execute()


def renew(server: redis.Redis, queue_key: str, members: list[Any], visibility_ms: int) -> None:
    if members:
        server.eval(_RENEW, 1, taken_key(queue_key), visibility_ms, *members)


def hand_back(server: redis.Redis, queue_key: str, members: list[Any]) -> None:
    if members:
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
        request.meta[LEASE] = member.decode("utf-8") if isinstance(member, bytes) else member
        self.held.add(request.meta[LEASE])
        return request

    def push(self, request: Request) -> None:
        # A retry or a redirect carries its parent's lease: it takes the parent's place in one step, so that
        # neither is lost nor fetched twice.
        lease = request.meta.pop(LEASE, None)
        data = self._encode_request(request)
        pipe = self.server.pipeline()
        pipe.execute_command("ZADD", self.key, -request.priority, data)
        if lease is not None:
            settle(self.server, self.key, lease, pipe)
            self.held.discard(lease)
        pipe.execute()

    def taken(self) -> int:
        return int(self.server.zcard(taken_key(self.key)))


class ClusterScheduler(Scheduler):
    """scrapy-redis's Scheduler over a LeasedQueue; a crawl is not over while another worker's requests for
    it are still taken (they may come back)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler: ClusterScheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider: Any) -> None:
        super().open(spider)
        self.queue.visibility_ms = int(self.crawler.settings.getfloat("CHIPWATCH_VISIBILITY_TIMEOUT", 60.0) * 1000)
        self.queue.held = set()
        self.crawler.chipwatch_queue = self.queue  # the worker renews and settles what it holds

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0 or self.queue.taken() > len(self.queue.held)

    def close(self, reason: str) -> None:
        # The queue and the duplicate filter outlive this process (SCHEDULER_PERSIST): a crawl stopped here is
        # taken up by the next worker where it stopped. What this process still held goes back at once.
        hand_back(self.server, self.queue.key, list(self.queue.held))
        self.queue.held.clear()
        super().close(reason)
