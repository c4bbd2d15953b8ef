"""Shared fixtures: the demo mirror on a free loopback port, the chipwatch CLI in a subprocess, ../shared."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chipwatch.demo_run import rebased_sources
from demo.network import Network, load_network
from demo.server import MirrorServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL = SHARED / "fixtures" / "real"
CHIPWATCH = [sys.executable, "-m", "chipwatch.cli"]


@pytest.fixture(scope="session")
def network() -> Network:
    return load_network()


@pytest.fixture(scope="session")
def mirror(network: Network) -> Iterator[MirrorServer]:
    server = MirrorServer("127.0.0.1", 0, network).start_background()
    yield server
    server.stop()


@pytest.fixture
def fresh_mirror(network: Network) -> Iterator[MirrorServer]:
    """A mirror of one's own, for tests that add routes or read the request log."""
    server = MirrorServer("127.0.0.1", 0, network).start_background()
    yield server
    server.stop()


def demo_sources_for(server: MirrorServer, directory: Path) -> Path:
    return rebased_sources(server.base_url, directory)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWATCH_")}
    env.update(extra)
    return env


def run_chipwatch(
    *args: str,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[bytes]:
    """Run the real CLI in its own process (Scrapy's reactor cannot restart inside one process)."""
    return subprocess.run(
        [*CHIPWATCH, *args],
        env=env or clean_env(),
        input=input,
        capture_output=True,
        cwd=cwd or REPO,
        timeout=timeout,
    )


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


def real_fixture(relative: str) -> Path:
    """A file from ../shared/fixtures/real, or a clean skip when ../shared is not there."""
    path = REAL / relative
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


@pytest.fixture(scope="session")
def demo_crawl(network, tmp_path_factory) -> tuple[Path, str]:
    """The whole demo network crawled once: (the database, which tests only read; the mirror's base URL)."""
    server = MirrorServer("127.0.0.1", 0, network).start_background()
    directory = tmp_path_factory.mktemp("demo-db")
    db = directory / "demo.db"
    try:
        result = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(demo_sources_for(server, directory)))
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    finally:
        server.stop()
    return db, server.base_url


@pytest.fixture(scope="session")
def demo_db(demo_crawl) -> Path:
    return demo_crawl[0]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
