"""Screening counterparties: names folded to one form, the counterparty file's encodings and bad rows, and
the kinds of match (exact, normalised, fuzzy, pinyin) each with its score. Every name here is fictional."""

from __future__ import annotations

import pytest

from chipwatch.errors import ChipwatchError
from chipwatch.lists.counterparties import Counterparty, parse_counterparties
from chipwatch.lists.names import normalise_name
from chipwatch.lists.screen import Screener


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Lanting Microsystems Co., Ltd.", "lanting microsystems"),
        ("LANTING MICROSYSTEMS CO LTD", "lanting microsystems"),
        ("Lanting Microsystems Company Limited", "lanting microsystems"),
        ("Ｌａｎｔｉｎｇ Microsystems Inc.", "lanting microsystems"),  # full-width letters
        ("Volkhov Precision Instruments JSC", "volkhov precision instruments"),
        ("Smith & Sons Trading", "smith and sons trading"),
        ("蓝汀微系统有限公司", "蓝汀微系统"),
        ("藍汀微系統股份有限公司", "蓝汀微系统"),  # Traditional script, another legal form
        ("星河半導體設備有限責任公司", "星河半导体设备"),
        ("Holdings Technology", "holdings technology"),  # words that tell parties apart stay
    ],
)
def test_names_fold_case_width_script_punctuation_and_legal_forms(written, normalised):
    assert normalise_name(written) == normalised


def test_a_name_that_is_only_a_legal_form_is_not_emptied_into_a_match_for_everything():
    assert normalise_name("有限公司") == "有限公司"
    assert normalise_name("Co., Ltd.") == ""


def test_a_utf8_file_with_a_bom_and_a_header_in_any_order():
    data = "\ufeffID,Country,Name\n7,cn,Lanting Micro\n8,,Qingshan Computing\n".encode()
    read = parse_counterparties(data)
    assert read.encoding == "utf-8" and read.problems == []
    assert read.parties == [
        Counterparty(2, "Lanting Micro", "CN", "7"),
        Counterparty(3, "Qingshan Computing", None, "8"),
    ]


def test_a_gbk_file_from_a_chinese_spreadsheet_without_a_header():
    data = "蓝汀微系统有限公司,CN,A-1\n青山计算,CN,A-2\n".encode("gbk")
    read = parse_counterparties(data)
    assert read.encoding == "gb18030"
    assert [p.name for p in read.parties] == ["蓝汀微系统有限公司", "青山计算"]


def test_bad_rows_are_reported_by_number_and_the_rest_kept():
    data = b"name,country,id\nAlpha Devices,CN,1\n,CN,2\nAlpha Devices,CN,1\nBeta Optics,China,3\n\nGamma Labs\n"
    read = parse_counterparties(data)
    assert [p.name for p in read.parties] == ["Alpha Devices", "Beta Optics", "Gamma Labs"]
    assert read.parties[1].country is None  # "China" is not a code: screened without a country
    problems = "\n".join(read.problems)
    assert "row 3: no name" in problems and "row 4: repeats" in problems and "row 5: country 'China'" in problems


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", b"name,country\n,CN\n"])
def test_an_empty_file_is_one_clear_error(data):
    with pytest.raises(ChipwatchError):
        parse_counterparties(data)


def test_bytes_that_are_no_text_are_one_clear_error():
    with pytest.raises(ChipwatchError, match="UTF-8"):
        parse_counterparties(bytes(range(128, 256)) * 4)


ENTRIES = [
    {"id": "el-1", "list_code": "EL", "list_name": "Entity List", "name": "Lanting Microsystems Co., Ltd.",
     "alt_names": ["Lanting Micro", "蓝汀微系统有限公司"], "original_name": "蓝汀微系统有限公司",
     "countries": ["CN"], "citation": "89 FR 70001; 90 FR 41001", "source": "csl"},
    {"id": "el-2", "list_code": "EL", "list_name": "Entity List", "name": "Qingshan Jisuan Keji", "alt_names": [],
     "countries": ["CN"], "citation": "89 FR 70001", "source": "csl"},
    {"id": "dpl-1", "list_code": "DPL", "list_name": "Denied Persons List", "name": "Marlow Coastal Trading LLC",
     "alt_names": [], "countries": ["US"], "citation": "89 FR 50004", "source": "csl"},
]  # fmt: skip


def best(name: str, country: str | None = None, threshold: float = 88):
    hits = Screener(ENTRIES).screen(Counterparty(1, name, country), threshold)
    return hits[0] if hits else None


def test_each_kind_of_match_with_its_score_name_list_and_latest_citation():
    exact = best("lanting microsystems co., ltd.")
    assert (exact.match, exact.score, exact.entry_id) == ("exact", 100, "el-1")
    assert exact.citation == "90 FR 41001"  # the newest of the notices the entry cites
    normalised = best("Lanting Microsystems Limited", "CN")
    assert (normalised.match, normalised.score, normalised.country_match) == ("normalised", 100, True)
    chinese = best("藍汀微系統股份有限公司")
    assert chinese.entry_id == "el-1" and chinese.match == "normalised" and chinese.matched_name == "蓝汀微系统有限公司"
    fuzzy = best("Marlowe Coastal Trading")
    assert fuzzy.match == "fuzzy" and 88 <= fuzzy.score < 100 and fuzzy.list_code == "DPL"
    pinyin = best("青山计算科技有限公司")
    assert pinyin.entry_id == "el-2" and pinyin.match == "pinyin"


def test_unrelated_names_and_a_country_mismatch():
    assert best("Acme Widgets Inc.") is None
    assert best("Lanting Optics") is None  # one shared word is not a match
    other = best("Lanting Microsystems Ltd", "SG")
    assert other.country_match is False  # reported, never dropped for the country


def test_the_threshold_decides_what_fuzzy_reports():
    assert best("Marlowe Coastal Trading", threshold=99) is None
