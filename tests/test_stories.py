"""Copies and story threads: measured on the demo network's truth, over a real crawl and in batch."""

from __future__ import annotations

import itertools
import json
import sqlite3

import pytest

from pipeline.entities import extract_entities
from pipeline.language import to_simplified
from pipeline.minhash import signature, similarity
from pipeline.urls import canonical_url
from tests.helpers import clean_env, run_chipwatch


@pytest.fixture(scope="module")
def crawl(demo_crawl):
    """The session's crawl of the demo network (these tests only read it)."""
    return demo_crawl


def page_groups(crawl, network):
    """For every manifest page: the stored article it became (itself or the one it is a copy of), and that
    article's story."""
    db, base = crawl
    conn = sqlite3.connect(db)
    articles = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT canonical_url, id, story_id FROM articles")}
    copies = {canonical_url(row[0]): row[1] for row in conn.execute("SELECT url, article_id FROM copies")}
    story_of = {row[0]: row[1] for row in conn.execute("SELECT id, story_id FROM articles")}
    conn.close()
    groups = {}
    for article in network.articles:
        if article.members_only:
            continue
        url = canonical_url(base + article.path)
        article_id = articles[url][0] if url in articles else copies.get(url)
        groups[article.id] = (article_id, story_of.get(article_id))
    return groups


def pairwise(pairs):
    tp = sum(1 for truth, predicted in pairs if truth and predicted)
    fp = sum(1 for truth, predicted in pairs if predicted and not truth)
    fn = sum(1 for truth, predicted in pairs if truth and not predicted)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def test_syndicated_copies_collapse_into_one_article(crawl, network):
    groups = page_groups(crawl, network)
    by_id = {a.id: a for a in network.articles}
    pairs = [
        ((by_id[x].duplicate_of or x) == (by_id[y].duplicate_of or y), groups[x][0] == groups[y][0])
        for x, y in itertools.combinations(groups, 2)
    ]
    precision, recall, _ = pairwise(pairs)
    assert precision >= 0.98
    assert recall >= 0.95
    assert all(groups[a][0] is not None for a in groups), "every page is stored as an article or a copy"


def test_the_wire_original_is_the_article_and_carriers_are_copies(crawl, network):
    db, base = crawl
    conn = sqlite3.connect(db)
    wire = next(a for a in network.articles if a.id == "pw-h200-approved")
    row = conn.execute(
        "SELECT id, source FROM articles WHERE canonical_url = ?", [canonical_url(base + wire.path)]
    ).fetchone()
    assert row is not None and row[1] == "pacific-wire"
    carriers = {
        r[0] for r in conn.execute("SELECT COALESCE(publisher, source) FROM copies WHERE article_id = ?", [row[0]])
    }
    # Three carriers were found through the news search, which keeps each one's publisher.
    names = {network.outlets[o].name for o in ("harbor-times", "valley-gazette", "midwest-business")}
    assert carriers == names | {"tech-daily"}
    conn.close()


def test_story_grouping_matches_the_manifest(crawl, network):
    groups = page_groups(crawl, network)
    relevant = [a for a in network.articles if a.relevant and not a.members_only]
    pairs = [
        (x.story == y.story, groups[x.id][1] is not None and groups[x.id][1] == groups[y.id][1])
        for x, y in itertools.combinations(relevant, 2)
    ]
    precision, recall, f1 = pairwise(pairs)
    assert f1 >= 0.90, (precision, recall, f1)


def test_english_and_chinese_coverage_of_one_development_share_a_story(crawl, network):
    groups = page_groups(crawl, network)
    for story in ("h200-approval", "samr-probe", "huawei-ascend", "cac-backdoor"):
        members = [a for a in network.articles if a.story == story]
        assert {a.lang for a in members} >= {"en", "zh-Hans"}
        assert len({groups[a.id][1] for a in members}) == 1, story


def test_stories_have_summaries_and_follow_ups(crawl):
    db, _ = crawl
    result = run_chipwatch("stories", "--format", "json", "--limit", "500", env=clean_env(CHIPWATCH_DB=str(db)))
    stories = json.loads(result.stdout)
    biggest = max(stories, key=lambda s: s["article_count"])
    assert biggest["article_count"] >= 5
    assert {"en", "zh-Hans", "zh-Hant"} <= set(biggest["languages"])
    assert len(biggest["outlets"]) >= biggest["article_count"]  # copies' outlets count too
    assert biggest["first_seen"] <= biggest["last_seen"] and biggest["topics"]
    conn = sqlite3.connect(db)
    for story in stories:
        rows = conn.execute(
            "SELECT is_follow_up FROM articles WHERE story_id = ? ORDER BY published_at, id", [story["id"]]
        ).fetchall()
        assert [r[0] for r in rows] == [0] + [1] * (len(rows) - 1)
    conn.close()
    filtered = json.loads(
        run_chipwatch(
            "stories", "--topic", "enforcement", "--format", "json", env=clean_env(CHIPWATCH_DB=str(db))
        ).stdout
    )
    assert filtered and all("enforcement" in s["topics"] for s in filtered)


def test_story_timeline_shows_what_each_article_added(crawl):
    db, _ = crawl
    env = clean_env(CHIPWATCH_DB=str(db))
    stories = json.loads(run_chipwatch("stories", "--format", "json", env=env).stdout)
    biggest = max(stories, key=lambda s: s["article_count"])
    timeline = json.loads(run_chipwatch("story", str(biggest["id"]), "--format", "json", env=env).stdout)
    dates = [a["moment"] for a in timeline["articles"]]
    assert dates == sorted(dates)
    assert timeline["articles"][0]["follow_up"] is False and all(a["follow_up"] for a in timeline["articles"][1:])
    assert timeline["articles"][0]["added"]
    assert any(a["copies"] for a in timeline["articles"])
    table = run_chipwatch("story", str(biggest["id"]), env=env).stdout.decode()
    assert "also carried by 4 outlets" in table and "follow-up" in table and "added:" in table
    missing = run_chipwatch("story", "99999", env=env)
    assert missing.returncode == 1 and "no story with id 99999" in missing.stderr.decode()


def test_entities_are_normalised_across_languages():
    english = {e.key for e in extract_entities("Nvidia H200 approved; US takes 25%", "The Commerce Department said.")}
    simplified = {e.key for e in extract_entities("英伟达H200获准出口 美方抽成百分之二十五", "美国商务部表示。")}
    traditional = {e.key for e in extract_entities("輝達H200獲准出口 美國抽成25%", "美國商務部表示。")}
    common = {"company:nvidia", "chip:h200", "percent:25%", "agency:us-commerce"}
    assert common <= english and common <= simplified and common <= traditional
    money = {e.key for e in extract_entities("Nvidia takes $5.5 billion charge", "")}
    assert "money:usd:5.5b" in money
    assert "money:usd:5.5b" in {e.key for e in extract_entities("英伟达计提55亿美元", "")}
    assert "chip:h20" not in {e.key for e in extract_entities("H200 only", "")}


def test_entities_found_in_one_pass_are_those_a_search_for_each_form_finds():
    """extract_entities finds the gazetteer's surface forms present in one Aho-Corasick pass; it must name
    the same entities as searching for every form in turn, at word edges, inside longer words and in both
    scripts."""
    from pipeline.entities import _patterns

    def each_form(title: str, text: str) -> set[str]:
        haystack = to_simplified(f"{title}\n{text}".lower())
        return {entity.key for _, pattern, entity in _patterns() if pattern.search(haystack)}

    measured = {"percent", "money", "citation"}  # found by their own patterns, not the gazetteer
    samples = [(form, f"x{form} {form}x, {form}. {form}s and pre{form} {form.upper()}") for form, _, _ in _patterns()]
    samples += [
        ("Nvidia H200 approved; US takes 25%", "The Commerce Department said; SMIC and Huawei's Ascend 910C."),
        ("輝達H20晶片遭約談", "國家網信辦約談輝達，美國商務部出口管制，華為昇騰。"),
        ("", ""),
    ]
    for title, text in samples:
        found = {e.key for e in extract_entities(title, text) if e.kind not in measured}
        assert found == each_form(title, text), title


def test_short_and_boilerplate_texts_are_never_called_copies():
    assert signature("Nvidia H200 approved for China") is None
    boilerplate = "Subscribe to our newsletter. Accept cookies. " * 3
    assert signature(boilerplate) is None


def test_signatures_tell_copies_from_different_articles(network):
    by_id = {a.id: a for a in network.articles}
    wire = signature("\n".join(by_id["pw-h200-approved"].paragraphs))
    copy = signature("\n".join(by_id["valley-h200"].paragraphs))
    other = signature("\n".join(by_id["cl-h200-analysis"].paragraphs))
    assert similarity(wire, copy) >= 0.6
    assert similarity(wire, other) < 0.2


def test_signatures_are_those_stored_fingerprints_were_made_with(network):
    """Stored fingerprints are compared with new ones, so a signature must stay what it was: the blake2b of
    each shingle (its words joined by spaces, in UTF-8) read as a little-endian integer, permuted, minimised."""
    import hashlib

    import numpy

    from pipeline.minhash import _A, _B, MAX_HASH, MERSENNE_PRIME, SHINGLE, tokens

    def plainly(text: str) -> numpy.ndarray:
        words = tokens(text)
        shingles = {" ".join(words[i : i + SHINGLE]).encode("utf-8") for i in range(len(words) - SHINGLE + 1)}
        hashes = numpy.array(
            [int.from_bytes(hashlib.blake2b(shingle, digest_size=4).digest(), "little") for shingle in shingles],
            dtype=numpy.uint64,
        )
        return ((hashes[:, None] * _A + _B) % MERSENNE_PRIME & MAX_HASH).min(axis=0).astype(numpy.uint32)

    texts = ["\n".join(article.paragraphs) for article in network.articles[:30]]  # English and Chinese
    assert any(not text.isascii() for text in texts)
    for text in texts:
        ours = signature(text)
        assert ours is not None and (ours == plainly(text)).all()


def test_cluster_batch_contract(network, tmp_path):
    by_id = {a.id: a for a in network.articles}
    chosen = ["pw-h200-approved", "valley-h200", "hx-h200", "gw-h200", "pw-samr", "hx-samr", "snack-pepper-chips"]
    lines = [
        json.dumps(
            {
                "id": aid,
                "title": by_id[aid].title,
                "text": "\n".join(by_id[aid].paragraphs),
                "published": by_id[aid].published.isoformat(),
            },
            ensure_ascii=False,
        )
        for aid in chosen
    ]
    lines.insert(3, "not json")
    lines.append(json.dumps({"id": "headline-only", "title": "Nvidia H200 approved for China", "text": ""}))
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_chipwatch("cluster", str(path))
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    rows = {row["id"]: row for row in out if "error" not in row}
    assert out[3] == {"id": None, "error": out[3]["error"]} and "line 4: not JSON" in result.stderr.decode()
    assert rows["valley-h200"]["duplicate_of"] == "pw-h200-approved"
    assert rows["pw-h200-approved"]["duplicate_of"] is None
    assert rows["valley-h200"]["story"] == rows["pw-h200-approved"]["story"] == rows["hx-h200"]["story"]
    assert rows["gw-h200"]["story"] == rows["pw-h200-approved"]["story"]
    assert rows["pw-samr"]["story"] == rows["hx-samr"]["story"] != rows["pw-h200-approved"]["story"]
    assert rows["snack-pepper-chips"]["story"] is None
    assert rows["headline-only"]["duplicate_of"] is None


def test_a_new_development_after_a_quiet_spell_is_a_new_story(network, tmp_path):
    by_id = {a.id: a for a in network.articles}
    original = by_id["pw-samr"]
    items = [
        {
            "id": "first",
            "title": original.title,
            "text": "\n".join(original.paragraphs),
            "published": "2025-09-15T08:00:00Z",
        },
        {
            "id": "same-days",
            "title": by_id["gw-samr"].title,
            "text": "\n".join(by_id["gw-samr"].paragraphs),
            "published": "2025-09-16T08:00:00Z",
        },
        {
            "id": "months-later",
            "title": by_id["hx-samr"].title,
            "text": "\n".join(by_id["hx-samr"].paragraphs),
            "published": "2026-03-01T08:00:00Z",
        },
    ]
    path = tmp_path / "quiet.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
    out = {row["id"]: row for row in map(json.loads, run_chipwatch("cluster", str(path)).stdout.decode().splitlines())}
    assert out["first"]["story"] == out["same-days"]["story"]
    assert out["months-later"]["story"] != out["first"]["story"]


def _stored_profile(conn, url, keywords, story_id, moment="2025-12-09T08:00:00Z", entities=("chip:h200",)):
    from storage.stories import save_profile

    article_id = conn.execute(
        "INSERT INTO articles (canonical_url, url, source, title, text, published_at, first_seen_at, fetched_at, "
        "lang, relevant, story_id, content_hash) VALUES (?, ?, 'test', 'A title', 'Text', ?, ?, ?, 'en', 1, ?, 'h1')",
        [url, url, moment, moment, moment, story_id],
    ).lastrowid
    conn.executemany(
        "INSERT INTO entities (article_id, kind, value) VALUES (?, ?, ?)",
        [(article_id, *entity.split(":", 1)) for entity in entities],
    )
    save_profile(conn, article_id, moment, keywords, ["export-controls"])
    return article_id


def test_grouping_reads_a_stored_profile_again_when_it_changes(tmp_path):
    """Stored profiles are kept between new articles (pipeline/grouping.py ProfileCache); a profile saved
    again, an article's new text and another database with the same ids must each be read afresh."""
    from pipeline.grouping import ProfileCache
    from storage import open_database, transaction
    from storage.stories import create_story, recent_profiles

    window = ("2025-12-08T00:00:00Z", "2025-12-10T00:00:00Z")
    databases = []
    for name, word in (("one.db", "w:licence"), ("two.db", "w:tariff")):
        db = open_database(tmp_path / name)
        with transaction(db) as conn:
            story = create_story(conn, "A story", 0, "2025-12-09T08:00:00Z", "2025-12-09T08:00:00Z")
            article_id = _stored_profile(conn, f"https://example.test/{name}", {word: 1.0}, story)
        databases.append((db, article_id, word))
    cache = ProfileCache()
    (one, first_id, _), (two, second_id, _) = databases
    assert first_id == second_id  # the same id in both: only the database tells the profiles apart
    assert set(cache.profiles(one, recent_profiles(one, *window))[first_id].keywords) == {"w:licence"}
    assert set(cache.profiles(two, recent_profiles(two, *window))[second_id].keywords) == {"w:tariff"}
    assert set(cache.profiles(one, recent_profiles(one, *window))[first_id].keywords) == {"w:licence"}

    from storage.entities import store_entities
    from storage.stories import save_profile

    with transaction(one) as conn:
        save_profile(conn, first_id, "2025-12-09T08:00:00Z", {"w:smuggling": 1.0}, ["enforcement"])
    again = cache.profiles(one, recent_profiles(one, *window))[first_id]
    assert set(again.keywords) == {"w:smuggling"} and again.topics == ["enforcement"]

    with transaction(one) as conn:  # a new text: store_article rewrites the entities
        conn.execute("UPDATE articles SET content_hash = 'h2' WHERE id = ?", [first_id])
        store_entities(conn, first_id, [("agency", "samr")])
    assert cache.profiles(one, recent_profiles(one, *window))[first_id].entity_set == {"agency:samr"}
    for db, _, _ in databases:
        db.close()


SCORES = """
import random
from datetime import UTC, datetime
from pipeline.stories import ArticleProfile, keyword_overlap, similarity
from pipeline.when import When
rng = random.Random(7)
words = [f"w:word{n}" for n in range(120)]
entities = [f"company:firm{n}" for n in range(40)]
when = When.at(datetime(2025, 12, 9, tzinfo=UTC))
def profile(chosen, named):
    return ArticleProfile(named, {word: rng.random() / 8 for word in chosen}, ["export-controls"], when)
first = profile(words[:60], entities[:30])
second = profile(words[20:80], entities[10:40])
idf = {entity: rng.uniform(2, 7) for entity in entities}
print(repr(keyword_overlap(first, second)), repr(similarity(first, second, idf)))
"""


def test_link_scores_are_the_same_in_every_process_whatever_its_string_hashing():
    """A link's score sums over sets of words and entities, whose order follows each process's string
    hashing: summed exactly (math.fsum), the score is the same to the last bit in every process, so the
    same articles are linked, or not, on every run."""
    import subprocess
    import sys

    from tests.helpers import REPO

    printed = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        result = subprocess.run(
            [sys.executable, "-c", SCORES], capture_output=True, text=True, cwd=REPO,
            env=clean_env(PYTHONHASHSEED=seed), timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        printed.add(result.stdout)
    assert len(printed) == 1, printed


def test_keyword_overlaps_for_many_articles_at_once_are_each_pairs_own():
    """links() works out every nearby article's keyword overlap at once (keyword_overlaps, by the words'
    hashes): the same count of shared words and the same dot product, to the last bit, as keyword_overlap
    for each pair; for articles sharing nothing, with no keywords, Chinese n-grams, and the article itself."""
    import random
    from datetime import UTC, datetime

    from pipeline.stories import ArticleProfile, keyword_overlap, keyword_overlaps, keywords
    from pipeline.when import When

    rng = random.Random(11)
    vocabulary = [f"w:word{n}" for n in range(150)] + [f"c:出口{n}" for n in range(50)] + ["b:h200 chips"]
    when = When.at(datetime(2025, 12, 9, tzinfo=UTC))

    def profile(size: int) -> ArticleProfile:
        chosen = rng.sample(vocabulary, size)
        return ArticleProfile([], {word: round(rng.random(), 5) for word in chosen}, [], when)

    article = profile(60)
    others = [profile(rng.choice([0, 1, 5, 30, 60])) for _ in range(200)]
    others += [article, ArticleProfile([], {"w:elsewhere": 1.0}, [], when)]
    words = keywords("US lets Nvidia sell H200 to China", "Commerce approved H200 exports.", {})
    real = ArticleProfile([], words, [], when)
    others.append(real)
    counts, dots = keyword_overlaps(article, others)
    assert counts == [len(article.keywords.keys() & other.keywords.keys()) for other in others]
    assert dots == [keyword_overlap(article, other) for other in others]
    assert counts[-2] == 0 and dots[-2] == 0.0 and counts[-3] == 60
    assert any(0 < count < 30 for count in counts)
    assert keyword_overlaps(ArticleProfile([], {}, [], when), others) == ([0] * len(others), [0.0] * len(others))
    assert keyword_overlaps(article, []) == ([], [])
    # Exact sums: the order of the terms does not matter.
    assert keyword_overlap(article, real) == keyword_overlap(real, article)


def test_keyword_positions_are_found_whichever_bits_of_the_hashes_tell_them_apart():
    """keyword_overlaps finds an article's words among hundreds of others' by a table over 16 bits of their
    hashes, the lowest 16 that tell the article's own words apart, else a binary search: each finds every
    word where it is, and none that is not there (a hash that shares only those bits with one)."""
    import numpy

    from pipeline.stories import _positions

    x = 0x1234_5678_9ABC_DEF0
    cases = {
        "low bits differ": [x, x + 1, x + 2],
        "low bits the same, next ones differ": [x, x + (1 << 16), x + (2 << 16)],
        "every 16 bits shared by some two": [x, x ^ (1 << 20), x ^ (1 << 40)],  # the binary search
    }
    for name, words in cases.items():
        mine = numpy.array(sorted(words), dtype=numpy.int64)
        strangers = [x ^ (1 << 60), x ^ (1 << 8), x ^ (1 << 24), 0, -1]  # share some 16-bit parts with a word
        hashes = numpy.array([*words, *strangers, words[1]], dtype=numpy.int64)
        expected = (
            [sorted(words).index(w) + 1 for w in words] + [0] * len(strangers) + [sorted(words).index(words[1]) + 1]
        )
        assert _positions(mine, hashes).tolist() == expected, name
