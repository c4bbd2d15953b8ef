"""`chipwatch bench-search`: query speed on a database of synthetic articles (a million by default).

The articles are generated, not crawled: English and Chinese texts drawn from a Zipf-like vocabulary, with
the story's terms at realistic rates ("Nvidia" in a fifth of them, "SAMR" in one in fifty), 1-3 topics
each and dates spread over three years. The database is kept next to the other data and reused.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.classify import TOPIC_IDS
from pipeline.dates import to_utc_iso
from pipeline.entities import with_other_names
from storage import open_database
from storage.fts import facets, index_text
from storage.search import SearchQuery, search

GENERATOR_VERSION = "3"  # 3: made with migration 0020 (relevance counts the words only)
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 365
# The story's words and how often an article uses them.
TERMS_EN = {
    "Nvidia": 0.20,
    "H200": 0.10,
    "H20": 0.06,
    "export": 0.25,
    "licence": 0.08,
    "Commerce": 0.12,
    "SAMR": 0.02,
    "antitrust": 0.03,
    "smuggling": 0.01,
    "Blackwell": 0.03,
    "Huawei": 0.06,
    "Ascend": 0.02,
}
TERMS_ZH = {"英伟达": 0.25, "芯片": 0.5, "出口管制": 0.15, "反垄断": 0.03, "昇腾": 0.03, "海关": 0.05, "走私": 0.01}
FILLER_ZH = "市场企业政府发展技术国际合作经济政策产业投资数据服务国家相关工作问题方面情况进行提出表示"


@dataclass(frozen=True)
class QueryTiming:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    mean_rows: float


def _filler_words(rng: random.Random) -> list[str]:
    syllables = ["ta", "ri", "mon", "vel", "ka", "sor", "len", "dor", "pi", "qua", "stra", "ben", "lo", "ne"]
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    return sorted(words)


def _articles(count: int, seed: int) -> Iterator[tuple]:
    rng = random.Random(seed)
    vocabulary = _filler_words(rng)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))  # Zipf-like
    step = SPAN_DAYS * 86400 / count
    for number in range(count):
        moment = START + timedelta(seconds=number * step + rng.random() * step)
        chinese = rng.random() < 0.3
        if chinese:
            terms = [term for term, rate in TERMS_ZH.items() if rng.random() < rate]
            filler = "".join(rng.choice(FILLER_ZH) for _ in range(rng.randint(120, 240)))
            cut = sorted(rng.sample(range(len(filler)), k=min(len(terms), len(filler))))
            parts, last = [], 0
            for position, term in zip(cut, terms, strict=False):
                parts += [filler[last:position], term]
                last = position
            text = "".join([*parts, filler[last:]])
            title = (terms[0] if terms else "") + filler[:14]
            lang = rng.choice(["zh-Hans", "zh-Hant"])
        else:
            terms = [term for term, rate in TERMS_EN.items() if rng.random() < rate]
            words = rng.choices(vocabulary, cum_weights=weights, k=rng.randint(60, 140)) + terms
            rng.shuffle(words)
            text = " ".join(words)
            title = " ".join(words[:8])
            lang = "en"
        topics = rng.sample(TOPIC_IDS, k=rng.choice((1, 1, 2, 3)))
        yield number + 1, title, text, to_utc_iso(moment), lang, topics, rng.random()


def generate(path: Path, count: int, seed: int = 7) -> Path:
    """Create (or reuse) a database of count synthetic articles at path."""
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == f"{GENERATOR_VERSION} {count} {seed}":
        return path
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(path)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    batch: list[tuple] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO articles (id, canonical_url, url, source, title, text, published_at, first_seen_at, "
            "fetched_at, lang, relevant, relevance) VALUES (?, ?, ?, 'bench', ?, ?, ?, ?, ?, ?, 1, ?)",
            [
                (n, f"https://bench.example/{n}", f"https://bench.example/{n}", title, text, when, when, when, lang, r)
                for n, title, text, when, lang, _, r in batch
            ],
        )
        conn.executemany(
            "INSERT INTO article_topics (article_id, topic, score, evidence) VALUES (?, ?, ?, '[]')",
            [(n, topic, 0.9 - 0.1 * rank) for n, *_, topics, _ in batch for rank, topic in enumerate(topics)],
        )
        conn.executemany(
            "INSERT INTO articles_fts (rowid, title, text, facets) VALUES (?, ?, ?, ?)",
            [
                (n, index_text(title), index_text(text), facets(when, lang, topics))
                for n, title, text, when, lang, topics, _ in batch
            ],
        )
        conn.execute("COMMIT")
        batch.clear()

    for article in _articles(count, seed):
        batch.append(article)
        if len(batch) >= 10_000:
            flush()
    if batch:
        flush()
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    db.close()
    marker.write_text(f"{GENERATOR_VERSION} {count} {seed}")
    return path


def scenarios(seed: int = 11, per: int = 40) -> list[tuple[str, list[SearchQuery]]]:
    """The queries timed: each a list of variants (terms, topics and windows differ run to run)."""
    rng = random.Random(seed)
    end = START + timedelta(days=SPAN_DAYS)

    def window(days: int) -> str:
        return to_utc_iso(end - timedelta(days=days + rng.randint(0, 300)))

    common = ["Nvidia", "H200", "export", "Commerce"]
    rare = ["SAMR", "smuggling", "Ascend", "antitrust"]
    chinese = ["英伟达", "出口管制", "反垄断", "昇腾", "海关"]
    traditional = ["輝達", "英偉達", "海關", "華為", "晶片"]  # folded to one script, widened to other names
    return [
        (
            "full text + topic + date, first 50",
            [
                SearchQuery(text=rng.choice(common + rare), topic=rng.choice(TOPIC_IDS), since=window(30), limit=50)
                for _ in range(per)
            ],
        ),
        (
            "common word + topic + 30 days",
            [
                SearchQuery(text=rng.choice(common), topic=rng.choice(TOPIC_IDS), since=window(30), limit=50)
                for _ in range(per)
            ],
        ),
        (
            "rare word + topic + 30 days",
            [
                SearchQuery(text=rng.choice(rare), topic=rng.choice(TOPIC_IDS), since=window(30), limit=50)
                for _ in range(per)
            ],
        ),
        (
            "Chinese word + language + 90 days",
            [SearchQuery(text=rng.choice(chinese), lang="zh", since=window(90), limit=50) for _ in range(per)],
        ),
        (
            "Traditional name + its other names + language + 90 days",
            [
                SearchQuery(text=with_other_names(rng.choice(traditional)), lang="zh", since=window(90), limit=50)
                for _ in range(per)
            ],
        ),
        ("common word, no filter", [SearchQuery(text=rng.choice(common), limit=50) for _ in range(per)]),
        (
            "topic + date, no text",
            [SearchQuery(topic=rng.choice(TOPIC_IDS), since=window(7), limit=50) for _ in range(per)],
        ),
        (
            "two words sorted by relevance",
            [SearchQuery(text="Nvidia export", sort="relevance", since=window(60), limit=50) for _ in range(per)],
        ),
    ]


def read_through(path: Path) -> None:
    """Read the database file once, so its pages are in the system's cache, as they are on a machine that
    has been searching it: timed cold, the same queries' p95 went from 15 to 110 ms on pages read from disk,
    which measures the disk, not the search."""
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass


def time_queries(path: Path, per: int = 40) -> list[QueryTiming]:
    read_through(path)
    db = open_database(path, readonly=True)
    timings = []
    try:
        for name, variants in scenarios(per=per):
            elapsed, rows = [], []
            for request in variants:
                started = time.perf_counter()
                found = search(db, request)
                elapsed.append((time.perf_counter() - started) * 1000)
                rows.append(len(found))
            elapsed.sort()
            p95 = elapsed[min(len(elapsed) - 1, round(0.95 * (len(elapsed) - 1)))]
            timings.append(QueryTiming(name, len(elapsed), statistics.median(elapsed), p95, statistics.mean(rows)))
    finally:
        db.close()
    return timings


def naive_timing(path: Path, per: int = 20) -> QueryTiming:
    """The reference: the first scenario answered the plain way (match, join, filter, sort), without the
    facets in the index or the choice of plan."""
    from storage.fts import fts_query
    from storage.search import MOMENT, RESULT_COLUMNS

    db = open_database(path, readonly=True)
    _, variants = scenarios(per=per)[0]
    elapsed, rows = [], []
    try:
        for request in variants:
            sql = (
                f"SELECT {RESULT_COLUMNS} FROM articles_fts f JOIN articles a ON a.id = f.rowid "
                f"WHERE articles_fts MATCH ? AND {MOMENT} >= ? AND EXISTS (SELECT 1 FROM article_topics t "
                f"WHERE t.article_id = a.id AND t.topic = ?) ORDER BY {MOMENT} DESC, a.id DESC LIMIT ?"
            )
            started = time.perf_counter()
            found = db.execute(
                sql, [fts_query(request.text or ""), request.since, request.topic, request.limit]
            ).fetchall()
            elapsed.append((time.perf_counter() - started) * 1000)
            rows.append(len(found))
    finally:
        db.close()
    elapsed.sort()
    p95 = elapsed[min(len(elapsed) - 1, round(0.95 * (len(elapsed) - 1)))]
    return QueryTiming("plain query", len(elapsed), statistics.median(elapsed), p95, statistics.mean(rows))
