"""Running one crawl in its own process (forked by the crawl launcher, or a new one), with a time limit, and
settling its record when it had to stop.

Each crawl gets a fresh process: Twisted's reactor cannot restart within one, and a crash or a memory leak
in one crawl then cannot take the daemon down with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from chipwatch.config import Options
from chipwatch.crawl.launcher import CrawlLauncher, LaunchedCrawl
from pipeline.dates import utc_now_iso
from storage import opened
from storage.crawl_runs import record_stopped_run
from storage.schedule import settle_runs

log = logging.getLogger("chipwatch.crawl.child_process")
PR_SET_PDEATHSIG = 1


@dataclass
class Outcome:
    source: str
    status: str  # ok, failed, timed_out, cancelled
    returncode: int | None
    seconds: float


def _die_with_parent() -> None:
    # If the daemon is killed outright, its crawls must not live on as orphans writing beside the next
    # daemon: they die at once (SQLite keeps whatever they committed), and the next daemon marks their
    # runs failed.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgrp()


def crawl_command(options: Options, names: list[str]) -> list[str]:
    command = [sys.executable, "-m", "chipwatch.cli"]
    if options.config_file is not None:
        command += ["--config", str(options.config_file)]
    return [*command, "--db", str(options.storage.db), "crawl", "--sources-file", str(options.crawl.sources), *names]


def run_crawl(
    options: Options, source: str, stopping: threading.Event, launcher: CrawlLauncher | None = None
) -> Outcome:
    """Crawl one source in a child process (forked by the launcher when there is one, else a new
    `chipwatch crawl` process); stop it at the time limit or when the daemon stops."""
    started = time.monotonic()
    started_at = utc_now_iso()
    command = crawl_command(options, [source])
    child: subprocess.Popen[bytes] | LaunchedCrawl | None = None
    if launcher is not None:
        try:
            child = launcher.launch(command[3:])  # the arguments after `python -m chipwatch.cli`
        except OSError as error:
            log.warning("crawl of %s started as a new process: %s", source, error)
    if child is None:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
    stderr_lines: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(child.stderr or []), daemon=True)
    reader.start()
    deadline = started + options.daemon.crawl_timeout
    stopped_for = None
    while child.poll() is None:
        if stopping.is_set():
            stopped_for = "cancelled"
        elif time.monotonic() >= deadline:
            stopped_for = "timed_out"
        if stopped_for:
            _stop(child, options.daemon.grace)
            break
        time.sleep(0.2)
    child.wait()
    reader.join(timeout=2)
    if isinstance(child, LaunchedCrawl):
        child.stderr.close()
    seconds = time.monotonic() - started
    now = utc_now_iso()
    with opened(options.storage.db) as db:
        if stopped_for:
            if not settle_runs(db, child.pid, stopped_for, now, only_unfinished=False):
                # Stopped before its spider opened a run: the stop is recorded all the same.
                record_stopped_run(db, source, child.pid, started_at, now, stopped_for)
            status = stopped_for
        elif child.returncode != 0:
            # The crawl died (a crash, a signal) or refused to start: whatever it left running failed.
            settle_runs(db, child.pid, "failed", now, only_unfinished=True)
            status = "failed"
            tail = b"".join(stderr_lines[-5:]).decode("utf-8", "replace").strip().splitlines()
            log.error("crawl of %s exited with %s: %s", source, child.returncode, tail[-1] if tail else "no output")
        else:
            status = "ok"
    return Outcome(source, status, child.returncode, seconds)


def _stop(child: subprocess.Popen[bytes] | LaunchedCrawl, grace: float) -> None:
    """SIGTERM to the crawl lets Scrapy shut down gracefully (requests in flight finish, their items are
    stored, the run is recorded as cancelled); after the grace period SIGKILL ends it and its workers. The
    extraction workers get no SIGTERM of their own: their parent still needs them while it finishes."""
    try:
        os.kill(child.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
