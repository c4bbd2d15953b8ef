"""Rules as structured documents and list changes in the digest: Federal Register fields kept (demo and a
real API response), `show` printing them, `search --doc-type/--effective-since`, and the digest's "Rules and
lists": what takes effect this week and whose comments close soon (list changes there: test_screening_lists)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from chipwatch.config import Reader, load_options
from spiders.federal_register_parser import document_fields
from tests.helpers import query, real_fixture, run_chipwatch


def h200_rule(db) -> int:
    [(article_id,)] = query(db, "SELECT article_id FROM rule_documents WHERE citation = '90 FR 57003'")
    return article_id


def test_the_crawl_keeps_each_documents_number_type_rin_parts_and_dates(demo_db):
    rows = query(
        demo_db,
        "SELECT doc_type, rin, cfr_parts, citation, effective_on, comments_close_on FROM rule_documents "
        "WHERE citation = '90 FR 57003'",
    )
    assert rows == [("Rule", "0694-AJ12", '["15 CFR 742", "15 CFR 744"]', "90 FR 57003", "2025-12-15", "2026-01-12")]
    assert query(demo_db, "SELECT count(*) FROM rule_documents WHERE document_number IS NULL")[0][0] == 0


def test_show_prints_the_documents_fields(demo_db):
    result = run_chipwatch("--db", str(demo_db), "show", str(h200_rule(demo_db)))
    text = result.stdout.decode()
    assert "90 FR 57003" in text and "effective 2025-12-15" in text and "comments close 2026-01-12" in text
    assert "RIN 0694-AJ12" in text and "amends 15 CFR 742, 15 CFR 744" in text
    shown = json.loads(run_chipwatch("--db", str(demo_db), "show", str(h200_rule(demo_db)), "--format", "json").stdout)
    assert shown["document"]["comments_close_on"] == "2026-01-12"


def test_search_filters_on_document_type_and_effective_date(demo_db):
    def ids(*args: str) -> set[int]:
        result = run_chipwatch("--db", str(demo_db), "search", *args, "--format", "json", "--limit", "1000")
        assert result.returncode == 0, result.stderr
        return {row["id"] for row in json.loads(result.stdout)}

    rules = ids("--doc-type", "rule")
    expected = {
        article_id for (article_id,) in query(demo_db, "SELECT article_id FROM rule_documents WHERE doc_type = 'Rule'")
    }
    assert rules == expected and len(rules) >= 2
    recent = ids("--doc-type", "rule", "--effective-since", "2025-12-01")
    assert recent == {h200_rule(demo_db)}
    assert ids("--doc-type", "proposed-rule", "--effective-since", "2025-12-01") <= recent - recent
    bad = run_chipwatch("--db", str(demo_db), "search", "--effective-since", "soon")
    assert bad.returncode != 0 and b"--effective-since" in bad.stderr


def test_a_real_documents_api_response_gives_every_field():
    document = json.loads(real_fixture("federal_register/fr_doc_2024-27333.json").read_text(encoding="utf-8"))
    fields = document_fields(document, ["Land Management Bureau"])
    assert fields["document_number"] == document["document_number"]
    assert fields["doc_type"] == document["type"]
    assert fields["rin"] == document["regulation_id_numbers"][0]
    assert fields["citation"] == document["citation"]
    assert fields["cfr_parts"] == [f"{r['title']} CFR {r['part']}" for r in document["cfr_references"]]
    for name in ("publication_date", "effective_on", "comments_close_on"):
        assert fields[name] == document[name]


def test_a_trimmed_real_search_response_leaves_the_fields_it_lacks_empty():
    results = json.loads(
        real_fixture("federal_register/fr_bis_results_trimmed_capture_2026-10-02.json").read_text(encoding="utf-8")
    )
    fields = [document_fields(result, []) for result in results]
    assert all(f["document_number"] and f["publication_date"] for f in fields)
    assert {f["doc_type"] for f in fields} <= {"Rule", "Proposed Rule", "Notice", "Presidential Document"}
    assert all(f["effective_on"] is None and f["cfr_parts"] == [] for f in fields)


def options_for(db, tmp_path):
    return load_options(
        env={
            "CHIPWATCH_DB": str(db),
            "CHIPWATCH_DAEMON_TIMEZONE": "UTC",
            "CHIPWATCH_DIGEST_OUTBOX": str(tmp_path / "outbox"),
        }
    )


@pytest.mark.parametrize(
    ("day", "effective", "closing"),
    [(date(2025, 12, 12), ["90 FR 57003"], []), (date(2026, 1, 2), [], ["90 FR 57003"]), (date(2026, 2, 1), [], [])],
)
def test_the_digest_says_what_takes_effect_this_week_and_whose_comments_close_soon(
    demo_db, tmp_path, day, effective, closing
):
    from chipwatch.digest.run import build
    from storage import opened

    reader = Reader("analyst@example.org", "Analyst")
    with opened(demo_db, readonly=True) as db:
        digest = build(
            options_for(demo_db, tmp_path), db, reader, day, ("2025-12-01T00:00:00Z", "2025-12-02T00:00:00Z")
        )
    assert [d.citation for d in digest.rules.effective] == effective
    assert [d.citation for d in digest.rules.closing] == closing
