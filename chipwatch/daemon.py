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
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from chipwatch.config import Options
from chipwatch.lock import DaemonLock
from chipwatch.runner import run_crawl
from pipeline.dates import to_utc_iso
from spiders.sources import Source, cron_trigger, load_sources
from storage import open_database
from storage.schedule import last_run, record_job, settle_orphans

log = logging.getLogger("chipwatch.daemon")
DIGEST_JOB = "digest"
DIGEST_CHECK = timedelta(minutes=5)
ORPHAN_CHECK_TICKS = 20  # main-loop ticks of 0.5 s


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
    command += ["--db", str(options.storage.db), "digest", "--date", day, "--send"]
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
        db = open_database(self.options.storage.db)
        db.close()
        self.lock.acquire()
        return sources

    def schedule(self, sources: list[Source]) -> None:
        zone = self.options.daemon.timezone
        for job in self.scheduler.get_jobs():
            if job.id != DIGEST_JOB:
                job.remove()
        for source in sources:
            if source.enabled:
                self.scheduler.add_job(
                    self._crawl_job,
                    cron_trigger(source.schedule, zone),
                    args=[source.name],
                    id=f"crawl:{source.name}",
                    name=f"crawl {source.name}",
                    replace_existing=True,
                )
        if self.scheduler.get_job(DIGEST_JOB) is None:
            self.scheduler.add_job(
                self._digest_job,
                IntervalTrigger(seconds=DIGEST_CHECK.total_seconds()),
                id=DIGEST_JOB,
                name="daily digest",
                next_run_time=now_utc() + timedelta(seconds=5),
            )
        log.info("scheduled %d sources in %s; digest at %s", len(sources), zone, self.options.daemon.digest_time)

    def run(self) -> int:
        sources = self.prepare()
        try:
            db = open_database(self.options.storage.db)
            orphans = settle_orphans(db, stamp(now_utc()))
            db.close()
            if orphans:
                log.warning("%d crawl runs left running by a previous process were marked failed", orphans)
            self.schedule(sources)
            signal.signal(signal.SIGTERM, self._on_stop_signal)
            signal.signal(signal.SIGINT, self._on_stop_signal)
            signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())
            self.scheduler.start()
            ticks = 0
            while not self.stopping.wait(0.5):
                ticks += 1
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self._reload()
                if ticks % ORPHAN_CHECK_TICKS == 0:
                    self._settle_orphans()
            log.info("stopping: no new runs; running crawls get %.0fs to finish", self.options.daemon.grace)
            self.scheduler.shutdown(wait=True)
            log.info("stopped")
            return 0
        finally:
            self.lock.release()

    def _settle_orphans(self) -> None:
        # Crawls that died with a previous daemon may outlive its last moments by a few seconds.
        db = open_database(self.options.storage.db)
        try:
            settled = settle_orphans(db, stamp(now_utc()))
        finally:
            db.close()
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
        db = open_database(self.options.storage.db)
        try:
            # A crawl of this source that died with an earlier daemon (or machine) is settled first.
            settle_orphans(db, stamp(now_utc()), source)
        finally:
            db.close()
        log.info("crawl %s: starting", source)
        outcome = run_crawl(self.options, source, self.stopping)
        db = open_database(self.options.storage.db)
        try:
            record_job(db, f"crawl:{source}", stamp(now_utc()), outcome.status)
        finally:
            db.close()
        log.info("crawl %s: %s in %.1fs", source, outcome.status, outcome.seconds)

    def _digest_job(self) -> None:
        if self.stopping.is_set():
            return
        db = open_database(self.options.storage.db)
        try:
            day = digest_due(self.options, now_utc(), last_run(db, DIGEST_JOB))
            if day is None:
                return
            log.info("digest for %s: sending", day)
            ok = run_digest(self.options, day)
            if ok:
                record_job(db, DIGEST_JOB, day, "ok")
        finally:
            db.close()


def due_sources(options: Options, sources: list[Source], db: object, now: datetime) -> list[str]:
    """Sources whose schedule fired since their last run (or that never ran)."""
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
        if fire is not None and fire <= now:
            due.append(source.name)
    return due


def run_due(options: Options) -> dict[str, object]:
    """Run whatever came due since the last run (for system cron), then return what was done."""
    from chipwatch.crawl import crawl

    sources = load_sources(options.crawl.sources)
    lock = DaemonLock(options.storage.db)
    lock.acquire()
    try:
        db = open_database(options.storage.db)
        try:
            settle_orphans(db, stamp(now_utc()))
            names = due_sources(options, sources, db, now_utc())
        finally:
            db.close()
        results = crawl(options, tuple(names)) if names else []
        db = open_database(options.storage.db)
        try:
            for result in results:
                record_job(db, f"crawl:{result.source}", stamp(now_utc()), result.status)
            day = digest_due(options, now_utc(), last_run(db, DIGEST_JOB))
            digest = None
            if day is not None:
                digest = "sent" if run_digest(options, day) else "failed"
                if digest == "sent":
                    record_job(db, DIGEST_JOB, day, "ok")
        finally:
            db.close()
        return {"crawled": results, "digest_day": day, "digest": digest}
    finally:
        lock.release()
