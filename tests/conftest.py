"""Fixtures: the demo network and its mirror on a free loopback port, one shared crawl of it, and the
shipped classifier.

Helpers (the CLI, sources files, quick crawls, ../shared) are in tests/helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.network import Network, load_network
from demo.server import MirrorServer
from tests.helpers import RedisServer, demo_sources_for, run_chipwatch


@pytest.fixture(scope="session")
def network() -> Network:
    return load_network()


@pytest.fixture(scope="session")
def classifier():
    """The classifier chipwatch ships (topics file and trained model), loaded once for the session."""
    from chipwatch.config import load_options
    from pipeline.classify import load_classifier

    options = load_options(env={})
    return load_classifier(options.classify.topics, options.classify.model)


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


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A real redis-server of the test's own (tests/helpers.py RedisServer)."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory).start()
    yield server
    server.stop()
