"""Starting the daemon's crawls quickly: a launcher process that has imported and loaded everything a crawl
needs (Scrapy, Twisted, trafilatura, the classifier) and forks one child per crawl.

A crawl still gets a fresh process of its own (Twisted's reactor cannot restart, and a crash or a leak in
one crawl cannot reach the daemon), but instead of a new interpreter importing Scrapy for a second and a
half it is a fork of one that already has: it sends its first request a fraction of a second after the
daemon asks. The launcher itself runs no reactor and no thread, so forking it is safe.

The daemon talks to the launcher over a Unix socket of datagrams (one JSON message each): it sends the
crawl's command-line arguments with the write end of a pipe for the crawl's standard error; the launcher
answers with the child's pid, and with its exit status when it ends. If the launcher is gone or cannot
start, the daemon starts the crawl as a plain `chipwatch crawl` process instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("chipwatch.crawl.launcher")
PR_SET_PDEATHSIG = 1
MESSAGE_BYTES = 65536


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- the launcher process ----------------------------------------------------------------------------------


def preload(config: str | None) -> None:
    """Import what a crawl imports, load what extraction loads on first use, load the classifier its
    options name and compile its patterns and the entities', before the first fork."""
    import scrapy.core.engine  # noqa: F401

    import chipwatch.cli.crawl
    import chipwatch.crawl.in_process
    import chipwatch.watches.run  # noqa: F401
    import pipeline.process  # noqa: F401
    import spiders.handlers  # noqa: F401
    from chipwatch.config import load_options
    from pipeline.entities import compile_patterns
    from pipeline.extract import warm_up
    from pipeline.stages import preload_classifier

    try:
        options = load_options(Path(config) if config else None)
        # Every pattern compiled here is one no crawl compiles: about 0.1 s of each scheduled crawl's time.
        preload_classifier(options.classify.topics, options.classify.model).prepare()
        compile_patterns()
    except Exception as error:  # the crawl itself reports a broken configuration, where it is recorded
        log.warning("classifier not preloaded: %s", error)
    try:
        warm_up()
    except Exception as error:  # a crawl then loads it itself, as it did before the warm-up
        log.warning("extraction not warmed up: %s", error)


def serve(channel: socket.socket) -> None:
    """Fork a crawl for each request until the daemon's end of the channel closes."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wake-up byte is written
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    children: dict[int, int] = {}  # pid -> request id
    selector = selectors.DefaultSelector()
    selector.register(channel, selectors.EVENT_READ, "request")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    _send(channel, {"ready": True})
    while True:
        for key, _ in selector.select():
            if key.data == "child":
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    os.read(wake_read, 512)
                _reap(channel, children)
                continue
            try:
                data, fds, _, _ = socket.recv_fds(channel, MESSAGE_BYTES, 2)
            except InterruptedError:
                continue
            if not data:  # the daemon is gone
                return
            request = json.loads(data)
            pid = _fork_crawl(request["argv"], fds[0] if fds else None, (channel, wake_read, wake_write))
            for fd in fds:
                os.close(fd)
            children[pid] = request["id"]
            _send(channel, {"id": request["id"], "pid": pid})


def _fork_crawl(argv: list[str], stderr_fd: int | None, inherited: tuple[Any, ...]) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The child: a crawl process like any other, in a process group of its own (the daemon stops it and
    # its extraction workers together), dying with the launcher, which dies with the daemon.
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        channel, wake_read, wake_write = inherited
        channel.close()
        os.close(wake_read)
        os.close(wake_write)
        os.setpgrp()
        _die_with_parent()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(stderr_fd if stderr_fd is not None else null, 2)
        from chipwatch.cli import main

        try:
            main(argv)
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # anything else: said on the crawl's standard error, like a crashed process
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(channel: socket.socket, children: dict[int, int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request = children.pop(pid, None)
        if request is not None:
            _send(channel, {"id": request, "pid": pid, "exit": os.waitstatus_to_exitcode(status)})


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the daemon is gone: the next read says so
        channel.send(json.dumps(message).encode())


def launcher_main() -> None:
    """`python -m chipwatch.crawl.launcher FD [--config FILE]`, started by the daemon."""
    fd = int(sys.argv[1])
    rest = sys.argv[2:]
    config = rest[rest.index("--config") + 1] if "--config" in rest else None
    channel = socket.socket(fileno=fd)
    preload(config)
    # What was loaded is never collected again, so neither the launcher nor a forked crawl writes to those
    # pages and they stay shared between them (pipeline/stages.py freezes again before forking workers).
    gc.freeze()
    serve(channel)


# -- the daemon's side -------------------------------------------------------------------------------------


class LaunchedCrawl:
    """A crawl the launcher forked: what the daemon needs of a Popen (pid, poll, wait, returncode, stderr)."""

    def __init__(self, stderr: Any) -> None:
        self.stderr = stderr
        self.pid: int = 0
        self.returncode: int | None = None
        self._started = threading.Event()
        self._ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode if self._ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("crawl", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def _end(self, code: int) -> None:
        self.returncode = code
        self._ended.set()


class CrawlLauncher:
    """The daemon's handle on its launcher process: started on first use, started again if it died."""

    def __init__(self, config: Path | None) -> None:
        self.config = config  # the launcher preloads the classifier this config names
        self._lock = threading.Lock()
        self._channel: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._crawls: dict[int, LaunchedCrawl] = {}
        self._next_id = 0
        self.ready = threading.Event()

    def start(self) -> None:
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._channel is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "chipwatch.crawl.launcher", str(theirs.fileno())]
        if self.config is not None:
            command += ["--config", str(self.config)]
        self.ready.clear()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            preexec_fn=_die_with_parent,
        )
        theirs.close()
        self._channel = ours
        threading.Thread(target=self._listen, args=(ours,), name="crawl-launcher", daemon=True).start()

    def launch(self, argv: list[str]) -> LaunchedCrawl:
        """Fork a crawl with these `chipwatch` arguments; OSError when the launcher cannot take it."""
        read_end, write_end = os.pipe()
        crawl = LaunchedCrawl(os.fdopen(read_end, "rb"))
        try:
            with self._lock:
                self._start()
                assert self._channel is not None
                self._next_id += 1
                request = self._next_id
                self._crawls[request] = crawl
                try:
                    socket.send_fds(self._channel, [json.dumps({"id": request, "argv": argv}).encode()], [write_end])
                except OSError:
                    self._crawls.pop(request, None)
                    self._forget()
                    raise
        finally:
            os.close(write_end)
        if not crawl._started.wait(60) or crawl.pid <= 0:
            raise OSError("the crawl launcher did not start the crawl")
        return crawl

    def _listen(self, channel: socket.socket) -> None:
        while True:
            try:
                data = channel.recv(MESSAGE_BYTES)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            if message.get("ready"):
                self.ready.set()
                continue
            crawl = self._crawls.get(message["id"])
            if crawl is None:
                continue
            crawl.pid = message["pid"]
            crawl._started.set()
            if "exit" in message:
                self._crawls.pop(message["id"], None)
                crawl._end(int(message["exit"]))
        # The launcher is gone: its crawls died with it (they die with their parent).
        with self._lock:
            if self._channel is channel:
                self._forget()
            lost, self._crawls = self._crawls, {}
        for crawl in lost.values():
            crawl._started.set()
            crawl._end(-signal.SIGKILL)

    def _forget(self) -> None:
        if self._channel is not None:
            with contextlib.suppress(OSError):
                self._channel.close()
        self._channel = None
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()
            with contextlib.suppress(Exception):
                self._process.wait(timeout=5)
        self._process = None

    def stop(self) -> None:
        with self._lock:
            self._forget()


if __name__ == "__main__":
    launcher_main()
