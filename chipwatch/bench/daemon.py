"""The daemon's memory over many scheduled runs: does a process that runs for months grow?"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chipwatch.bench.end_to_end import process_rss_kb


def daemon_memory(early: int, late: int) -> tuple[int, int, float]:
    """Run the daemon against the demo mirror until it has done `late` crawl runs; its RSS (KB) after
    `early` runs and after `late`, and how long it took."""
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0).start_background()
    with tempfile.TemporaryDirectory(prefix="chipwatch-bench-daemon-") as tmp:
        directory = Path(tmp)
        db = directory / "db.sqlite"
        names = ["pacific-wire", "circuit-ledger", "tech-daily", "snack-times"]
        paths = ["/pacific-wire/feed.xml", "/circuit-ledger/atom.xml", "/tech-daily/feed.xml", "/snack-times/feed.xml"]
        sources = "".join(
            f'[[source]]\nname = "{name}"\nkind = "feed"\nurl = "{server.base_url}{path}"\n'
            f'schedule = "*/2 * * * * *"\n\n'
            for name, path in zip(names, paths, strict=True)
        )
        (directory / "sources.toml").write_text(sources, encoding="utf-8")
        later = datetime.now(UTC) + timedelta(hours=6)
        (directory / "chipwatch.toml").write_text(
            f'[storage]\ndb = "{db}"\n[crawl]\nsources = "{directory / "sources.toml"}"\nautothrottle = false\n'
            f'[daemon]\ntimezone = "UTC"\ndigest_time = "{later:%H}:00"\nmax_parallel = 4\n'
            f'log_file = "{directory / "daemon.log"}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWATCH_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "chipwatch.cli", "--config", str(directory / "chipwatch.toml"), "daemon"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        try:
            first = _rss_after(process, db, early)
            last = _rss_after(process, db, late)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            server.stop()
    return first, last, time.perf_counter() - started


def _launchers(pid: int) -> list[int]:
    """The daemon's crawl launcher (a child it keeps; the crawls themselves are the launcher's children)."""
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    if b"chipwatch.crawl.launcher" in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.append(int(child))
    return found


def _rss_after(process: subprocess.Popen[bytes], db: Path, runs: int) -> int:
    deadline = time.monotonic() + max(120, runs * 5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the daemon exited")
        done = 0
        if db.exists():
            try:
                conn = sqlite3.connect(db, timeout=5)
                done = conn.execute("SELECT count(*) FROM crawl_runs WHERE status != 'running'").fetchone()[0]
                conn.close()
            except sqlite3.Error:
                done = 0
        if done >= runs:
            return process_rss_kb(process.pid) + sum(process_rss_kb(pid) for pid in _launchers(process.pid))
        time.sleep(0.5)
    raise RuntimeError(f"the daemon did not reach {runs} runs in time")
