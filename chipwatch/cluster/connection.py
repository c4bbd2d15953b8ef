"""The cluster's Redis: one client from [cluster], and the names of every key it keeps there."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import redis

from chipwatch.config import ClusterOptions
from chipwatch.errors import ClusterError

__all__ = ["ClusterError", "Keys", "connect"]


def connect(cluster: ClusterOptions, *, timeout: float = 10.0) -> redis.Redis:
    """A client for the cluster's Redis, checked with a PING (a clear one-line error when it is down)."""
    if not cluster.enabled:
        raise ClusterError("no cluster configured: set [cluster] redis or $CHIPWATCH_CLUSTER_REDIS")
    client = redis.Redis.from_url(
        cluster.redis,
        password=cluster.password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry_on_timeout=True,
        health_check_interval=30,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        raise ClusterError(f"cannot reach the cluster's Redis at {safe_address(cluster.redis)}: {error}") from None
    return client


def safe_address(url: str) -> str:
    """The address as it may be printed (it never holds a password: config refuses one)."""
    return url.split("@")[-1]


def scrapy_redis_params(cluster: ClusterOptions) -> dict[str, Any]:
    """scrapy-redis's REDIS_URL and REDIS_PARAMS for the same Redis (the password from the environment)."""
    params: dict[str, Any] = {"socket_timeout": 30, "socket_connect_timeout": 30, "retry_on_timeout": True}
    if cluster.password:
        params["password"] = cluster.password
    return {"REDIS_URL": cluster.redis, "REDIS_PARAMS": params}


def process_name(role: str) -> str:
    """worker@host:pid — how a worker or writer is named in status and in the stream's consumers."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Keys:
    """Every key of one cluster, under its prefix."""

    prefix: str = "chipwatch"

    def _(self, *parts: object) -> str:
        return ":".join([self.prefix, *(str(part) for part in parts)])

    # crawls waiting for a worker (a list of job ids), taken ones (a sorted set: id -> lease deadline),
    # and each job's definition (a string of JSON)
    @property
    def jobs_waiting(self) -> str:
        return self._("jobs", "waiting")

    @property
    def jobs_taken(self) -> str:
        return self._("jobs", "taken")

    def job(self, run_id: int) -> str:
        return self._("job", run_id)

    def job_holder(self, run_id: int) -> str:
        return self._("job", run_id, "holder")

    # one crawl's page requests (scrapy-redis's queue and duplicate filter), and its counts
    def requests(self, run_id: int) -> str:
        return self._("run", run_id, "requests")

    def dupefilter(self, run_id: int) -> str:
        return self._("run", run_id, "dupefilter")

    def counts(self, run_id: int) -> str:
        return self._("run", run_id, "counts")

    def pages_by_worker(self, run_id: int) -> str:
        return self._("run", run_id, "workers")

    def run_keys(self, run_id: int) -> list[str]:
        keys = [self.dupefilter(run_id)]
        for queue in (self.requests(run_id), self.requests(run_id) + ":discovery"):
            keys += [queue, queue + ":taken", queue + ":scores"]
        return keys

    # results on their way to the writer
    @property
    def results(self) -> str:
        return self._("results")

    WRITERS = "writers"  # the stream's consumer group

    # workers and writers seen, with their heartbeats and counts (a hash: name -> JSON)
    @property
    def workers(self) -> str:
        return self._("workers")

    # what the writer shares: pages stored (url -> first stored at), site names learned (host -> JSON list)
    @property
    def stored(self) -> str:
        return self._("stored")

    @property
    def stored_of(self) -> str:
        return self._("stored", "database")

    @property
    def site_names(self) -> str:
        return self._("site-names")

    # politeness shared by every worker
    def site_slots(self, host: str) -> str:
        return self._("site", host, "slots")

    def site_pause(self, host: str) -> str:
        return self._("site", host, "pause")

    def robots(self, netloc: str) -> str:
        return self._("robots", netloc)

    # the one daemon that schedules
    @property
    def scheduler_lock(self) -> str:
        return self._("daemon")
