"""Atom feeds out and OPML in and out: feeds parsed by feedparser and validated against the Atom schema
(RFC 4287, tests/fixtures/atom.rng); OPML from a feed reader imported into a sources file and back."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from spiders.sources import load_sources
from tests.helpers import REPO, clean_env, run_chipwatch

SCHEMA = etree.RelaxNG(etree.parse(str(REPO / "tests" / "fixtures" / "atom.rng")))
HOSTILE = '<script>alert(1)</script> & "quotes" \x07'


@pytest.fixture
def db(tmp_path, demo_db) -> Path:
    copy = tmp_path / "feeds.db"
    shutil.copy(demo_db, copy)
    conn = sqlite3.connect(copy)
    conn.execute(
        "UPDATE articles SET title = ? WHERE id = (SELECT max(id) FROM articles WHERE relevant = 1)", [HOSTILE]
    )
    conn.commit()
    conn.close()
    return copy


def feed_of(db: Path, *args: str) -> bytes:
    result = run_chipwatch("--db", str(db), "feed", *args, env=clean_env())
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_kind_of_feed_is_valid_atom_that_readers_parse(db):
    story = (
        sqlite3.connect(db).execute("SELECT story_id FROM articles WHERE story_id IS NOT NULL LIMIT 1").fetchone()[0]
    )
    env = clean_env(CHIPWATCH_DB=str(db))
    assert run_chipwatch("watch", "add", "h200", "H200", env=env).returncode == 0
    assert run_chipwatch("watch", "run", env=env).returncode == 0
    for spec in ("all", "topic:export-controls", f"story:{story}", "watch:h200"):
        document = feed_of(db, spec, "--limit", "30")
        tree = etree.fromstring(document)
        assert SCHEMA.validate(tree), (spec, SCHEMA.error_log.last_error)
        parsed = feedparser.parse(document)
        assert not parsed.bozo, (spec, parsed.get("bozo_exception"))
        assert 0 < len(parsed.entries) <= 30, spec
        ids = [entry.id for entry in parsed.entries]
        assert len(set(ids)) == len(ids) and all(i.startswith("tag:chipwatch,2025:article:") for i in ids)
        for entry in parsed.entries:
            assert entry.link.startswith("http") and entry.updated_parsed and entry.summary
        # Stable: the same entries keep the same ids on the next run.
        assert [e.id for e in feedparser.parse(feed_of(db, spec, "--limit", "30")).entries] == ids
    # The schema can fail: a feed without its id is refused.
    broken = etree.fromstring(feed_of(db, "all"))
    broken.remove(broken.find("{http://www.w3.org/2005/Atom}id"))
    assert not SCHEMA.validate(broken)


def test_hostile_titles_stay_text(db):
    document = feed_of(db, "all", "--limit", "200")
    tree = etree.fromstring(document)
    assert not tree.findall(".//{*}script") and b"<script" not in document
    titles = [entry.title for entry in feedparser.parse(document).entries]
    assert any("alert(1)" in title and "&" in title for title in titles)


def test_unknown_feeds_are_one_line_errors(db):
    for spec, expected in (
        ("bogus", "unknown feed"),
        ("topic:nope", "unknown topic"),
        ("story:99999", "no story"),
        ("watch:none", "no watch"),
    ):
        result = run_chipwatch("--db", str(db), "feed", spec, env=clean_env())
        assert result.returncode == 1 and expected in result.stderr.decode(), spec


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>A reader's export</title></head><body>
<outline text="Policy" title="Policy">
  <outline type="rss" text="Trade Desk" title="Trade Desk" xmlUrl="https://trade.example.org/feed.xml" htmlUrl="https://trade.example.org/"/>
  <outline type="rss" text="芯片观察" xmlUrl="https://chips.example.cn/rss" language="zh-Hans"/>
</outline>
<outline type="rss" text="Trade Desk again" xmlUrl="https://TRADE.example.org/feed.xml/"/>
<outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
<outline type="rss" text="Quote &quot; and \\ backslash" xmlUrl="https://odd.example.org/a?b=1&amp;c=2"/>
</body></opml>
"""


def test_opml_import_adds_feeds_once_and_export_round_trips(tmp_path):
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(OPML, encoding="utf-8")
    target = tmp_path / "sources.toml"
    target.write_text(
        '# my sources\n[[source]]\nname = "mine"\nkind = "feed"\nurl = "https://mine.example.org/rss"\n',
        encoding="utf-8",
    )
    dry = run_chipwatch("sources", "import", str(opml), "--sources-file", str(target), "--dry-run", env=clean_env())
    assert dry.returncode == 0 and "would add 3" in dry.stdout.decode()
    assert "mine" in target.read_text() and "trade-desk" not in target.read_text()
    result = run_chipwatch("sources", "import", str(opml), "--sources-file", str(target), env=clean_env())
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "already a source (trade-desk)" in out and "not an http(s) address" in out
    sources = {source.name: source for source in load_sources(target)}
    assert set(sources) == {"mine", "trade-desk", "chips-example-cn", "quote-and-backslash"}
    assert sources["chips-example-cn"].lang == "zh-Hans" and sources["trade-desk"].schedule == "0 */3 * * *"
    assert sources["quote-and-backslash"].url == "https://odd.example.org/a?b=1&c=2"
    assert target.read_text().startswith("# my sources")  # the file's own text is kept
    again = run_chipwatch("sources", "import", str(opml), "--sources-file", str(target), env=clean_env())
    assert "nothing to add" in again.stdout.decode()
    exported = tmp_path / "out.opml"
    assert (
        run_chipwatch(
            "sources", "export", "--sources-file", str(target), "--out", str(exported), env=clean_env()
        ).returncode
        == 0
    )
    back = run_chipwatch(
        "sources", "import", str(exported), "--sources-file", str(tmp_path / "new.toml"), env=clean_env()
    )
    assert back.returncode == 0 and len(load_sources(tmp_path / "new.toml")) == 4


def test_broken_opml_changes_nothing(tmp_path):
    target = tmp_path / "sources.toml"
    target.write_text(
        '[[source]]\nname = "mine"\nkind = "feed"\nurl = "https://mine.example.org/rss"\n', encoding="utf-8"
    )
    before = target.read_text()
    for body in ("<opml><body><outline", "<html><body>not opml</body></html>", ""):
        opml = tmp_path / "bad.opml"
        opml.write_text(body, encoding="utf-8")
        result = run_chipwatch("sources", "import", str(opml), "--sources-file", str(target), env=clean_env())
        assert result.returncode == 1 and len(result.stderr.decode().strip().splitlines()) == 1, body
        assert target.read_text() == before
    shipped = run_chipwatch("sources", "import", str(opml), env=clean_env())
    assert shipped.returncode == 1 and "--sources-file" in shipped.stderr.decode()
