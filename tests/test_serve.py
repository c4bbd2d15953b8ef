"""`chipwatch serve`: Datasette started for real on the crawled demo, read over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.helpers import clean_env, free_port, start_chipwatch


@pytest.fixture(scope="module")
def datasette(demo_db):
    port = free_port()
    process = start_chipwatch("serve", "--port", str(port), env=clean_env(CHIPWATCH_DB=str(demo_db)), capture=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=2).read()
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                pytest.fail(process.stderr.read().decode()[-2000:])
            time.sleep(0.3)
    yield base, demo_db.stem
    process.terminate()
    process.wait(timeout=20)


def get(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return {"http_status": error.code, **json.loads(error.read() or b"{}")}


def test_metadata_describes_tables_and_columns(datasette):
    base, name = datasette
    meta = get(f"{base}/-/metadata.json")
    tables = meta["databases"][name]["tables"]
    assert "relevance" in tables["articles"]["columns"] and tables["articles"]["fts_table"] == "articles_fts"
    assert tables["minhash_bands"]["hidden"] is True
    assert set(meta["databases"][name]["queries"]) >= {
        "todays_items_by_topic",
        "story_timeline",
        "source_health",
        "coverage_by_language_per_day",
        "search",
    }


def test_facets_on_topic_outlet_and_language(datasette):
    base, name = datasette
    data = get(f"{base}/{name}/articles_flat.json?_size=0")
    facets = data["facet_results"]
    assert {"topics", "outlet", "lang"} <= set(facets)
    langs = {item["value"]: item["count"] for item in facets["lang"]["results"]}
    assert langs["en"] > 0 and langs["zh-Hans"] > 0 and langs["zh-Hant"] > 0
    topics = {item["value"] for item in facets["topics"]["results"]}
    assert {"export-controls", "china-response"} <= topics


def test_full_text_search_in_english_on_the_table_and_chinese_in_the_canned_query(datasette):
    base, name = datasette
    english = get(f"{base}/{name}/articles.json?_search=H200&_shape=objects&_size=100")
    assert english["rows"] and all("H200" in (r["title"] + (r["text"] or "")) for r in english["rows"])
    chinese = get(f"{base}/{name}/search.json?" + urllib.parse.urlencode({"q": "英伟达", "_shape": "objects"}))
    assert chinese["rows"] and all(row["lang"].startswith("zh") for row in chinese["rows"])


def test_canned_queries_answer(datasette, demo_db):
    base, name = datasette
    import sqlite3

    conn = sqlite3.connect(demo_db)
    story, size = conn.execute(
        "SELECT story_id, count(*) FROM articles WHERE story_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    first_day = conn.execute("SELECT substr(min(first_seen_at), 1, 10) FROM articles").fetchone()[0]
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    timeline = get(f"{base}/{name}/story_timeline.json?story_id={story}&_shape=objects")["rows"]
    assert len(timeline) == size and [r["moment"] for r in timeline] == sorted(r["moment"] for r in timeline)
    today = get(f"{base}/{name}/todays_items_by_topic.json?day={first_day}&_shape=objects")["rows"]
    assert today and {r["topic"] for r in today} >= {"export-controls"}
    health = get(f"{base}/{name}/source_health.json?_shape=objects")["rows"]
    assert {r["name"] for r in health} >= {"pacific-wire", "news-search"}
    coverage = get(f"{base}/{name}/coverage_by_language_per_day.json?_shape=objects")["rows"]
    assert sum(r["en"] + r["zh"] + r["other"] for r in coverage) == total and any(r["zh"] for r in coverage)


def test_it_is_read_only(datasette):
    base, name = datasette
    refused = get(f"{base}/{name}.json?sql=" + urllib.parse.quote("delete from articles"))
    assert refused.get("ok") is False or refused.get("http_status") == 400
    still = get(
        f"{base}/{name}.json?sql=" + urllib.parse.quote("select count(*) as n from articles") + "&_shape=objects"
    )
    assert still["rows"][0]["n"] > 0
