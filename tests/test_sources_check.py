"""`chipwatch sources check`: every source tried live over real HTTP against the demo network, read-only;
each kind of breakage from the fault catalogue gets its own verdict and fix."""

from __future__ import annotations

import json

import pytest

from tests.helpers import clean_env, demo_sources_for, free_port, run_chipwatch, write_sources

EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'


def check(sources, tmp_path, *names: str):
    db = tmp_path / "never.db"
    result = run_chipwatch(
        "sources",
        "check",
        "--sources-file",
        str(sources),
        "--format",
        "json",
        "--timeout",
        "5",
        *names,
        env=clean_env(CHIPWATCH_DB=str(db)),
    )
    assert "Traceback" not in result.stderr.decode(), result.stderr.decode()
    assert not db.exists(), "a check stores nothing"
    return result.returncode, {row["name"]: row for row in json.loads(result.stdout)}


def test_every_demo_source_is_ok_with_an_article_read(mirror, tmp_path):
    code, rows = check(demo_sources_for(mirror, tmp_path), tmp_path)
    assert code == 0 and len(rows) >= 10
    for name, row in rows.items():
        assert row["verdict"] == "ok", (name, row["message"])
        assert row["status"] == 200 and row["robots_allowed"] is True and row["entries"] >= 1
        if row["kind"] == "screening-list":
            continue  # a list has no articles to read
        assert row["article"]["text_chars"] > 100 and row["article"]["title"], name
    from demo.lists import entries_of, latest_good_version

    screening = rows["demo-screening-list"]
    assert screening["entries"] == len(entries_of(latest_good_version())) and screening["newest_date"]
    assert rows["capitol-trade-report"]["next_page"].endswith("page=2")
    assert rows["pacific-wire"]["newest_date"] and rows["huaxia-observer"]["article"]["published_date"]


@pytest.fixture(scope="module")
def broken(mirror, tmp_path_factory):
    base = mirror.base_url
    mirror.add_route("/quiet/feed.xml", EMPTY_FEED, "application/rss+xml")
    # A feed address that now redirects (temporarily) to the site's HTML home page.
    mirror.add_route("/old/feed.xml", b"", status=302, headers={"Location": f"{base}/faults/ok"})
    listing = f"{base}/capitol-trade-report/press"
    sources = [
        ("challenge", "feed", f"{base}/faults/challenge"),
        ("login", "feed", f"{base}/faults/login"),
        ("moved", "feed", f"{base}/faults/moved"),
        ("not-found", "feed", f"{base}/faults/not-found"),
        ("html-instead-of-feed", "feed", f"{base}/faults/html-instead-of-feed"),
        ("truncated-xml", "feed", f"{base}/faults/truncated-xml"),
        ("truncated-list", "screening-list", f"{base}/lists/v4/consolidated.json"),
        ("quiet", "feed", f"{base}/quiet/feed.xml"),
        ("refused", "feed", f"http://127.0.0.1:{free_port()}/feed.xml"),
        ("robots", "feed", f"{base}/members/feed.xml"),
        ("articles-challenged", "feed", f"{base}/faults/challenge/feed.xml"),
        ("feed-to-html", "feed", f"{base}/old/feed.xml"),
    ]
    entries = [{"name": n, "kind": k, "url": u, "lang": "en"} for n, k, u in sources]
    entries += [
        {"name": "nav-selector", "kind": "listing", "url": listing, "links": "nav a"},
        {"name": "dead-selector", "kind": "listing", "url": listing, "links": "ul.no-such-list a"},
    ]
    tmp = tmp_path_factory.mktemp("check")
    return tmp, write_sources(tmp / "broken.toml", *entries)


@pytest.mark.parametrize(
    "name, verdict",
    [
        ("challenge", "blocked"),
        ("login", "blocked"),
        ("moved", "moved"),
        ("not-found", "moved"),
        ("html-instead-of-feed", "parse-error"),
        ("truncated-xml", "parse-error"),
        ("truncated-list", "parse-error"),
        ("quiet", "empty"),
        ("refused", "unreachable"),
        ("robots", "blocked"),
        ("articles-challenged", "blocked"),
        ("feed-to-html", "parse-error"),
        ("nav-selector", "selector-broken"),
        ("dead-selector", "selector-broken"),
    ],
)
def test_each_breakage_gets_its_verdict_and_a_fix(broken, name, verdict):
    tmp, sources = broken
    code, rows = check(sources, tmp, name)
    assert code == 2
    row = rows[name]
    assert row["verdict"] == verdict, (row["verdict"], row["message"])
    assert row["fix"] and row["message"]


def test_a_moved_source_names_its_new_address_and_the_table_says_it_in_words(broken, mirror):
    tmp, sources = broken
    _, rows = check(sources, tmp, "moved")
    assert rows["moved"]["fix"] == f"update url to {mirror.base_url}/pacific-wire/feed.xml"
    assert rows["moved"]["redirects"][0]["status"] == 301
    table = run_chipwatch("sources", "check", "--sources-file", str(sources), "moved", "quiet", env=clean_env())
    out = table.stdout.decode()
    assert table.returncode == 2 and "MOVED" in out and "EMPTY" in out and "0 of 2 sources ok" in out


def test_an_unknown_source_name_is_one_line(broken):
    _, sources = broken
    result = run_chipwatch("sources", "check", "--sources-file", str(sources), "no-such-source", env=clean_env())
    assert result.returncode == 1 and "no-such-source" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
