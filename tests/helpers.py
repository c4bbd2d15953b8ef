"""What the tests share: the chipwatch CLI (in-process, or in its own process where a test is about
processes), sources files, quick crawls, reading the database, waiting, and ../shared's real fixtures.

Fixtures live in conftest.py; every test module takes its helpers from here, none from another test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chipwatch.crawl.demo import rebased_sources
from demo.server import MirrorServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL = SHARED / "fixtures" / "real"
CHIPWATCH = [sys.executable, "-m", "chipwatch.cli"]
# Commands that must run in a process of their own: Scrapy's reactor cannot restart inside one process,
# the daemon and the servers run until stopped, serve replaces its process with Datasette's.
OWN_PROCESS = {"crawl", "demo", "daemon", "run-due", "mirror", "serve", "bench", "worker"}
QUICK = {
    "CHIPWATCH_CRAWL_DOWNLOAD_TIMEOUT": "3",
    "CHIPWATCH_CRAWL_RETRIES": "1",
    "CHIPWATCH_CRAWL_RETRY_BACKOFF": "0.1",
}


def demo_sources_for(server: MirrorServer, directory: Path) -> Path:
    return rebased_sources(server.base_url, directory)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWATCH_")}
    env.update(extra)
    return env


def _command_of(args: tuple[str, ...]) -> str | None:
    """The subcommand in a chipwatch command line (after the group's own options)."""
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word in ("--config", "--db"):
            rest = rest[1:]
        elif not word.startswith("-"):
            return word
    return None


def run_chipwatch(
    *args: str,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI: in this process through click's runner, or in a process of its own for the commands
    that need one (OWN_PROCESS). Either way: the exit status, standard output and standard error."""
    if _command_of(args) in OWN_PROCESS:
        return subprocess.run(
            [*CHIPWATCH, *args],
            env=env or clean_env(),
            input=input,
            capture_output=True,
            cwd=cwd or REPO,
            timeout=timeout,
        )
    return run_in_process(*args, env=env, input=input, cwd=cwd)


def run_in_process(
    *args: str, env: dict[str, str] | None = None, input: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    from chipwatch.cli import cli

    wanted = env or clean_env()
    # The runner sets these for the call and puts everything back after: CHIPWATCH_* exactly as asked.
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHIPWATCH_") and k not in wanted}
    overrides.update({k: v for k, v in wanted.items() if k.startswith("CHIPWATCH_")})
    runner = CliRunner(env=overrides)
    with _working_directory(cwd or REPO):
        result = runner.invoke(cli, list(args), input=input, prog_name="chipwatch")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["chipwatch", *args], result.exit_code, result.stdout_bytes, result.stderr_bytes or b""
    )


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def start_chipwatch(
    *args: str, env: dict[str, str], capture: bool = False, start_new_session: bool = False
) -> subprocess.Popen[bytes]:
    """Start the real CLI in the background (a crawl to kill, a server to query); output kept or dropped."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [*CHIPWATCH, *args],
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=output,
        start_new_session=start_new_session,
    )


def start_daemon(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CHIPWATCH, "--config", str(config), "daemon"],
        cwd=REPO,
        env=env or clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err.decode("utf-8", "replace")


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def real_fixture(relative: str) -> Path:
    """A file from ../shared/fixtures/real, or a clean skip when ../shared is not there."""
    path = REAL / relative
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_sources(path: Path, *sources: dict[str, Any]) -> Path:
    lines = []
    for source in sources:
        lines.append("[[source]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in source.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def crawl(db: Path, sources: Path, *names: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[bytes]:
    """A crawl with quick timeouts and retries, in its own process."""
    return run_chipwatch(
        "--db",
        str(db),
        "crawl",
        "--sources-file",
        str(sources),
        *names,
        env=clean_env(**{**QUICK, **env}),
        timeout=timeout,
    )


def query(db: Path, sql: str, params: tuple | list = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def rss(base: str, entries: list[tuple[str, str]], *, date: str = "Wed, 10 Dec 2025 10:00:00 GMT") -> bytes:
    """A feed of (title, path-or-url) entries."""
    items = "".join(
        f"<item><title>{title}</title><link>{link if link.startswith('http') else base + link}</link>"
        f"<pubDate>{date}</pubDate><description>{title}</description></item>"
        for title, link in entries
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


class WebhookSink:
    """A real HTTP server on loopback that takes webhooks. Each request takes the next behaviour from
    `script` (default "ok"): "ok" (200), ("status", code, headers), "slow" (answers 200 after `slow_seconds`),
    "garbage" (a reply that is not HTTP), "ok-then-kill" (200, then SIGKILL to `kill_pid`). Every request is
    recorded with its delivery id, body, headers and whether it was answered 2xx in time."""

    def __init__(self, slow_seconds: float = 1.5) -> None:
        import http.server
        import threading

        self.script: list[Any] = []
        self.received: list[dict[str, Any]] = []
        self.kill_pid: int | None = None
        self.slow_seconds = slow_seconds
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                behaviour = sink.script.pop(0) if sink.script else "ok"
                record = {
                    "delivery": self.headers.get("X-Chipwatch-Delivery"),
                    "signature": self.headers.get("X-Chipwatch-Signature-256"),
                    "body": body,
                    "acknowledged": False,
                    "behaviour": behaviour if isinstance(behaviour, str) else behaviour[1],
                }
                sink.received.append(record)
                if behaviour == "garbage":
                    self.wfile.write(b"\x00\x01 this is not http\r\n\r\n")
                    self.close_connection = True
                    return
                if behaviour == "slow":
                    time.sleep(sink.slow_seconds)  # the sender gave up before this answer
                    with contextlib.suppress(OSError):
                        self._answer(200, {})
                    return
                if isinstance(behaviour, tuple):
                    self._answer(behaviour[1], behaviour[2] if len(behaviour) > 2 else {})
                    return
                self._answer(200, {})
                record["acknowledged"] = True
                if behaviour == "ok-then-kill" and sink.kill_pid:
                    self.wfile.flush()
                    os.kill(sink.kill_pid, signal.SIGKILL)

            def _answer(self, status: int, headers: dict[str, str]) -> None:
                payload = b'{"ok": true}' if status < 300 else b"no"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def acknowledged(self) -> list[dict[str, Any]]:
        return [record for record in self.received if record["acknowledged"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def serving(db: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`chipwatch serve` on the database in its own process, until the block ends: its base URL."""
    import urllib.error
    import urllib.request

    port = free_port()
    wanted = env or clean_env()
    process = start_chipwatch("--db", str(db), "serve", "--port", str(port), *args, env=wanted, capture=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers (behind sign-in)
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chipwatch serve did not start: " + (process.stderr or b"").read().decode()[-2000:])  # type: ignore[union-attr]
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


class RedisServer:
    """Debian's redis-server on a free loopback port, in a directory of its own, with AOF on (so that a
    restart keeps what it held). Without redis-server the test is skipped, unless CHIPWATCH_REQUIRE_REDIS
    is set (as .ci/run does after installing it): then it fails, saying so."""

    def __init__(self, directory: Path) -> None:
        import shutil

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            message = "redis-server is not installed (apt-get install redis-server)"
            if os.environ.get("CHIPWATCH_REQUIRE_REDIS"):
                pytest.fail(message)
            pytest.skip(message)
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes its AOF and exits
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)
