"""The one daemon that schedules a cluster's crawls, wherever it runs: a lease in Redis, renewed while it
runs. A second daemon (another machine, another database) refuses to start instead of queueing every
crawl twice; a daemon that died leaves the lease to run out."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from typing import Any

from chipwatch.cluster.connection import Keys, connect
from chipwatch.config import Options
from chipwatch.errors import ClusterError
from pipeline.dates import utc_now_iso

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SchedulerLock:
    def __init__(self, options: Options) -> None:
        self.server: Any = connect(options.cluster)
        self.key = Keys(options.cluster.prefix).scheduler_lock
        self.ttl_ms = int(options.cluster.heartbeat_timeout * 1000)
        self.token = json.dumps(
            {"host": socket.gethostname(), "pid": os.getpid(), "since": utc_now_iso(), "db": str(options.storage.db)}
        )

    def acquire(self) -> None:
        if self.server.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return
        raw = self.server.get(self.key)
        try:
            holder = json.loads(raw) if raw else {}
        except ValueError:
            holder = {}
        raise ClusterError(
            "another chipwatch daemon schedules this cluster's crawls: "
            f"PID {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')} "
            f"(database {holder.get('db', '?')}); one daemon per cluster"
        )

    def renew(self) -> bool:
        """False when the lease was lost (this daemon stalled past it, and another may have taken over)."""
        return bool(self.server.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))

    def release(self) -> None:
        with contextlib.suppress(Exception):  # Redis gone: the lease runs out by itself
            self.server.eval(_RELEASE, 1, self.key, self.token)
