"""Screening lists as sources: the Consolidated Screening List's shapes read with their bad input, the
comparison with the stored snapshot, and crawls over real HTTP of every version the demo serves, each change
checked against demo/lists.toml; a second reading finds nothing."""

from __future__ import annotations

import json

import pytest

from chipwatch.errors import FeedError
from demo import lists as demo_lists
from pipeline.list_changes import SuspiciousReading, diff_lists, group_changes
from spiders.screening_list_parser import ListEntry, list_code_of, parse_screening_list
from tests.helpers import crawl, query, run_chipwatch, write_sources

EL = "Entity List (EL) - Bureau of Industry and Security"


def row(**fields):
    base = {"id": "x-1", "source": EL, "name": "Example Trading Co., Ltd.", "addresses": [],
            "federal_register_notice": "90 FR 100", "start_date": "2025-01-02"}  # fmt: skip
    base.update(fields)
    return base


def as_json(*rows, total=None) -> bytes:
    return json.dumps(
        {"total": len(rows) if total is None else total, "sources_used": [], "results": list(rows)}
    ).encode()


# --- reading the published shapes -----------------------------------------------------------------------


def test_json_entries_keep_the_lists_own_ids_names_addresses_countries_and_citations():
    body, content_type = demo_lists.list_json(2)
    parsed = parse_screening_list(body, content_type)
    assert parsed.problems == []
    by_id = {entry.id: entry for entry in parsed.entries}
    assert set(by_id) == {e["id"] for e in demo_lists.entries_of(2)}
    xinghe = by_id["demo-el-0005"]
    assert xinghe.list_code == "EL"
    assert xinghe.countries == ("CN",)
    assert xinghe.latest_citation == "90 FR 41001"
    assert "Xinghe Semi" in xinghe.alt_names
    assert xinghe.original_name == "星河半导体设备股份有限公司"
    assert any("Zhangjiang" in address and "Shanghai" in address for address in xinghe.addresses)


def test_csv_reads_the_same_entries_as_json():
    from_json = parse_screening_list(*demo_lists.list_json(3)).entries
    from_csv = parse_screening_list(*demo_lists.list_csv(3)).entries
    assert {e.key: e.compared() for e in from_csv} == {e.key: e.compared() for e in from_json}


@pytest.mark.parametrize("shape", [demo_lists.list_json, demo_lists.list_csv])
def test_a_truncated_download_is_refused_with_the_reason(shape):
    with pytest.raises(FeedError, match=r"truncat|cut|incomplete"):
        parse_screening_list(*shape(4))


def test_a_total_that_disagrees_with_the_results_is_a_cut_download_or_an_api_page():
    with pytest.raises(FeedError, match=r"page of the search API|cut"):
        parse_screening_list(as_json(row(), total=500), "application/json")


def test_bad_rows_are_reported_one_by_one_and_the_rest_read():
    body = as_json(
        row(id="a", name="Alpha Devices Ltd."),
        row(id="a", name="Alpha Devices Limited (again)"),  # a duplicate id: the first stays
        row(id="b", name=""),  # no name
        row(id="c", name="Gamma Photonics", brand_new_field="x"),  # a field the schema did not have
        row(id="d", name="Delta Systems", remarks="also known as 德尔塔系统有限公司"),  # Chinese in remarks
        {"id": "e", "name": "Epsilon Labs"},  # no source list: cannot say which list it is on
    )
    parsed = parse_screening_list(body, "application/json")
    assert [e.id for e in parsed.entries] == ["a", "c", "d"]
    assert parsed.entries[0].name == "Alpha Devices Ltd."
    problems = "\n".join(parsed.problems)
    assert any("already used" in problem and "'a'" in problem for problem in parsed.problems)
    assert "no name" in problems
    assert "brand_new_field" in problems
    assert "source" in problems
    assert parsed.entries[2].original_name == "德尔塔系统有限公司"


def test_an_entry_without_an_id_gets_a_stable_one_from_its_list_and_name():
    first = parse_screening_list(as_json(row(id=None, name="Zeta Optics")), "application/json").entries[0]
    again = parse_screening_list(as_json(row(id=None, name="Zeta Optics", addresses=[])), "application/json").entries[0]
    assert first.id and first.id == again.id


def test_a_csv_with_a_missing_cell_reports_the_row():
    body, _ = demo_lists.list_csv(1)
    lines = body.decode().split("\r\n")
    lines.insert(2, "broken-row,only,three")
    parsed = parse_screening_list("\r\n".join(lines).encode(), "text/csv")
    assert any("row" in problem for problem in parsed.problems)
    assert len(parsed.entries) == len(demo_lists.entries_of(1))


def test_neither_json_nor_csv_is_a_clear_error():
    with pytest.raises(FeedError):
        parse_screening_list(b"<html><body>Service unavailable</body></html>", "text/html")


# --- comparing with the snapshot ------------------------------------------------------------------------


def entries(version: int) -> list[ListEntry]:
    return parse_screening_list(*demo_lists.list_json(version)).entries


def observed(changes) -> set[tuple[str, str, str]]:
    return {(c.kind, c.entry.list_code, c.entry.id) for c in changes}


def expected(version: int) -> set[tuple[str, str, str]]:
    return {(c["kind"], c["list"], c["id"]) for c in demo_lists.expected_changes(version)}


@pytest.mark.parametrize("version", [2, 3])
def test_diff_finds_exactly_the_changes_the_demo_states(version):
    stored = {e.key: e for e in entries(version - 1)}
    changes = diff_lists(stored, entries(version))
    assert observed(changes) == expected(version)
    for change in changes:
        wanted = next(c for c in demo_lists.expected_changes(version) if c["id"] == change.entry.id)
        assert change.citation == wanted["citation"]
        if change.kind == "changed":
            assert list(change.fields) == wanted["fields"]


def test_a_list_compared_with_itself_has_no_changes_and_a_first_reading_lists_everything():
    assert diff_lists({e.key: e for e in entries(3)}, entries(3)) == []
    first = diff_lists({}, entries(1))
    assert {c.kind for c in first} == {"listed"} and len(first) == len(entries(1))


def test_a_reading_that_loses_most_of_a_list_is_suspicious_not_a_mass_removal():
    many = [ListEntry.from_dict({**entries(1)[0].to_dict(), "id": f"n{i}", "name": f"Name {i}"}) for i in range(40)]
    with pytest.raises(SuspiciousReading):
        diff_lists({e.key: e for e in many}, many[:5])


def test_changes_group_by_list_and_citation_into_headlines():
    stored = {e.key: e for e in entries(1)}
    groups = group_changes(diff_lists(stored, entries(2)))
    headlines = sorted(g.headline() for g in groups)
    assert any(h.startswith("Entity List: 3 entries added") and "90 FR 41001" in h for h in headlines)
    assert any("revised" in h and "89 FR 70001" in h for h in headlines)
    added = next(g for g in groups if "90 FR 41001" in g.headline())
    assert "China (2)" in added.headline() and "Singapore (1)" in added.headline()
    assert "export-controls" in added.topics()
    assert "country:cn" in added.entities() and "agency:bis" in added.entities()


# --- crawls over HTTP -----------------------------------------------------------------------------------


def list_source(base: str, path: str = "/lists/consolidated.json") -> dict:
    return {"name": "csl", "kind": "screening-list", "url": base + path, "lang": "en"}


def stored_changes(db) -> set[tuple[str, str, str]]:
    return set(query(db, "SELECT kind, list_code, entry_id FROM screening_changes"))


def test_crawls_of_every_demo_version_record_each_change_once(fresh_mirror, tmp_path):
    sources = write_sources(tmp_path / "s.toml", list_source(fresh_mirror.base_url))
    db = tmp_path / "c.db"
    fresh_mirror.list_version = 1
    assert crawl(db, sources).returncode == 0
    assert stored_changes(db) == set()  # a first reading is the snapshot, not news
    assert query(db, "SELECT count(*) FROM screening_entries")[0][0] == len(demo_lists.entries_of(1))
    assert query(db, "SELECT count(*) FROM articles WHERE source = 'csl'")[0][0] == 0

    wanted: set[tuple[str, str, str]] = set()
    for version in (2, 3):
        fresh_mirror.list_version = version
        result = crawl(db, sources)
        assert result.returncode == 0, result.stderr.decode()[-1500:]
        wanted |= expected(version)
        assert stored_changes(db) == wanted
    snapshot = {(code, entry_id) for code, entry_id in query(db, "SELECT list_code, entry_id FROM screening_entries")}
    assert snapshot == {(list_code_of(e["source"]), e["id"]) for e in demo_lists.entries_of(3)}

    # Each list and citation that changed is one item, classified, joined to its entities.
    items = query(db, "SELECT id, title FROM articles WHERE source = 'csl' ORDER BY id")
    titles = [title for _, title in items]
    assert any(t.startswith("Entity List: 3 entries added") and "90 FR 41001" in t for t in titles)
    assert any(t.startswith("Military End-User List") and "90 FR 47002" in t for t in titles)
    for article_id, _ in items:
        topics = {t for (t,) in query(db, "SELECT topic FROM article_topics WHERE article_id = ?", [article_id])}
        assert "export-controls" in topics
    changes_with_items = query(db, "SELECT count(*) FROM screening_changes WHERE article_id IS NULL")[0][0]
    assert changes_with_items == 0

    # A truncated download fails with the reason and moves nothing.
    fresh_mirror.list_version = 4
    failed = crawl(db, sources)
    assert failed.returncode != 0 and b"failed csl" in failed.stderr
    reasons = " ".join(m for (m,) in query(db, "SELECT message FROM crawl_errors")).lower()
    assert "truncat" in reasons or "cut off" in reasons
    assert stored_changes(db) == wanted
    assert {(c, e) for c, e in query(db, "SELECT list_code, entry_id FROM screening_entries")} == snapshot

    # Back to the good file: nothing new, whether fetched in full or answered 304.
    fresh_mirror.list_version = 3
    for _ in range(2):
        assert crawl(db, sources).returncode == 0
        assert stored_changes(db) == wanted
        assert query(db, "SELECT count(*) FROM articles WHERE source = 'csl'")[0][0] == len(items)


@pytest.fixture(scope="module")
def crawled_lists(network, tmp_path_factory):
    """Versions 1, 2 (JSON) and 3 (CSV) crawled into one database, two counterparty watches added first."""
    from demo.server import MirrorServer

    server = MirrorServer("127.0.0.1", 0, network).start_background()
    tmp = tmp_path_factory.mktemp("lists")
    db = tmp / "c.db"
    sources = write_sources(tmp / "s.toml", list_source(server.base_url))
    ours = tmp / "ours.csv"
    ours.write_text("name,country\n星河半導體設備有限公司,CN\nAcme Widgets Inc.,US\n", encoding="utf-8")
    strangers = tmp / "strangers.csv"
    strangers.write_text("name\nAcme Widgets Inc.\n", encoding="utf-8")
    try:
        for name, path in (("ours", ours), ("strangers", strangers)):
            added = run_chipwatch("--db", str(db), "watch", "add", name, "--counterparties", str(path))
            assert added.returncode == 0, added.stderr
        for version in (1, 2):
            server.list_version = version
            assert crawl(db, sources).returncode == 0
        # Version 3 read as CSV: the same source compared with the snapshot its JSON readings left.
        server.list_version = 3
        as_csv = write_sources(tmp / "csv.toml", list_source(server.base_url, "/lists/consolidated.csv"))
        assert crawl(db, as_csv).returncode == 0
    finally:
        server.stop()
    return db, tmp


def test_lists_changes_and_screen_on_the_crawled_lists(crawled_lists, tmp_path):
    db, _ = crawled_lists
    result = run_chipwatch("--db", str(db), "lists", "changes", "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert {(r["kind"], r["list_code"], r["entry_id"]) for r in records} == expected(2) | expected(3)
    assert records[0]["observed_at"] >= records[-1]["observed_at"]
    xinghe = next(r for r in records if r["entry_id"] == "demo-el-0005")
    assert xinghe["aliases"] == ["Xinghe Semi", "星河半导体设备股份有限公司"]
    assert xinghe["countries"] == ["CN"] and xinghe["citation"] == "90 FR 41001"
    assert xinghe["original_name"] == "星河半导体设备股份有限公司"
    assert set(records[0]) >= {"name", "aliases", "countries", "addresses", "list_name", "citation", "start_date"}

    singapore = run_chipwatch("--db", str(db), "lists", "changes", "--country", "SG", "--format", "json")
    assert [r["entry_id"] for r in json.loads(singapore.stdout)] == ["demo-el-0007"]
    meu = run_chipwatch("--db", str(db), "lists", "changes", "--list", "MEU", "--format", "csv")
    lines = meu.stdout.decode().strip().splitlines()
    assert lines[0].startswith("observed_at,kind") and len(lines) == 2 and "demo-meu-0002" in lines[1]
    table = run_chipwatch("--db", str(db), "lists", "changes", "--list", "EL")
    assert b"Xinghe Semiconductor" in table.stdout and b"90 FR 41001" in table.stdout
    bad = run_chipwatch("--db", str(db), "lists", "changes", "--country", "China")
    assert bad.returncode != 0 and b"two-letter" in bad.stderr

    parties = tmp_path / "parties.csv"
    parties.write_bytes(
        "name,country,id\n"
        "XINGHE SEMICONDUCTOR EQUIPMENT CO LTD,CN,c-1\n"  # normalised: case, punctuation, legal form
        "星河半導體設備有限公司,CN,c-2\n"  # Traditional script, another legal form
        "Kunlun Deep Computing Centre,,c-3\n"  # fuzzy
        "Acme Widgets Inc.,US,c-4\n"  # no match
        "\n".encode("gb18030")
    )
    screened = run_chipwatch("--db", str(db), "screen", str(parties), "--format", "json")
    assert screened.returncode == 0, screened.stderr
    hits = json.loads(screened.stdout)
    by_row = {}
    for hit in hits:
        by_row.setdefault(hit["counterparty_id"], []).append(hit)
    assert by_row["c-1"][0]["entry_id"] == "demo-el-0005" and by_row["c-1"][0]["match"] == "normalised"
    assert by_row["c-2"][0]["entry_id"] == "demo-el-0005" and by_row["c-2"][0]["score"] == 100
    assert by_row["c-3"][0]["entry_id"] == "demo-meu-0002" and by_row["c-3"][0]["match"] == "fuzzy"
    assert by_row["c-1"][0]["citation"] == "90 FR 41001" and by_row["c-1"][0]["list_code"] == "EL"
    assert "c-4" not in by_row
    removed = [h for h in hits if h["entry_id"] == "demo-el-0004"]
    assert removed == []  # taken off the list: screening compares with the current snapshot


def test_screen_refuses_an_empty_database_and_an_empty_file(tmp_path):
    parties = tmp_path / "p.csv"
    parties.write_text("Acme\n", encoding="utf-8")
    result = run_chipwatch("--db", str(tmp_path / "none.db"), "screen", str(parties))
    assert result.returncode != 0 and b"Traceback" not in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\n")
    db_result = run_chipwatch("--db", str(tmp_path / "none.db"), "screen", str(empty))
    assert db_result.returncode != 0 and b"Traceback" not in db_result.stderr


def test_a_watch_with_a_counterparty_file_matches_only_list_changes_naming_one_of_them(crawled_lists, tmp_path):
    db, directory = crawled_lists
    missing = run_chipwatch("--db", str(db), "watch", "add", "gone", "--counterparties", str(tmp_path / "no.csv"))
    assert missing.returncode != 0 and b"Traceback" not in missing.stderr
    matched = query(
        db,
        "SELECT w.name, a.title FROM watch_matches m JOIN watches w ON w.id = m.watch_id "
        "JOIN articles a ON a.id = m.article_id",
    )
    assert len(matched) == 1
    name, title = matched[0]
    assert name == "ours" and title.startswith("Entity List: 3 entries added")  # not the revision of another
    listed = json.loads(run_chipwatch("--db", str(db), "watch", "list", "--format", "json").stdout)
    assert {w["name"]: w["counterparties"] for w in listed} == {
        "ours": str((directory / "ours.csv").resolve()),
        "strangers": str((directory / "strangers.csv").resolve()),
    }


def test_list_changes_come_first_in_the_digest_under_rules_and_lists(crawled_lists, tmp_path):
    from datetime import UTC, datetime, timedelta

    from chipwatch.config import Reader, load_options
    from chipwatch.digest.render import render
    from chipwatch.digest.run import build
    from storage import opened

    db, _ = crawled_lists
    now = datetime.now(UTC)
    covers = (
        (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    options = load_options(
        env={"CHIPWATCH_DB": str(db), "CHIPWATCH_DAEMON_TIMEZONE": "UTC", "CHIPWATCH_DIGEST_OUTBOX": str(tmp_path)}
    )
    with opened(db, readonly=True) as handle:
        digest = build(options, handle, Reader("compliance@example.org", "Compliance"), now.date(), covers)
    titles = [item.title for item in digest.rules.changes]
    # Version 2: three added and one revised on the Entity List; version 3: one removed, one MEU addition.
    assert len(titles) == 4 and any(t.startswith("Entity List: 3 entries added") for t in titles)
    in_sections = {item.id for s in digest.sections for g in s.stories for item in g.items}
    assert not in_sections & {item.id for item in digest.rules.changes}  # shown once
    assert digest.items == len(titles) + len(in_sections)
    html, text = render(digest, options.digest)
    assert "Rules and lists" in html
    first = text.index("== Rules and lists ==")
    assert all(first < text.index(f"== {s.label} ==") for s in digest.sections)
    assert "Xinghe Semiconductor Equipment Co., Ltd. (星河半导体设备股份有限公司) [CN]" in text  # names each party
    assert "removed: Volkhov Precision Instruments JSC [RU]" in text
    assert "chipwatch-changes" not in text  # no link that downloads the whole list


def test_a_list_put_back_byte_for_byte_is_read_again_not_answered_304(fresh_mirror, tmp_path):
    """The third file is the first byte for byte: the validators of the first reading must not answer it."""
    everyone = demo_lists.entries_of(1)
    without = [e for e in everyone if e["id"] != "demo-el-0004"]
    sources = write_sources(tmp_path / "s.toml", list_source(fresh_mirror.base_url, "/custom/list.json"))
    db = tmp_path / "c.db"
    for entries in (everyone, without, everyone):
        body = json.dumps({"total": len(entries), "sources_used": [], "results": entries}).encode()
        fresh_mirror.add_route("/custom/list.json", body, "application/json", headers={"ETag": f'"{len(entries)}"'})
        assert crawl(db, sources).returncode == 0
    kinds = [kind for (kind,) in query(db, "SELECT kind FROM screening_changes ORDER BY id")]
    assert kinds == ["removed", "added"]
    assert query(db, "SELECT count(*) FROM screening_changes WHERE article_id IS NULL")[0][0] == 0
    assert ("EL", "demo-el-0004") in set(query(db, "SELECT list_code, entry_id FROM screening_entries"))


def test_the_same_change_made_again_is_a_row_of_its_own_and_one_applied_twice_is_not(tmp_path):
    from storage import opened
    from storage.screening_lists import apply_changes, list_changes, stored_entries

    everyone = entries(1)
    without = [e for e in everyone if e.id != "demo-el-0004"]
    with opened(tmp_path / "c.db") as db:
        readings = [everyone, without, everyone, without]
        for number, reading in enumerate(readings):
            stored = {key: ListEntry.from_dict(data) for key, data in stored_entries(db, "csl").items()}
            rows = [{**c.row(), "fingerprint": c.entry.fingerprint()} for c in diff_lists(stored, reading)]
            for _ in range(2):  # the second try of a reading (an item stored again) adds nothing
                apply_changes(db, "csl", None, rows, f"2025-12-0{number + 1}T00:00:00Z")
        kinds = [row["kind"] for row in reversed(list_changes(db))]
    assert kinds == ["removed", "added", "removed"]
