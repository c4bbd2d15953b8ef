"""What `status` shows of a cluster: its workers and writers, and how long its queues are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from chipwatch.cluster.connection import Keys, connect, safe_address
from chipwatch.cluster.jobs import JobQueue
from chipwatch.cluster.stream import Reader
from chipwatch.config import Options
from pipeline.dates import parse_date

FORGET_AFTER = 7 * 24 * 3600  # a member silent this long is no longer listed


def members(server: redis.Redis, keys: Keys, options: Options) -> list[dict[str, Any]]:
    """Workers and writers seen, newest heartbeat first, each with `alive` (a recent heartbeat)."""
    now = datetime.now(UTC)
    found = []
    for name, raw in server.hgetall(keys.workers).items():
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        beat = parse_date(record.get("last_heartbeat"))
        age = (now - beat).total_seconds() if beat is not None else None
        if age is not None and age > FORGET_AFTER:
            server.hdel(keys.workers, name)
            continue
        record["seconds_since_heartbeat"] = round(age, 1) if age is not None else None
        record["alive"] = (
            record.get("state") != "stopped" and age is not None and age <= options.cluster.heartbeat_timeout
        )
        found.append(record)
    return sorted(found, key=lambda r: r.get("last_heartbeat") or "", reverse=True)


def cluster_status(options: Options) -> dict[str, Any]:
    """The cluster's members and queue lengths, or its error when its Redis cannot be reached."""
    try:
        server = connect(options.cluster, timeout=3.0)
    except Exception as error:
        return {"redis": safe_address(options.cluster.redis), "error": str(error), "workers": [], "queues": {}}
    keys = Keys(options.cluster.prefix)
    queues: dict[str, int] = {}
    for key, value in JobQueue(server, keys, options.cluster.heartbeat_timeout).lengths().items():
        queues[f"crawls_{key}"] = value
    queues["page_requests"] = sum(int(server.zcard(key)) for key in server.scan_iter(f"{keys.prefix}:run:*:requests"))
    queues["page_requests_taken"] = sum(
        int(server.zcard(key)) for key in server.scan_iter(f"{keys.prefix}:run:*:requests:taken")
    )
    try:
        if server.exists(keys.results):
            queues.update({f"results_{k}": v for k, v in Reader.lengths_of(server, keys).items()})
        else:
            queues.update({"results_stream": 0, "results_unacknowledged": 0})
    except redis.RedisError:
        pass
    return {"redis": safe_address(options.cluster.redis), "workers": members(server, keys, options), "queues": queues}
