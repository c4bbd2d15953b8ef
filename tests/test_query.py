"""Querying the database: search with every filter and format, show, export, the views, and the errors
people get for bad queries. Runs the real CLI against the crawled demo network."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from storage.fts import fold_script
from tests.helpers import clean_env, run_chipwatch


def cli(demo_db, *args: str):
    return run_chipwatch(*args, env=clean_env(CHIPWATCH_DB=str(demo_db)))


def search_json(demo_db, *args: str) -> list[dict]:
    result = cli(demo_db, "search", *args, "--format", "json", "--limit", "500")
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def query(demo_db, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(demo_db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_chinese_two_and_three_character_words_are_found(demo_db, network):
    for word in ("海关", "英伟达", "反垄断", "晶片"):
        rows = search_json(demo_db, word, "--exact")  # the word itself, not the entity's other names
        assert rows, word
        texts = {
            r[0] + (r[1] or "")
            for r in query(
                demo_db,
                f"SELECT title, text FROM articles WHERE id IN ({', '.join('?' for _ in rows)})",
                [row["id"] for row in rows],
            )
        }
        # found in either script: the text holds the word once both are folded to one
        assert all(fold_script(word) in fold_script(text) for text in texts), word


def test_every_filter_narrows_as_it_says(demo_db, network):
    story = query(
        demo_db, "SELECT story_id, count(*) FROM articles WHERE story_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )[0]
    in_story = search_json(demo_db, "--story", str(story[0]))
    assert len(in_story) == story[1] and all(r["story_id"] == story[0] for r in in_story)
    # The news sitemap names its publisher: --source finds the articles by that name too.
    by_publisher = search_json(demo_db, "--source", "Market Tape Daily")
    assert by_publisher and all(r["publisher"] == "Market Tape Daily" for r in by_publisher)
    wire = search_json(demo_db, "--source", "pacific-wire")
    assert wire and all(r["source"] == "pacific-wire" for r in wire)
    window = search_json(demo_db, "H200", "--since", "2025-12-08", "--until", "2025-12-10")
    assert window and all("2025-12-08" <= r["published_at"] < "2025-12-10" for r in window)
    sure = search_json(demo_db, "--min-relevance", "0.9")
    assert sure and all(r["relevance"] >= 0.9 for r in sure)
    combined = search_json(demo_db, "H200", "--topic", "market", "--lang", "en", "--since", "2025-12-01")
    expected = {
        row[0]
        for row in query(
            demo_db,
            "SELECT a.id FROM articles a JOIN article_topics t ON t.article_id = a.id AND t.topic = 'market' "
            "WHERE a.lang = 'en' AND COALESCE(a.published_at, a.first_seen_at) >= '2025-12-01' "
            "AND (a.title LIKE '%H200%' OR a.text LIKE '%H200%')",
        )
    }
    assert {r["id"] for r in combined} == expected and expected


def test_sorting_by_relevance_puts_the_best_match_first(demo_db):
    by_date = search_json(demo_db, "H200")
    by_rank = search_json(demo_db, "H200", "--sort", "relevance")
    assert len(by_date) > 5 and {r["id"] for r in by_date} == {r["id"] for r in by_rank}
    dates = [r["published_at"] for r in by_date]
    assert dates == sorted(dates, reverse=True)
    assert [r["id"] for r in by_rank] != [r["id"] for r in by_date]
    assert "H200" in by_rank[0]["title"]  # bm25 favours the word in a short title
    no_text = search_json(demo_db, "--sort", "relevance", "--topic", "enforcement")
    scores = [r["relevance"] for r in no_text]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("batch", [2, 100])
def test_a_page_in_relevance_order_is_the_one_the_index_and_the_filters_give(demo_db, monkeypatch, batch):
    """Ranked by the index alone, then read in batches (storage/search.py: _ranked): the same rows, in the same
    order, as joining every match with its article and sorting by rank, newer first on a tie."""
    import storage.search as search_module
    from storage import opened
    from storage.search import RESULT_COLUMNS, SearchQuery, _plan, search

    monkeypatch.setattr(search_module, "RANKED_BATCH", batch)  # small batches: many of them, and the doubling
    requests = [
        SearchQuery(text="H200", sort="relevance", limit=5),
        SearchQuery(text="H200", sort="relevance", limit=4, offset=3),
        SearchQuery(text="export OR chips OR 芯片", sort="relevance", limit=50),
        SearchQuery(text="Nvidia", sort="relevance", lang="en", since="2025-12-05", limit=7, offset=2),
        SearchQuery(text="英伟达", sort="relevance", topic="china-response", limit=10),
        SearchQuery(text="chips OR GPU", sort="relevance", relevant=False, limit=10),
    ]
    with opened(demo_db, readonly=True) as db:
        for request in requests:
            sql, params = _plan(db, request, RESULT_COLUMNS)
            joined = [row[0] for row in db.execute(sql, params)]
            assert joined, request  # each request finds something, or it compares nothing
            assert [row["id"] for row in search(db, request)] == joined, request


def test_formats_jsonl_and_csv_carry_the_same_rows(demo_db):
    as_json = search_json(demo_db, "Nvidia")
    jsonl = cli(demo_db, "search", "Nvidia", "--format", "jsonl", "--limit", "500").stdout.decode().splitlines()
    assert [json.loads(line) for line in jsonl] == as_json
    table = list(
        csv.DictReader(
            io.StringIO(cli(demo_db, "search", "Nvidia", "--format", "csv", "--limit", "500").stdout.decode())
        )
    )
    assert [int(r["id"]) for r in table] == [r["id"] for r in as_json]
    assert table[0]["topics"] == ";".join(t["id"] for t in as_json[0]["topics"])


def test_the_table_shows_the_passage_with_the_words_marked(demo_db):
    out = cli(demo_db, "search", "smuggl*", "--lang", "en").stdout.decode()
    passages = [line for line in out.splitlines() if line.startswith("      ")]
    assert passages and all("[" in line and "]" in line for line in passages)
    assert any("[smuggl" in line.lower() for line in passages)
    chinese = cli(demo_db, "search", "反垄断").stdout.decode()
    assert "[反垄断]" in chinese or "[反壟斷]" in chinese


@pytest.mark.parametrize(
    "args, message",
    [
        (("search", "NEAR("), "unbalanced parentheses"),
        (("search", "H200 ()"), "cannot parse search query"),
        (("search", '"unbalanced phrase'), "unbalanced quotes"),
        (("search", "H200 AND (export"), "unbalanced parentheses"),
        (("search", "x", "--topic", "tariffs"), "unknown topic 'tariffs'"),
        (("search", "x", "--since", "last tuesday"), "cannot read --since"),
        (("search", "x", "--until", "2025-13-45"), "cannot read --until"),
        (("search", "--since", "2025-12-10", "--until", "2025-12-01"), "is not before --until"),
        (("search", "--entity", "nvidia"), "KIND:VALUE"),
        (("search", "AND"), "nothing to search for"),
        (("show", "999999"), "no article #999999"),
        (("export", "--lang", "!!"), "not a language code"),
    ],
)
def test_bad_queries_get_one_line_errors(demo_db, args, message):
    result = cli(demo_db, *args)
    err = result.stderr.decode()
    assert result.returncode != 0
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_show_gives_topics_with_evidence_story_copies_and_entities(demo_db):
    wire_id = query(demo_db, "SELECT article_id FROM copies GROUP BY article_id ORDER BY count(*) DESC LIMIT 1")[0][0]
    data = json.loads(cli(demo_db, "show", str(wire_id), "--format", "json").stdout)
    assert data["id"] == wire_id and data["topics"] and all(t["evidence"] for t in data["topics"])
    assert data["story"]["id"] == data["story_id"] and data["story"]["article_count"] >= 2
    assert len(data["copies"]) == 4 and {"Harbor City Times", "tech-daily"} <= {c["outlet"] for c in data["copies"]}
    assert "nvidia" in data["entities"]["company"]
    text = cli(demo_db, "show", str(wire_id)).stdout.decode()
    assert f"#{wire_id}" in text and "also carried by Harbor City Times" in text and "story #" in text


def test_export_streams_every_matching_row_with_text(demo_db, tmp_path):
    total = query(demo_db, "SELECT count(*) FROM articles")[0][0]
    result = cli(demo_db, "export")
    lines = result.stdout.decode().splitlines()
    assert len(lines) == total and f"exported {total} articles" in result.stderr.decode()
    first = json.loads(lines[0])
    assert first["text"] and isinstance(first["topics"], list)
    out = tmp_path / "market.csv"
    assert cli(demo_db, "export", "--topic", "market", "--format", "csv", "--out", str(out)).returncode == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == len(search_json(demo_db, "--topic", "market"))
    assert all("market" in r["topics"].split(";") for r in rows)
    zh = cli(demo_db, "export", "--query", "英伟达", "--lang", "zh").stdout.decode().splitlines()
    assert zh and all(json.loads(line)["lang"].startswith("zh") for line in zh)


def test_views_for_your_own_sql(demo_db):
    flat = query(demo_db, "SELECT id, topics, primary_topic, copies FROM articles_flat")
    assert len(flat) == query(demo_db, "SELECT count(*) FROM articles")[0][0]
    for _, topics, primary, _ in flat:
        listed = json.loads(topics)
        assert (listed[0] if listed else None) == primary
    assert sum(row[3] for row in flat) == query(demo_db, "SELECT count(*) FROM copies")[0][0]
    overview = query(demo_db, "SELECT id, article_count, outlet_count FROM stories_overview")
    for story_id, count, outlets in overview:
        assert count == query(demo_db, "SELECT count(*) FROM articles WHERE story_id = ?", [story_id])[0][0]
        assert outlets >= 1
    health = dict(query(demo_db, "SELECT name, runs FROM source_health"))
    assert health and all(runs >= 1 for runs in health.values())
    days = query(demo_db, "SELECT sum(articles) FROM coverage_by_day")[0][0]
    assert days == len(flat)


def test_searching_while_a_writer_holds_the_database(demo_db):
    """WAL: a crawl's open write transaction does not stop readers."""
    writer = sqlite3.connect(demo_db, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE articles SET title = title WHERE id = 1")
    try:
        rows = search_json(demo_db, "H200")
        assert rows
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_name_finds_the_entitys_other_names_unless_exact(demo_db):
    nvidia = {row["id"] for row in search_json(demo_db, "英伟达")}
    assert {row["lang"] for row in search_json(demo_db, "英伟达")} >= {"en", "zh-Hans", "zh-Hant"}
    assert {row["id"] for row in search_json(demo_db, "Nvidia")} == nvidia
    exact = {row["id"] for row in search_json(demo_db, "英伟达", "--exact")}
    assert exact and exact < nvidia
    assert {row["lang"] for row in search_json(demo_db, "英伟达", "--exact")} <= {"zh-Hans", "zh-Hant"}
    # Several names in one query, mixed scripts and languages: each widened, all of them required.
    mixed = search_json(demo_db, "輝達 Nvidia H200")
    assert mixed and {row["id"] for row in mixed} <= nvidia
    assert search_json(demo_db, "ชิป") == []  # a script nothing is written in: simply nothing found
    assert search_json(demo_db, "芯")  # one Chinese character matches as a prefix, in both scripts
