"""Storage on real SQLite files: migrations, upserts keyed on canonical URL, the FTS index, search."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from chipwatch.errors import QueryError, StorageError
from pipeline.items import TopicScore
from storage import open_database
from storage.articles import add_copy, get_article, is_stored, store_article
from storage.migrations import MIGRATIONS
from storage.search import search_articles


def record(url: str, **changes):
    base = {
        "canonical_url": url,
        "url": url,
        "source": "test",
        "title": "Commerce publishes H200 rule",
        "text": "The Commerce Department published the rule on H200 exports to China.",
        "published_at": "2025-12-12T15:30:00Z",
        "fetched_at": "2025-12-12T16:00:00Z",
        "lang": "en",
        "content_hash": "h1",
        "relevant": 1,
        "relevance": 0.9,
        "authors": ["A. Writer"],
    }
    base.update(changes)
    return base


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "sub" / "dir" / "test.db")
    yield database
    database.close()


def test_migrations_are_recorded_and_run_once(tmp_path):
    path = tmp_path / "m.db"
    open_database(path).close()
    open_database(path).close()
    conn = sqlite3.connect(path)
    names = [row[0] for row in conn.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"articles", "article_topics", "articles_fts", "copies", "sources", "crawl_runs", "crawl_errors"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_is_an_upsert_on_canonical_url(db):
    topics = [TopicScore("export-controls", 0.8, ["rule"])]
    first = store_article(db, record("https://x.test/1"), topics, "2025-12-12T16:00:00Z")
    again = store_article(db, record("https://x.test/1", fetched_at="2025-12-13T00:00:00Z"), topics, "later")
    changed = store_article(
        db, record("https://x.test/1", text="Revised text about H200.", content_hash="h2"), [], "later"
    )
    assert (first.status, again.status, changed.status) == ("new", "unchanged", "updated")
    assert first.article_id == again.article_id == changed.article_id
    article = get_article(db, first.article_id)
    assert article["first_seen_at"] == "2025-12-12T16:00:00Z"
    assert article["text"] == "Revised text about H200."
    assert article["topics"] == []
    assert article["authors"] == ["A. Writer"]
    assert db.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == 1
    assert search_articles(db, "Revised") and not search_articles(db, "Department")


def test_is_stored_knows_articles_and_copies(db):
    stored = store_article(db, record("https://x.test/1"), [], "now")
    assert is_stored(db, "https://x.test/1")
    assert not is_stored(db, "https://y.test/1")
    assert add_copy(db, stored.article_id, "other", "https://y.test/1", "now")
    assert not add_copy(db, stored.article_id, "other", "https://y.test/1", "now")
    assert is_stored(db, "https://y.test/1")


def test_chinese_words_of_two_and_three_characters_are_found(db):
    store_article(
        db,
        record(
            "https://x.test/zh",
            title="英伟达H200获准出口",
            text="美国商务部批准英伟达向中国客户出售芯片。",
            lang="zh-Hans",
        ),
        [],
        "now",
    )
    store_article(db, record("https://x.test/en"), [], "now")
    for query in ("英伟达", "芯片", "商务部", "H200", "英伟达 芯片", '"出售芯片"'):
        assert [r["url"] for r in search_articles(db, query)] == ["https://x.test/zh"] or query == "H200", query
    assert {r["url"] for r in search_articles(db, "H200")} == {"https://x.test/zh", "https://x.test/en"}
    assert search_articles(db, "伟芯") == []


def test_search_filters(db):
    store_article(
        db,
        record("https://x.test/a", lang="zh-Hant", published_at="2025-12-01T00:00:00Z"),
        [TopicScore("market", 0.5, [])],
        "now",
    )
    store_article(
        db,
        record("https://x.test/b", content_hash="h9", published_at="2025-12-20T00:00:00Z"),
        [TopicScore("legislation", 0.7, [])],
        "now",
    )
    assert [r["url"] for r in search_articles(db, lang="zh")] == ["https://x.test/a"]
    assert [r["url"] for r in search_articles(db, topic="legislation")] == ["https://x.test/b"]
    assert [r["url"] for r in search_articles(db, since="2025-12-10")] == ["https://x.test/b"]
    assert [r["url"] for r in search_articles(db)] == ["https://x.test/b", "https://x.test/a"]
    assert search_articles(db, limit=1)[0]["topics"] == [{"id": "legislation", "score": 0.7}]


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(", "AND", "title:"])
def test_malformed_queries_are_query_errors(db, query):
    store_article(db, record("https://x.test/1"), [], "now")
    # Either a result or a one-line QueryError: never a raw sqlite3 error.
    try:
        rows = search_articles(db, query)
    except QueryError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(rows, list)


def test_readonly_open_of_a_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="no database here yet"):
        open_database(tmp_path / "missing.db", readonly=True)


def test_unwritable_location_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        open_database(blocker / "db.sqlite")


def test_a_reader_reads_while_a_writer_writes(tmp_path):
    path = tmp_path / "wal.db"
    first = open_database(path)
    store_article(first, record("https://x.test/0"), [], "now")
    first.close()
    errors = []

    def write_many():
        writer = open_database(path)
        try:
            for n in range(1, 200):
                store_article(writer, record(f"https://x.test/{n}", content_hash=f"h{n}"), [], "now")
        except Exception as error:  # the assertion below reports it
            errors.append(error)
        finally:
            writer.close()

    thread = threading.Thread(target=write_many)
    reader = open_database(path, readonly=True)
    thread.start()
    counts = [len(search_articles(reader, "Commerce", limit=1000)) for _ in range(50)]
    thread.join()
    assert not errors
    assert counts == sorted(counts) and counts[-1] >= 1
    assert len(search_articles(reader, "Commerce", limit=1000)) == 200


def test_search_filters_inside_the_index_follow_reclassification(tmp_path):
    """Topic facets in the full-text index change with the article's topics (labels, reclassify)."""
    from pipeline.items import TopicScore
    from storage.articles import set_classification, store_article
    from storage.search import search_articles

    db = open_database(tmp_path / "f.db")
    record = {
        "canonical_url": "https://x.test/f",
        "url": "https://x.test/f",
        "source": "s",
        "title": "Customs checks on H200 shipments",
        "text": "China's customs stepped up checks on H200 shipments this week.",
        "published_at": "2025-12-12T08:00:00Z",
        "fetched_at": "2025-12-12T09:00:00Z",
        "lang": "en",
        "relevant": 1,
        "relevance": 0.9,
    }
    article = store_article(db, record, [TopicScore("market", 0.8)], "2025-12-12T09:00:00Z").article_id
    assert [r["id"] for r in search_articles(db, "H200", topic="market", since="2025-12-01")] == [article]
    set_classification(db, article, True, 0.9, [TopicScore("china-response", 0.9)], "v2")
    assert search_articles(db, "H200", topic="market", since="2025-12-01") == []
    assert [r["id"] for r in search_articles(db, "H200", topic="china-response", until="2026-01-01")] == [article]
    assert search_articles(db, "H200", since="2025-12-13") == []
    db.close()


def test_relevance_counts_the_words_not_the_facets_a_filter_adds(db):
    """Two articles with the same words rank alike, whatever their month: the month a date filter adds to
    the MATCH is no evidence of relevance (before migration 0020, the article alone in its month came first
    because that month's token is rarer)."""
    topics = [TopicScore("export-controls", 0.8, [])]
    store_article(db, record("https://x.test/quiet", published_at="2025-11-20T00:00:00Z"), topics, "now")
    store_article(db, record("https://x.test/busy", content_hash="h2"), topics, "now")
    for n in range(6):
        other = record(f"https://x.test/other-{n}", content_hash=f"o{n}", title=f"Market note {n}", text="Shares rose.")
        store_article(db, other, topics, "now")
    found = search_articles(db, "H200", sort="relevance", since="2025-11-01")
    # Equal scores, so the newer id comes first, as it does for any tie.
    assert [r["url"] for r in found] == ["https://x.test/busy", "https://x.test/quiet"]


def _rows(conn: sqlite3.Connection, sql: str) -> list[dict]:
    cursor = conn.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _migrate_only_before(monkeypatch, name: str) -> None:
    """Databases opened from here on are migrated up to the named migration, without it: as an older
    chipwatch left them."""
    from storage import migrations

    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[: [done for done, _ in MIGRATIONS].index(name)])


def test_migration_0022_moves_the_text_last_and_keeps_every_row_index_view_and_reference(tmp_path, monkeypatch):
    """A database made before 0022, with articles of real length, copies, entities, topics, a profile and a
    fingerprint: after the migration the text is the articles' last column, and every row, index and view,
    the full-text index and every reference between tables are as they were."""
    path = tmp_path / "old.db"
    _migrate_only_before(monkeypatch, "0022_text_last")
    old = open_database(path)
    topics = [TopicScore("export-controls", 0.8, ["rule"])]
    for n in range(3):
        long_text = f"Article {n} on H200 licences. " + "Commerce reviewed the licence applications again. " * 300
        store_article(old, record(f"https://x.test/{n}", text=long_text, content_hash=f"h{n}"), topics, "now")
    add_copy(old, 1, "syndicated", "https://copy.test/1", "2025-12-12T17:00:00Z")
    old.conn.execute("INSERT INTO entities (article_id, kind, value) VALUES (2, 'chip', 'h200')")
    old.conn.execute("INSERT INTO minhash_signatures (article_id, signature) VALUES (3, x'00')")
    old.conn.execute("INSERT INTO article_profiles (article_id, moment, keywords, topics) VALUES (1, 'm', '{}', '[]')")
    columns = [row[1] for row in old.conn.execute("PRAGMA table_info(articles)")]
    assert columns.index("text") < columns.index("story_id")  # the layout 0022 changes
    tables = ("articles", "copies", "entities", "minhash_signatures", "article_profiles", "article_topics")
    before = {table: _rows(old.conn, f"SELECT * FROM {table} ORDER BY rowid") for table in tables}
    schema = "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'view') ORDER BY name"
    schema_before = old.conn.execute(schema).fetchall()
    found_before = sorted(hit["id"] for hit in search_articles(old, "licence applications"))
    old.close()
    _migrate_only_before(monkeypatch, "0023_centrality_apart")  # 0023 changes article_profiles

    db = open_database(path)
    columns_after = [row[1] for row in db.conn.execute("PRAGMA table_info(articles)")]
    assert columns_after[-1] == "text" and sorted(columns_after) == sorted(columns)
    assert {table: _rows(db.conn, f"SELECT * FROM {table} ORDER BY rowid") for table in tables} == before
    assert db.conn.execute(schema).fetchall() == schema_before
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert len(_rows(db.conn, "SELECT * FROM articles_flat")) == 3
    assert sorted(hit["id"] for hit in search_articles(db, "licence applications")) == found_before == [1, 2, 3]
    assert get_article(db, 1)["text"] == before["articles"][0]["text"]
    with pytest.raises(sqlite3.IntegrityError):  # the references are enforced on the rebuilt table
        db.conn.execute("DELETE FROM articles WHERE id = 2")
    db.close()


def test_migration_0023_moves_centrality_apart_and_grouping_goes_on_adding_to_it(tmp_path, monkeypatch):
    """A database made before 0023, whose profiles hold centralities: after it, article_centrality holds
    each one that is not zero, article_profiles holds none, every other column of the profiles is as it
    was, and grouping goes on adding to the centralities that moved."""
    from storage import transaction
    from storage.stories import join_story, save_profile

    path = tmp_path / "old.db"
    _migrate_only_before(monkeypatch, "0023_centrality_apart")
    old = open_database(path)
    topics = [TopicScore("export-controls", 0.8, ["rule"])]
    for n in range(4):
        store_article(old, record(f"https://x.test/{n}", content_hash=f"h{n}"), topics, "now")
    for article_id, centrality in ((1, 0.0), (2, 1.25), (3, 0.5)):
        old.conn.execute(
            "INSERT INTO article_profiles (article_id, moment, keywords, topics, centrality) "
            "VALUES (?, '2025-12-12T08:00:00Z', '{\"w:h200\": 1.0}', '[]', ?)",
            [article_id, centrality],
        )
    old.conn.commit()
    profiles_before = _rows(old.conn, "SELECT * FROM article_profiles ORDER BY article_id")
    old.close()
    monkeypatch.undo()

    db = open_database(path)
    assert db.conn.execute("SELECT article_id, centrality FROM article_centrality ORDER BY 1").fetchall() == [
        (2, 1.25),
        (3, 0.5),
    ]
    profiles_after = _rows(db.conn, "SELECT * FROM article_profiles ORDER BY article_id")
    assert profiles_after == [{k: v for k, v in row.items() if k != "centrality"} for row in profiles_before]
    with transaction(db) as conn:
        story = conn.execute(
            "INSERT INTO stories (title, title_article_id, first_seen, last_seen, article_count, outlets, languages, "
            "topics, updated_at) VALUES ('s', 2, 'a', 'b', 0, '[]', '[]', '[]', 'now')"
        ).lastrowid
        save_profile(conn, 4, "2025-12-12T09:00:00Z", {"w:h200": 1.0}, [])
        join_story(conn, story, 4, {2: 0.5, 1: 0.25}, "now")
    assert dict(db.conn.execute("SELECT article_id, centrality FROM article_centrality").fetchall()) == {
        1: 0.25,
        2: 1.75,
        3: 0.5,
        4: 0.75,
    }
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def test_a_migration_without_foreign_keys_that_would_break_a_reference_is_refused_and_undone(tmp_path, monkeypatch):
    """Migrations that rebuild a referenced table run with foreign keys off; one that would leave a row
    pointing at nothing fails with one line, and the database is left as it was, foreign keys on."""
    from storage import migrations

    path = tmp_path / "m.db"
    db = open_database(path)
    store_article(db, record("https://x.test/1"), [TopicScore("export-controls", 0.8, ["rule"])], "now")
    db.close()

    def breaks(database) -> None:
        database.conn.execute("DELETE FROM articles")  # its topics now point at nothing

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, ("9999_breaks", breaks)])
    monkeypatch.setattr(migrations, "WITHOUT_FOREIGN_KEYS", migrations.WITHOUT_FOREIGN_KEYS | {"9999_breaks"})
    with pytest.raises(StorageError, match="9999_breaks would break 1 reference"):
        open_database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM migrations WHERE name = '9999_breaks'").fetchone()[0] == 0
    conn.close()
