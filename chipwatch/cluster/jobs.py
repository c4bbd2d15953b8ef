"""Source crawls waiting for a worker, taken with a lease.

The writer queues one job per crawl run: the source's definition and a snapshot of what the spider asks of
the database (spiders/view.py). A worker takes a job and renews its lease while it crawls; a job whose lease
runs out (its worker died) goes back to the front of the line, and the next worker takes it up where the
crawl's own queue of page requests stopped (queue.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import redis

from chipwatch.cluster.connection import Keys
from spiders.sources import Source
from spiders.view import ViewSnapshot

# KEYS: waiting, taken; ARGV: lease (ms). Jobs whose lease ran out first, at the front of the line.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, job in ipairs(expired) do
  redis.call('ZREM', KEYS[2], job)
  redis.call('LPUSH', KEYS[1], job)
end
local job = redis.call('LPOP', KEYS[1])
if not job then return false end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), job)
return job
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return renewed
"""


@dataclass(frozen=True)
class Job:
    run_id: int
    source: Source
    snapshot: ViewSnapshot
    writer: str  # who queued it

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "source": asdict(self.source),
                "snapshot": self.snapshot.to_json(),
                "writer": self.writer,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Job:
        data: dict[str, Any] = json.loads(text)
        source = dict(data["source"])
        source["domains"] = tuple(source.get("domains") or ())
        return cls(int(data["run_id"]), Source(**source), ViewSnapshot.from_json(data["snapshot"]), data["writer"])


class JobQueue:
    def __init__(self, server: redis.Redis, keys: Keys, lease_seconds: float) -> None:
        self.server = server
        self.keys = keys
        self.lease_ms = int(lease_seconds * 1000)

    def put(self, job: Job) -> None:
        pipe = self.server.pipeline()
        pipe.set(self.keys.job(job.run_id), job.to_json())
        pipe.rpush(self.keys.jobs_waiting, job.run_id)
        pipe.execute()

    def take(self, worker: str) -> Job | None:
        """The next crawl for this worker, leased; None when none waits."""
        while True:
            taken = self.server.eval(_TAKE, 2, self.keys.jobs_waiting, self.keys.jobs_taken, self.lease_ms)
            if not taken:
                return None
            run_id = int(taken)
            text = self.server.get(self.keys.job(run_id))
            if text is None:  # finished meanwhile by its last worker: nothing left to do
                self.server.zrem(self.keys.jobs_taken, run_id)
                continue
            self.server.set(self.keys.job_holder(run_id), worker)
            return Job.from_json(text)

    def renew(self, run_ids: list[int]) -> None:
        if run_ids:
            self.server.eval(_RENEW, 1, self.keys.jobs_taken, self.lease_ms, *run_ids)

    def hand_back(self, run_id: int) -> None:
        """A crawl this worker stops before its end: at the front of the line again, for the next worker."""
        pipe = self.server.pipeline()
        pipe.zrem(self.keys.jobs_taken, run_id)
        pipe.delete(self.keys.job_holder(run_id))
        pipe.lpush(self.keys.jobs_waiting, run_id)
        pipe.execute()

    def finish(self, run_id: int, pipe: Any) -> None:
        """The crawl is over (in pipe, with its last event): its job and its page queue go."""
        pipe.zrem(self.keys.jobs_taken, run_id)
        pipe.delete(self.keys.job(run_id), self.keys.job_holder(run_id), *self.keys.run_keys(run_id))

    def lengths(self) -> dict[str, int]:
        return {
            "waiting": int(self.server.llen(self.keys.jobs_waiting)),
            "taken": int(self.server.zcard(self.keys.jobs_taken)),
        }
