"""`chipwatch bench-grouping`: does copy detection and story assignment cost the same per article with
1,000 articles stored as with 100,000? Synthetic articles at a steady news rate fill a database, then the
next articles go through the real find_copy and assign_story, timed, with the word and entity rarities of
the trained model as a crawl passes them (pipeline.process.StoryModel)."""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chipwatch.config import Options
from pipeline.classify import load_classifier
from pipeline.dates import to_utc_iso
from pipeline.entities import extract_entities
from pipeline.grouping import assign_story, find_copy, fingerprint_record
from pipeline.process import StoryModel
from pipeline.stories import keywords
from pipeline.when import When
from storage import open_database, transaction
from storage.fts import index_text

PER_DAY = 100
STORY_SIZE = 5
WORDS = (
    "export",
    "licence",
    "rule",
    "chips",
    "china",
    "nvidia",
    "commerce",
    "senators",
    "bill",
    "customs",
    "shares",
    "investors",
    "smuggling",
    "court",
    "ministry",
    "regulator",
    "antitrust",
    "probe",
    "memory",
    "servers",
    "cloud",
    "data",
    "center",
    "approval",
    "restrictions",
    "talks",
    "tariffs",
    "market",
    "demand",
    "orders",
    "supply",
    "factory",
    "roadmap",
    "accelerator",
    "processor",
    "quarter",
    "revenue",
    "guidance",
    "analysts",
    "lawmakers",
    "hearing",
    "letter",
    "statement",
    "response",
    "inspection",
    "deal",
    "payment",
    "government",
    "agency",
    "officials",
)
NAMES = ("H20", "H200", "B30A", "MI308", "Nvidia", "AMD", "Huawei", "SMIC", "SAMR", "CAC", "BIS", "25%", "15%")


def story_model(options: Options) -> StoryModel:
    """The word and entity rarities a crawl with these options groups by (the configured model's)."""
    return StoryModel.of(load_classifier(options.classify.topics, options.classify.model))


@dataclass
class Measurement:
    stored: int
    probes: int
    ms_per_article: float


def _article(rng: random.Random, theme: list[str]) -> tuple[str, str]:
    words = theme + rng.sample(WORDS, 12)
    rng.shuffle(words)
    title = " ".join(words[:8]).capitalize()
    text = ". ".join(" ".join(rng.choices(words, k=14)).capitalize() for _ in range(5)) + "."
    return title, text


def populate(db_path: Path, count: int, start: datetime, model: StoryModel, seed: int = 1) -> datetime:
    """count synthetic articles at PER_DAY a day from start, in stories of STORY_SIZE; returns the end."""
    rng = random.Random(seed)
    db = open_database(db_path)
    moment = start
    step = timedelta(days=1) / PER_DAY
    with transaction(db) as conn:
        for n in range(0, count, STORY_SIZE):
            theme = rng.sample(NAMES, 3) + rng.sample(WORDS, 4)
            cursor = conn.execute(
                "INSERT INTO stories (title, title_article_id, first_seen, last_seen, article_count, outlets, "
                "languages, topics, updated_at) VALUES ('synthetic', 0, ?, ?, ?, '[]', ?, '[]', ?)",
                [to_utc_iso(moment), to_utc_iso(moment + step * STORY_SIZE), STORY_SIZE, '["en"]', to_utc_iso(moment)],
            )
            story_id = cursor.lastrowid
            for _ in range(min(STORY_SIZE, count - n)):
                title, text = _article(rng, theme)
                stamp = to_utc_iso(moment)
                cursor = conn.execute(
                    "INSERT INTO articles (canonical_url, url, source, title, text, published_at, first_seen_at, "
                    "fetched_at, lang, relevant, relevance, story_id) "
                    "VALUES (?, ?, 'bench', ?, ?, ?, ?, ?, 'en', 1, 0.9, ?)",
                    [
                        f"https://bench.test/{n}-{moment.timestamp()}",
                        f"https://bench.test/{n}",
                        title,
                        text,
                        stamp,
                        stamp,
                        stamp,
                        story_id,
                    ],
                )
                article_id = cursor.lastrowid
                conn.execute(
                    "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
                    [article_id, index_text(title), index_text(text)],
                )
                entities = [e.key for e in extract_entities(title, text)]
                conn.executemany(
                    "INSERT OR IGNORE INTO entities (article_id, kind, value) VALUES (?, ?, ?)",
                    [(article_id, *key.split(":", 1)) for key in entities],
                )
                check = find_copy(db, text, "other")  # fingerprint only; bench texts never copy
                if check.fingerprint is not None:
                    blob, bands = fingerprint_record(check.fingerprint)
                    conn.execute("INSERT INTO minhash_signatures VALUES (?, ?)", [article_id, blob])
                    conn.executemany(
                        "INSERT OR IGNORE INTO minhash_bands VALUES (?, ?, ?)",
                        [(band, value, article_id) for band, value in enumerate(bands)],
                    )
                conn.execute(
                    "INSERT INTO article_profiles (article_id, moment, keywords, topics) VALUES (?, ?, ?, ?)",
                    [article_id, stamp, json.dumps(keywords(title, text, model.idf)), '["export-controls"]'],
                )
                moment += step
    db.close()
    return moment


class Probes:
    """New articles arriving after a populated database's last one, in batches: each batch goes through
    find_copy and assign_story and is timed (the inserts that come before them are not)."""

    def __init__(self, db_path: Path, after: datetime, model: StoryModel, seed: int = 99) -> None:
        self.db = open_database(db_path)
        self.after = after
        self.model = model
        self.rng = random.Random(seed)
        self.sent = 0
        self.seconds = 0.0

    def send(self, count: int) -> None:
        step = timedelta(days=1) / PER_DAY
        for _ in range(count):
            n = self.sent
            theme = self.rng.sample(NAMES, 3) + self.rng.sample(WORDS, 4)
            title, text = _article(self.rng, theme)
            moment = self.after + step * n
            stamp = to_utc_iso(moment)
            entities = [e.key for e in extract_entities(title, text)]
            with transaction(self.db) as conn:
                cursor = conn.execute(
                    "INSERT INTO articles (canonical_url, url, source, title, text, published_at, first_seen_at, "
                    "fetched_at, lang, relevant) VALUES (?, ?, 'probe', ?, ?, ?, ?, ?, 'en', 1)",
                    [f"https://probe.test/{n}", f"https://probe.test/{n}", title, text, stamp, stamp, stamp],
                )
                article_id = cursor.lastrowid
                assert article_id is not None
            started = time.perf_counter()
            find_copy(self.db, text, "probe")
            when = When.at(moment)
            model = self.model
            topics = ["export-controls"]
            assign_story(self.db, article_id, title, text, entities, topics, when, model.idf, model.entity_idf, stamp)
            self.seconds += time.perf_counter() - started
            self.sent += 1

    @property
    def ms_per_article(self) -> float:
        return self.seconds / self.sent * 1000

    def close(self) -> None:
        self.db.close()


def run(sizes: list[int], probes: int, model: StoryModel, rounds: int = 10) -> list[Measurement]:
    """Every size populated first, then its probes sent in rounds that take turns between the sizes: a
    machine that gets faster or slower during the run (a shared one does, by a quarter within minutes)
    then weighs on every size alike, and the ratio between them is the database's doing."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with contextlib.ExitStack() as stack:
        probers = []
        for size in sizes:
            path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.db"
            prober = Probes(path, populate(path, size, start, model), model)
            stack.callback(prober.close)
            probers.append(prober)
        for round_ in range(rounds):
            count = probes * (round_ + 1) // rounds - probes * round_ // rounds
            for prober in probers:
                prober.send(count)
        pairs = zip(sizes, probers, strict=True)
        return [Measurement(size, prober.sent, prober.ms_per_article) for size, prober in pairs]
