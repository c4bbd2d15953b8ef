"""Bad input over real HTTP: broken feeds and pages are skipped or stored with what could be extracted,
each problem is recorded on the crawl run with its URL, the crawl goes on and nothing stored is lost."""

from __future__ import annotations

import random
import sqlite3
import textwrap

import pytest

from tests.helpers import clean_env, demo_sources_for, run_chipwatch

GOOD_PAGE = textwrap.dedent(
    """\
    <html lang="en"><head><meta charset="utf-8"><title>Good page</title>
    <meta property="article:published_time" content="2025-12-10T10:00:00Z"></head>
    <body><article><h1>Commerce weighs new chip export licences for China</h1>
    <p>The Commerce Department is reviewing export licence applications for advanced AI chips bound for
    China, officials said on Wednesday, in a process expected to take several weeks.</p>
    <p>Exporters must identify their customers and certify that the chips will not be used by the military.
    Lawmakers have asked for a briefing on the criteria used to approve or deny the applications.</p>
    </article></body></html>"""
).encode()

NO_DATE_PAGE = (
    GOOD_PAGE.replace(b'<meta property="article:published_time" content="2025-12-10T10:00:00Z">', b"")
    .replace(b"Commerce weighs", b"Officials weigh")
    .replace(b"several weeks", b"a month or more")
)
BACK_PAGE = GOOD_PAGE.replace(b"Commerce weighs", b"Now it is back:").replace(b"several weeks", b"two weeks")


def broken_feed(base: str) -> bytes:
    items = [
        ("Good page", "/broken/good.html", "Wed, 10 Dec 2025 10:00:00 GMT"),
        ("A page with no date anywhere", "/broken/nodate.html", None),
        ("An empty page", "/broken/empty.html", "Wed, 10 Dec 2025 11:00:00 GMT"),
        ("A page of junk", "/broken/junk.html", "Wed, 10 Dec 2025 12:00:00 GMT"),
        ("A page that is gone", "/broken/missing.html", "Wed, 10 Dec 2025 13:00:00 GMT"),
        ("A server error", "/broken/error.html", "Wed, 10 Dec 2025 14:00:00 GMT"),
    ]
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + "<description>Summary of the item.</description></item>"
        for title, path, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>{entries}</channel></rss>'.encode()


@pytest.fixture
def broken(fresh_mirror, tmp_path):
    server = fresh_mirror
    rng = random.Random(7)
    junk = " ".join(rng.choice(["lorem", "ipsum", "<div>", "</div>", "zzz", "&amp;", "é"]) for _ in range(1_000_000))
    server.add_route("/broken/feed.xml", broken_feed(server.base_url), "application/rss+xml")
    server.add_route("/broken/good.html", GOOD_PAGE, "text/html; charset=utf-8")
    server.add_route("/broken/nodate.html", NO_DATE_PAGE, "text/html; charset=utf-8")
    server.add_route("/broken/empty.html", b"", "text/html")
    server.add_route("/broken/junk.html", junk.encode()[: 5 * 1024 * 1024], "text/html")
    server.add_route("/broken/error.html", b"oops", "text/html", status=500)
    server.add_route(
        "/broken/notxml.xml", b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", status=200
    )
    sources = demo_sources_for(server, tmp_path)
    text = sources.read_text(encoding="utf-8")
    for name, path in (("broken-feed", "/broken/feed.xml"), ("not-a-feed", "/broken/notxml.xml")):
        text += f'\n[[source]]\nname = "{name}"\nkind = "feed"\nurl = "{server.base_url}{path}"\nenabled = false\n'
    sources.write_text(text, encoding="utf-8")
    return server, sources, tmp_path / "bad.db"


def crawl(sources, db, *names):
    env = clean_env(CHIPWATCH_CRAWL_RETRIES="0", CHIPWATCH_CRAWL_DOWNLOAD_TIMEOUT="20")
    return run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), *names, env=env)


def last_run(db, source):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    run = dict(conn.execute("SELECT * FROM crawl_runs WHERE source = ? ORDER BY id DESC LIMIT 1", [source]).fetchone())
    errors = [dict(r) for r in conn.execute("SELECT * FROM crawl_errors WHERE run_id = ?", [run["id"]])]
    conn.close()
    return run, errors


def test_bad_pages_are_recorded_and_good_ones_stored(broken):
    _server, sources, db = broken
    before = crawl(sources, db, "pacific-wire")
    assert before.returncode == 0
    stored_before = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stored_before > 0

    result = crawl(sources, db, "broken-feed", "not-a-feed")
    output = result.stdout.decode()
    assert "Traceback" not in result.stderr.decode()

    run, errors = last_run(db, "broken-feed")
    assert run["status"] == "ok"
    by_url = {e["url"].rsplit("/", 1)[-1]: e for e in errors}
    assert by_url["missing.html"]["kind"] == "http" and "404" in by_url["missing.html"]["message"]
    assert by_url["error.html"]["kind"] == "http" and "500" in by_url["error.html"]["message"]
    assert "empty.html" in by_url
    assert "junk.html" in by_url and "elements" in by_url["junk.html"]["message"]
    assert run["errors"] == len(errors)

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {
        r["url"].rsplit("/", 1)[-1]: dict(r)
        for r in conn.execute("SELECT * FROM articles WHERE source = 'broken-feed'")
    }
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    assert rows["good.html"]["published_at"] == "2025-12-10T10:00:00Z"
    assert "licence applications" in rows["good.html"]["text"]
    assert rows["nodate.html"]["published_at"] is None
    assert rows["nodate.html"]["first_seen_at"]
    # The empty and junk pages keep what the feed said about them.
    assert rows["empty.html"]["title"] == "An empty page"
    assert rows["junk.html"]["title"] == "A page of junk"
    assert "missing.html" not in rows and "error.html" not in rows
    assert total == stored_before + 4

    feed_run, feed_errors = last_run(db, "not-a-feed")
    assert feed_run["status"] == "failed"
    assert feed_errors[0]["kind"] == "feed" and feed_errors[0]["url"].endswith("/broken/notxml.xml")
    assert "not-a-feed" in output and "failed" in output


def test_a_failed_page_is_fetched_again_on_the_next_run(broken):
    server, sources, db = broken
    crawl(sources, db, "broken-feed")
    server.add_route("/broken/missing.html", BACK_PAGE, "text/html")
    server.requests.clear()
    crawl(sources, db, "broken-feed")
    requested = server.requested_paths()
    assert "/broken/missing.html" in requested
    assert "/broken/good.html" not in requested
    titles = [r[0] for r in sqlite3.connect(db).execute("SELECT title FROM articles WHERE url LIKE '%missing.html'")]
    assert titles and titles[0].startswith("Now it is back")


def test_unknown_source_name_is_a_one_line_error(broken):
    _server, sources, db = broken
    result = crawl(sources, db, "no-such-source")
    assert result.returncode == 1
    stderr = result.stderr.decode().strip()
    assert "unknown source 'no-such-source'" in stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "content", "said"),
    [
        ("CHIPWATCH_CLASSIFY_MODEL", "{not json", "not a chipwatch model"),
        ("CHIPWATCH_CLASSIFY_TOPICS", "[[topic]\nid = ", "topics.toml"),
    ],
)
def test_a_broken_model_or_topics_file_is_a_one_line_error_before_any_fetch(broken, tmp_path, variable, content, said):
    server, sources, db = broken
    name = "topics.toml" if variable.endswith("TOPICS") else "model.json"
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    seen = len(server.request_times)
    env = clean_env(CHIPWATCH_CRAWL_RETRIES="0", **{variable: str(path)})
    result = run_chipwatch("--db", str(db), "crawl", "--sources-file", str(sources), "broken-feed", env=env)
    assert result.returncode == 1
    stderr = result.stderr.decode().strip()
    assert str(path) in stderr and said in stderr, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    assert len(server.request_times) == seen  # nothing was fetched for a crawl that could not store it
