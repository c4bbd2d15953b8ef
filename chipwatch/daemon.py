"""`chipwatch daemon` and `chipwatch run-due`: every source on its own schedule, and the daily digest.

The daemon: APScheduler 3 with each source on its cron schedule in the configured timezone, each crawl in
its own process with a time limit, at most one run per source at a time, missed runs coalesced into one
(within a generous misfire grace time). The digest job checks every few minutes whether today's digest is
due in local time; because it asks "has today's gone out?" rather than firing at one instant, a DST change
can neither skip nor double it. SIGTERM/SIGINT stop scheduling and let running crawls finish within the
grace period; SIGHUP reloads the sources file.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from chipwatch.config import Options
from chipwatch.crawl.child_process import run_crawl
from chipwatch.crawl.launcher import CrawlLauncher
from chipwatch.crawl.locks import DaemonLock
from pipeline.dates import to_utc_iso
from spiders.sources import Source, cron_trigger, load_sources
from storage import open_database, opened
from storage.schedule import last_run, record_job, settle_orphans
from storage.sources import sync_sources

if TYPE_CHECKING:
    from sqlite_utils import Database

    from chipwatch.crawl.in_process import RunResult

log = logging.getLogger("chipwatch.daemon")
DIGEST_JOB = "digest"
DIGEST_CHECK = timedelta(minutes=5)
# Watches: matched after every crawl by the crawl itself; this pass retries failed deliveries and catches
# up on articles a killed crawl stored without matching them.
WATCH_JOB = "watches"
WATCH_CHECK = timedelta(minutes=5)
ORPHAN_CHECK_TICKS = 20  # main-loop ticks of 0.5 s
CLUSTER_RENEW_TICKS = 4  # the cluster lease renewed every 2 s (it lasts [cluster] heartbeat_timeout)


def now_utc() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return to_utc_iso(moment)


def digest_due(options: Options, now: datetime, last: str | None) -> str | None:
    """The local day whose digest is due now, or None: due once the local clock passes digest_time, once
    per local day. A day missed entirely is caught up by the next day's digest (it covers the gap)."""
    zone = ZoneInfo(options.daemon.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in options.daemon.digest_time.split(":"))
    if (local.hour, local.minute) < (hour, minute):
        return None
    today = local.date().isoformat()
    return None if last == today else today


def run_digest(options: Options, day: str) -> bool:
    """Send the day's digests in a child process; True when it succeeded."""
    command = [sys.executable, "-m", "chipwatch.cli"]
    if options.config_file is not None:
        command += ["--config", str(options.config_file)]
    command += ["--db", str(options.storage.db), "digest", "--date", day, "--send", "--scheduled"]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=900)
    if result.returncode != 0:
        log.error("digest for %s failed: %s", day, result.stderr.decode("utf-8", "replace").strip()[-500:])
    return result.returncode == 0


class Daemon:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.lock = DaemonLock(options.storage.db)
        self.cluster_lock: Any = None  # with a cluster: the lease that makes this the one daemon scheduling
        # Crawls are forked from a process that has Scrapy and the pipeline loaded (chipwatch/crawl/launcher.py).
        self.launcher = CrawlLauncher(options.config_file)
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo(options.daemon.timezone),
            executors={"default": ThreadPoolExecutor(options.daemon.max_parallel + 1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(options.daemon.misfire_grace),
            },
        )
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)

    def prepare(self) -> list[Source]:
        """Everything that can be wrong is found before anything starts: sources, database, lock."""
        sources = load_sources(self.options.crawl.sources)
        for source in sources:
            cron_trigger(source.schedule, self.options.daemon.timezone)
        open_database(self.options.storage.db).close()  # can it be created and written? said before the lock
        self.lock.acquire()
        if self.options.cluster.enabled:
            from chipwatch.cluster.locks import SchedulerLock

            try:
                self.cluster_lock = SchedulerLock(self.options)
                self.cluster_lock.acquire()
            except BaseException:
                self.cluster_lock = None
                self.lock.release()
                raise
        self._sync(sources)
        return sources

    def _sync(self, sources: list[Source]) -> None:
        """The database learns the sources it is scheduled to crawl (status and sources read them there)."""
        with opened(self.options.storage.db) as db:
            sync_sources(db, [source.row() for source in sources], stamp(now_utc()))

    def schedule(self, sources: list[Source], catch_up: bool = False) -> None:
        """Every enabled source on its cron schedule; with catch_up (at start), sources whose run came due
        while no daemon ran (or whose last run was cancelled or failed) run at once, within misfire_grace."""
        zone = self.options.daemon.timezone
        for job in self.scheduler.get_jobs():
            if job.id not in (DIGEST_JOB, WATCH_JOB):
                job.remove()
        due: set[str] = set()
        if catch_up:
            with opened(self.options.storage.db) as db:
                due = set(due_sources(self.options, sources, db, now_utc(), within=self.options.daemon.misfire_grace))
        for source in sources:
            if source.enabled:
                extra = {"next_run_time": now_utc()} if source.name in due else {}
                self.scheduler.add_job(
                    self._crawl_job,
                    cron_trigger(source.schedule, zone),
                    args=[source.name],
                    id=f"crawl:{source.name}",
                    name=f"crawl {source.name}",
                    replace_existing=True,
                    **extra,
                )
        if self.scheduler.get_job(DIGEST_JOB) is None:
            self.scheduler.add_job(
                self._digest_job,
                IntervalTrigger(seconds=DIGEST_CHECK.total_seconds()),
                id=DIGEST_JOB,
                name="daily digest",
                next_run_time=now_utc() + timedelta(seconds=5),
            )
        if self.scheduler.get_job(WATCH_JOB) is None:
            self.scheduler.add_job(
                self._watch_job,
                IntervalTrigger(seconds=WATCH_CHECK.total_seconds()),
                id=WATCH_JOB,
                name="watch deliveries",
                next_run_time=now_utc() + timedelta(seconds=10),
            )
        log.info("scheduled %d sources in %s; digest at %s", len(sources), zone, self.options.daemon.digest_time)

    def run(self) -> int:
        # Handlers first: a stop asked for while the daemon starts (systemd, Ctrl-C) stops it cleanly, with
        # the lock released, instead of killing it between taking the lock and listening for signals.
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
        sources = self.prepare()
        try:
            self.launcher.start()  # it loads while the schedule is made; the first crawl may wait for it
            db = open_database(self.options.storage.db)
            orphans = settle_orphans(db, stamp(now_utc()))
            db.close()
            if orphans:
                log.warning("%d crawl runs left running by a previous process were marked failed", orphans)
            self.schedule(sources, catch_up=True)
            self.scheduler.start()
            ticks = 0
            while not self.stopping.wait(0.5):
                ticks += 1
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self._reload()
                if ticks % ORPHAN_CHECK_TICKS == 0:
                    self._settle_orphans()
                if self.cluster_lock is not None and ticks % CLUSTER_RENEW_TICKS == 0 and not self._renew_cluster():
                    break
            log.info("stopping: no new runs; running crawls get %.0fs to finish", self.options.daemon.grace)
            self.scheduler.shutdown(wait=True)
            log.info("stopped")
            return 0
        finally:
            self.launcher.stop()
            if self.cluster_lock is not None:
                self.cluster_lock.release()
            self.lock.release()

    def _renew_cluster(self) -> bool:
        try:
            if self.cluster_lock.renew():
                return True
            log.error("lost the cluster's scheduling lease (another daemon may schedule now): stopping")
            self.stopping.set()
            return False
        except Exception as error:  # Redis restarting: the lease lasts heartbeat_timeout; try again
            log.warning("cluster lease not renewed: %s", error)
            return True

    def _settle_orphans(self) -> None:
        # Crawls that died with a previous daemon may outlive its last moments by a few seconds.
        with opened(self.options.storage.db) as db:
            settled = settle_orphans(db, stamp(now_utc()))
        if settled:
            log.warning("%d crawl runs whose process is gone were marked failed", settled)

    def _reload(self) -> None:
        try:
            sources = load_sources(self.options.crawl.sources)
            for source in sources:
                cron_trigger(source.schedule, self.options.daemon.timezone)
        except Exception as error:  # a broken edit must not stop a running daemon
            log.error("sources file not reloaded, keeping the current schedule: %s", error)
            return
        self._sync(sources)
        self.schedule(sources)

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        self.stopping.set()

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("missed run of %s scheduled for %s", event.job_id, event.scheduled_run_time)
        else:
            log.error("job %s failed: %s", event.job_id, event.exception)

    def _crawl_job(self, source: str) -> None:
        if self.stopping.is_set():
            return
        with opened(self.options.storage.db) as db:
            # A crawl of this source that died with an earlier daemon (or machine) is settled first.
            settle_orphans(db, stamp(now_utc()), source)
        log.info("crawl %s: starting", source)
        outcome = run_crawl(self.options, source, self.stopping, self.launcher)
        if outcome.status == "ok":  # a cancelled or failed run does not count as run: due again at once
            with opened(self.options.storage.db) as db:
                record_job(db, f"crawl:{source}", stamp(now_utc()), outcome.status)
        log.info("crawl %s: %s in %.1fs", source, outcome.status, outcome.seconds)

    def _watch_job(self) -> None:
        if self.stopping.is_set():
            return
        from chipwatch.watches.run import watch_pass

        result = watch_pass(self.options)
        line = result.summary()
        if line:
            log.info("%s", line)

    def _digest_job(self) -> None:
        if self.stopping.is_set():
            return
        with opened(self.options.storage.db) as db:
            day = digest_due(self.options, now_utc(), last_run(db, DIGEST_JOB))
            if day is None:
                return
            log.info("digest for %s: sending", day)
            ok = run_digest(self.options, day)
            if ok:
                record_job(db, DIGEST_JOB, day, "ok")


def due_sources(
    options: Options, sources: list[Source], db: Database, now: datetime, within: float | None = None
) -> list[str]:
    """Sources whose schedule fired since their last successful run (or that never ran); with `within`,
    only those whose missed run is at most that many seconds old."""
    due = []
    for source in sources:
        if not source.enabled:
            continue
        last = last_run(db, f"crawl:{source.name}")
        if last is None:
            due.append(source.name)
            continue
        previous = datetime.fromisoformat(last.replace("Z", "+00:00"))
        fire = cron_trigger(source.schedule, options.daemon.timezone).get_next_fire_time(
            None, previous + timedelta(seconds=1)
        )
        if fire is not None and fire <= now and (within is None or _latest_fire(source, options, fire, now, within)):
            due.append(source.name)
    return due


def _latest_fire(source: Source, options: Options, first: datetime, now: datetime, within: float) -> bool:
    """Whether the schedule's latest fire time up to now (from first on) is at most `within` seconds old."""
    trigger = cron_trigger(source.schedule, options.daemon.timezone)
    latest = first
    while True:
        following = trigger.get_next_fire_time(latest, latest + timedelta(seconds=1))
        if following is None or following > now:
            break
        latest = following
    return (now - latest).total_seconds() <= within


@dataclass
class DueRun:
    crawled: list[RunResult]
    digest_day: str | None
    digest: str | None  # sent, failed, or None when no digest was due


def run_due(options: Options) -> DueRun:
    """Run whatever came due since the last run (for system cron), then return what was done."""
    from chipwatch.crawl.in_process import crawl  # Scrapy is imported only by those who crawl here

    sources = load_sources(options.crawl.sources)
    lock = DaemonLock(options.storage.db)
    lock.acquire()
    try:
        with opened(options.storage.db) as db:
            settle_orphans(db, stamp(now_utc()))
            names = due_sources(options, sources, db, now_utc())
        results = crawl(options, tuple(names)) if names else []
        if not names:
            # No crawl, so no watch pass after one: failed deliveries are retried here.
            from chipwatch.watches.run import watch_pass

            watch_pass(options)
        with opened(options.storage.db) as db:
            for result in results:
                if result.status == "ok":  # a cancelled or failed run does not count as run
                    record_job(db, f"crawl:{result.source}", stamp(now_utc()), result.status)
            day = digest_due(options, now_utc(), last_run(db, DIGEST_JOB))
            digest = None
            if day is not None:
                digest = "sent" if run_digest(options, day) else "failed"
                if digest == "sent":
                    record_job(db, DIGEST_JOB, day, "ok")
        return DueRun(results, day, digest)
    finally:
        lock.release()
