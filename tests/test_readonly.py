"""A database nobody can write here — a read-only bind mount holding a copied snapshot without its -wal and
-shm files — is searched, shown, exported, listed and served all the same, and nothing tries to write it;
a command that must write says so in one line."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import CHIPWATCH, REPO, clean_env, free_port

READ_COMMANDS = [
    ("search", "H200", "--format", "json"),
    ("search", "英伟达", "--lang", "zh"),
    ("show", "1"),
    ("export",),
    ("stories",),
    ("story", "1"),
    ("sources",),
    ("status",),
]


def _mount_works() -> bool:
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _mount_works(), reason="needs a mount namespace (root, unshare -m)")


@pytest.fixture(scope="module")
def snapshot(demo_db, tmp_path_factory) -> tuple[Path, Path]:
    """(the snapshot's directory, where it is mounted read-only): one file, as copied, without -wal/-shm."""
    source = tmp_path_factory.mktemp("snapshot")
    target = source / "chipwatch.db"
    with sqlite3.connect(demo_db) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    assert sorted(p.name for p in source.iterdir()) == ["chipwatch.db"]
    mount = tmp_path_factory.mktemp("readonly")
    return source, mount


def in_readonly_mount(snapshot: tuple[Path, Path], *args: str) -> list[str]:
    source, mount = snapshot
    command = " ".join(f"'{part}'" for part in [*CHIPWATCH, "--db", str(mount / "chipwatch.db"), *args])
    script = f"mount --bind '{source}' '{mount}' && mount -o remount,ro,bind '{mount}' && exec {command}"
    return ["unshare", "-m", "sh", "-c", script]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda args: " ".join(args))
def test_every_read_command_works_on_a_read_only_mount(snapshot, args):
    result = subprocess.run(in_readonly_mount(snapshot, *args), capture_output=True, cwd=REPO, env=clean_env())
    assert result.returncode in (0, 2), result.stderr.decode()  # sources exits 2 when a source is flagged
    assert result.stdout.strip(), args
    assert "Traceback" not in result.stderr.decode()
    if args[:3] == ("search", "H200", "--format"):
        assert json.loads(result.stdout)
    source, _ = snapshot
    assert sorted(p.name for p in source.iterdir()) == ["chipwatch.db"]  # nothing written beside it


def test_a_command_that_writes_says_so_in_one_line(snapshot):
    result = subprocess.run(
        in_readonly_mount(snapshot, "label", "1", "market"), capture_output=True, cwd=REPO, env=clean_env()
    )
    assert result.returncode == 1
    message = result.stderr.decode()
    assert message.count("\n") == 1 and "read-only" in message, message


def test_serve_works_on_a_read_only_mount(snapshot):
    port = free_port()
    server = subprocess.Popen(
        in_readonly_mount(snapshot, "serve", "--port", str(port)),
        cwd=REPO,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        data = None
        for _ in range(150):
            try:
                url = f"http://127.0.0.1:{port}/chipwatch/articles.json?_size=2&_shape=array"
                data = json.loads(urllib.request.urlopen(url, timeout=2).read())
                break
            except OSError:
                time.sleep(0.2)
        assert data and len(data) == 2, server.stderr.read1().decode() if server.stderr else ""
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_serve_on_a_busy_port_says_so_and_exits_2(demo_db, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        copy = tmp_path / "c.db"
        shutil.copy(demo_db, copy)
        result = subprocess.run(
            [sys.executable, "-m", "chipwatch.cli", "--db", str(copy), "serve", "--port", str(port)],
            capture_output=True,
            cwd=REPO,
            env=clean_env(),
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and f"cannot serve on 127.0.0.1:{port}" in result.stderr.decode()
    assert "serving" not in result.stderr.decode()
