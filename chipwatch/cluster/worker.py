"""`chipwatch worker`: take source crawls from the cluster's Redis and run them, up to N at a time.

Each crawl runs its source's own spider over the snapshot it came with, with scrapy-redis's scheduler and
duplicate filter (per crawl, kept in Redis) and the page half of the pipeline; results go to the stream.
The worker sends a heartbeat every second (status shows it) and renews the leases of what it holds.
SIGTERM (or Ctrl-C): no new crawls; those running stop, hand back what they had not finished, exit 0.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from typing import Any

import redis
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.reactor import install_reactor

from chipwatch.cluster import stream
from chipwatch.cluster.connection import Keys, connect, process_name, scrapy_redis_params
from chipwatch.cluster.jobs import Job, JobQueue
from chipwatch.cluster.queue import renew, through_outage
from chipwatch.cluster.reporting import WorkerCrawl
from chipwatch.cluster.stored import SharedIndex
from chipwatch.config import Options
from chipwatch.crawl.runbook import RunEnd
from chipwatch.crawl.settings import PAGE_STAGES, scrapy_settings
from pipeline.dates import utc_now_iso
from spiders.view import SnapshotView

log = logging.getLogger("chipwatch.cluster.worker")
DEFAULT_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TICK = 0.5  # seconds between looks at the queue
HELP_LOOK = 2.0  # seconds between looks for a crawl to help with
HELP_WHEN_WAITING = 8  # article pages waiting in a crawl's queue before other workers help
HEARTBEAT = 1.0


def worker_settings(options: Options, *, log_level: str) -> dict[str, Any]:
    """A worker's Scrapy settings: one machine's politeness and page half, Redis's scheduler, the stream."""
    settings = scrapy_settings(options, log_level=log_level)
    stages = {name: order for name, order in PAGE_STAGES.items() if not name.endswith(".SiteNameStage")}
    stages["chipwatch.cluster.reporting.SharedSiteNameStage"] = PAGE_STAGES["pipeline.stages.SiteNameStage"]
    stages["chipwatch.cluster.reporting.StreamStage"] = 400
    middlewares = dict(settings["DOWNLOADER_MIDDLEWARES"])
    middlewares.pop("spiders.middlewares.PoliteRetryMiddleware")
    middlewares.pop("spiders.middlewares.SiteConcurrencyMiddleware")
    middlewares.update(
        {
            "chipwatch.cluster.politeness.SharedRobotsMiddleware": 50,
            "chipwatch.cluster.politeness.SharedPoliteRetryMiddleware": 550,
            "chipwatch.cluster.politeness.SharedSiteConcurrencyMiddleware": 990,
        }
    )
    settings.update(
        {
            "ITEM_PIPELINES": stages,
            "DOWNLOADER_MIDDLEWARES": middlewares,
            "SPIDER_MIDDLEWARES": {"chipwatch.cluster.reporting.LeaseMiddleware": 900},
            "EXTENSIONS": {"chipwatch.cluster.reporting.ClusterReporter": 500},
            "SCHEDULER": "chipwatch.cluster.queue.ClusterScheduler",
            "SCHEDULER_QUEUE_CLASS": "chipwatch.cluster.queue.LeasedQueue",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_SERIALIZER": "chipwatch.cluster.serializer",
            "SCHEDULER_PERSIST": True,  # a crawl stopped on one worker goes on on the next, where it was
            "CHIPWATCH_VISIBILITY_TIMEOUT": options.cluster.visibility_timeout,
            "CHIPWATCH_DB": "",  # a worker has no database
            **scrapy_redis_params(options.cluster),
        }
    )
    return settings


class WorkerProcess(CrawlerProcess):
    """Scrapy's process, told when a stop signal arrives so that the worker takes no new crawl."""

    worker: Worker

    def _signal_shutdown(self, signum: int, _: Any) -> None:
        self.worker.stopping = True
        for crawler in [*self.worker.running.values(), *self.worker.helping.values()]:
            crawler.chipwatch_cluster.stopping = True  # type: ignore[attr-defined]
        super()._signal_shutdown(signum, _)


class Worker:
    def __init__(self, options: Options, concurrency: int, *, verbose: bool = False) -> None:
        self.options = options
        self.concurrency = max(1, concurrency)
        self.verbose = verbose
        self.name = process_name("worker")
        self.server = connect(options.cluster)
        self.keys = Keys(options.cluster.prefix)
        self.jobs = JobQueue(self.server, self.keys, options.cluster.heartbeat_timeout)
        self.index = SharedIndex(self.server, self.keys)
        self.running: dict[int, Crawler] = {}  # crawls this worker owns
        self.helping: dict[int, Crawler] = {}  # crawls whose pages it helps fetch
        self._last_help = 0.0
        self.stopping = False
        self.started = utc_now_iso()
        self.crawls_done = 0
        self.pages = 0
        self.errors = 0
        self._last_beat = 0.0

    def run(self) -> int:
        from chipwatch.crawl.in_process import SPIDERS  # the spider for each kind of source
        from pipeline.stages import preload_classifier

        # A broken topics or model file stops the worker with one line before it takes a crawl it could not tag.
        preload_classifier(self.options.classify.topics, self.options.classify.model)
        self.spiders = SPIDERS
        settings = worker_settings(self.options, log_level="INFO" if self.verbose else "ERROR")
        self.process = WorkerProcess(settings)
        # Scrapy's reactor, installed before anything imports Twisted's default one.
        install_reactor(self.process.settings["TWISTED_REACTOR"] or DEFAULT_REACTOR)
        self.process.worker = self
        if not self.verbose:
            logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
        from twisted.internet import reactor, task

        loop = task.LoopingCall(self._tick)
        reactor.callWhenRunning(lambda: loop.start(TICK).addErrback(self._tick_failed))
        log.info("%s: taking crawls from %s", self.name, self.keys.jobs_waiting)
        try:
            self.process.start(stop_after_crawl=False)
        finally:
            self._beat(state="stopped")
        return 0

    def _tick_failed(self, failure: Any) -> None:
        log.error("worker loop failed: %s", failure.getErrorMessage())
        from twisted.internet import reactor

        self.stopping = True
        reactor.callLater(0, self.process._graceful_stop_reactor)  # type: ignore[arg-type]

    def _tick(self) -> None:
        try:
            self._look()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as error:
            # Redis restarting: the crawls running carry on; the next tick tries again.
            log.warning("the cluster's Redis is unreachable (%s); retrying", error)

    def _look(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT:
            self._last_beat = now
            self._renew()
            self._beat(state="stopping" if self.stopping else "running")
        while not self.stopping and self._room():
            job = self.jobs.take(self.name)
            if job is None:
                break
            self._start(job)
        if not self.stopping and self._room() and now - self._last_help >= HELP_LOOK:
            self._last_help = now
            self._help()

    def _room(self) -> bool:
        return len(self.running) + len(self.helping) < self.concurrency

    def _help(self) -> None:
        """With room to spare, help fetch the article pages of a crawl another worker owns, when many wait."""
        taken: Any = self.server.zrange(self.keys.jobs_taken, 0, -1)
        for raw in taken:
            run_id = int(raw)
            if run_id in self.running or run_id in self.helping:
                continue
            if self.server.zcard(self.keys.requests(run_id)) < HELP_WHEN_WAITING:
                continue
            text = self.server.get(self.keys.job(run_id))
            if text is not None:
                self._start(Job.from_json(text), helper=True)
            if not self._room():
                return

    def _renew(self) -> None:
        self.jobs.renew(list(self.running))
        visibility = int(self.options.cluster.visibility_timeout * 1000)
        for crawler in [*self.running.values(), *self.helping.values()]:
            held = getattr(crawler, "chipwatch_held", None)
            if held:
                renew(self.server, list(held), visibility)

    def _beat(self, state: str) -> None:
        crawls = [c.chipwatch_cluster for c in [*self.running.values(), *self.helping.values()]]  # type: ignore[attr-defined]
        pages = self.pages + sum(crawl.pages for crawl in crawls)
        errors = self.errors + sum(crawl.errors for crawl in crawls)
        record = {
            "name": self.name,
            "role": "worker",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "state": state,
            "started_at": self.started,
            "last_heartbeat": utc_now_iso(),
            "pages_fetched": pages,
            "errors": errors,
            "crawls_running": sorted(self.running),
            "crawls_helped": sorted(self.helping),
            "crawls_done": self.crawls_done,
            "concurrency": self.concurrency,
        }
        try:
            self.server.hset(self.keys.workers, self.name, json.dumps(record))
        except Exception as error:  # Redis restarting: the next beat says it again
            log.warning("heartbeat not sent: %s", error)

    def _start(self, job: Job, *, helper: bool = False) -> None:
        spider = self.spiders.get(job.source.kind)
        if spider is None:  # a newer writer's kind of source: another worker may know it
            log.error("crawl %s: unknown kind of source %r; handed back", job.run_id, job.source.kind)
            self.jobs.hand_back(job.run_id)
            self.stopping = True
            return
        crawler = self.process.create_crawler(spider)
        crawler.settings.setdict(
            {
                "SCHEDULER_QUEUE_KEY": self.keys.requests(job.run_id),
                "SCHEDULER_DUPEFILTER_KEY": self.keys.dupefilter(job.run_id),
                "CHIPWATCH_CLUSTER_ROLE": "helper" if helper else "owner",
            },
            priority="spider",
        )
        crawl = WorkerCrawl(self.server, self.keys, job.run_id, self.name, self.index, helper=helper)
        crawler.chipwatch_cluster = crawl  # type: ignore[attr-defined]
        (self.helping if helper else self.running)[job.run_id] = crawler
        log.info("crawl %s: %s%s", job.run_id, job.source.name, " (helping)" if helper else "")
        view = SnapshotView(job.snapshot, self.index.stored_since)
        done = self.process.crawl(crawler, source=job.source, view=view, shared_dedupe=True)
        done.addBoth(lambda result: self._finished(job, crawler, result))

    def _finished(self, job: Job, crawler: Crawler, result: Any) -> None:
        crawl: WorkerCrawl = crawler.chipwatch_cluster  # type: ignore[attr-defined]
        self.pages += crawl.pages
        self.errors += crawl.errors
        if crawl.helper:
            self.helping.pop(job.run_id, None)  # the owner ends the crawl; a helper only stops helping
            return None
        self.running.pop(job.run_id, None)
        end = crawl.end
        if end is None and not self.stopping:
            # The crawl could not start (its spider refused the source): it ends as failed, with the reason.
            reason = result.getErrorMessage() if hasattr(result, "getErrorMessage") else "the spider did not start"
            log.error("crawl %s: did not start: %s", job.run_id, reason)
            crawl.send(
                crawler, "error", {"url": job.source.url, "kind": "worker", "message": reason[:500], "fatal": True}
            )
            end = RunEnd(reason="failed", source_failed=True, fatal_error=f"worker: {reason[:500]}")
        try:
            if end is None or (end.reason == "shutdown" and self.stopping):
                # Stopped with the worker: the next worker takes it up where it stopped.
                self.jobs.hand_back(job.run_id)
                log.info("crawl %s: handed back", job.run_id)
            else:
                ending = end

                def send_end() -> None:
                    pipe = self.server.pipeline()
                    stream.add(pipe, self.keys, "end", job.run_id, self.name, ending)
                    self.jobs.finish(job.run_id, pipe)
                    pipe.execute()

                through_outage(send_end)
                self.crawls_done += 1
                log.info("crawl %s: %s", job.run_id, end.reason)
        except Exception as error:  # Redis gone: the lease runs out and another worker crawls it again
            log.error("crawl %s: its end not sent (%s); it will be taken up again", job.run_id, error)
        return None
