"""`chipwatch serve`: Datasette started for real on the crawled demo, read over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.helpers import serving


@pytest.fixture(scope="module")
def datasette(demo_db):
    with serving(demo_db) as base:
        yield base, demo_db.stem


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


def test_full_text_search_on_the_table_and_in_the_canned_query(datasette):
    base, name = datasette
    english = get(f"{base}/{name}/articles.json?_search=H200&_shape=objects&_size=100")
    assert english["rows"] and all("H200" in (r["title"] + (r["text"] or "")) for r in english["rows"])
    chinese = get(f"{base}/{name}/search.json?" + urllib.parse.urlencode({"q": "英伟达", "_shape": "objects"}))
    # Both scripts, and the English articles that name Nvidia (英伟达 is one of its names).
    assert {row["lang"] for row in chinese["rows"]} >= {"zh-Hans", "zh-Hant", "en"}


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


def _ids(rows: list[dict]) -> set[int]:
    return {row["id"] for row in rows}


def test_the_articles_search_box_finds_chinese_in_either_script_and_by_other_names(datasette):
    base, name = datasette

    def box(query: str) -> list[dict]:
        params = urllib.parse.urlencode(
            {"_search": query, "_shape": "objects", "_size": "max", "lang__startswith": "zh"}
        )
        return get(f"{base}/{name}/articles.json?{params}")["rows"]

    simplified, traditional, taiwan = box("英伟达"), box("英偉達"), box("輝達")
    assert len(simplified) >= 19 and _ids(simplified) == _ids(traditional) == _ids(taiwan)
    assert {row["lang"] for row in simplified} == {"zh-Hans", "zh-Hant"}
    chips = box("晶片")
    assert {row["lang"] for row in chips} == {"zh-Hans", "zh-Hant"} and _ids(chips) == _ids(box("芯片"))
    # A search confined to one column still works, and FTS5 syntax typed in the box is one clear answer.
    titles = get(f"{base}/{name}/articles.json?_search_title=H200&_shape=objects&_size=max")["rows"]
    assert titles and all("h200" in row["title"].lower() for row in titles)
    broken = get(f"{base}/{name}/articles.json?" + urllib.parse.urlencode({"_search": '"H200 (', "_shape": "objects"}))
    assert "rows" in broken or broken.get("http_status") == 400


def test_the_canned_search_marks_the_words_in_a_passage(datasette):
    base, name = datasette
    rows = get(f"{base}/{name}/search.json?" + urllib.parse.urlencode({"q": "輝達", "_shape": "objects"}))["rows"]
    marked = [row["passage"] for row in rows if row["passage"]]
    assert marked and all("⟦" in passage and "⟧" in passage for passage in marked)
    words = {passage.split("⟦", 1)[1].split("⟧", 1)[0] for passage in marked}
    assert words & {"英伟达", "輝達", "英偉達", "辉达"}, words
    with urllib.request.urlopen(f"{base}/{name}/search?" + urllib.parse.urlencode({"q": "H200"}), timeout=20) as page:
        html = page.read().decode()
    assert "<mark>H200</mark>" in html and "⟦" not in html


def test_atom_feeds_are_served_beside_datasette(datasette):
    import feedparser

    datasette = datasette[0]

    with urllib.request.urlopen(datasette + "/feeds/all.atom?limit=5", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        parsed = feedparser.parse(response.read())
    assert not parsed.bozo and len(parsed.entries) == 5
    assert parsed.feed.links[0].href.endswith("/feeds/all.atom")
    with urllib.request.urlopen(datasette + "/feeds/topic/enforcement.atom", timeout=10) as response:
        assert all(
            "enforcement" in [tag.term for tag in entry.tags] for entry in feedparser.parse(response.read()).entries
        )
    for missing in ("/feeds/watch/nobody.atom", "/feeds/topic/nope.atom"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(datasette + missing, timeout=10)
        assert error.value.code == 404
