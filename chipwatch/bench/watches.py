"""`chipwatch bench-watches`: matching 100 watches against one run's 1,000 new articles, beside running each
watch as a plain search of the whole database (the reference, in the same run). A synthetic database (the
search benchmark's generator) holds the earlier articles; the watches' marks sit where the run begins, so
matching reads only the run's rows of the index, records the matches and makes the messages."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from chipwatch.bench.search import TERMS_EN, TERMS_ZH, generate
from chipwatch.config import Options, load_options
from chipwatch.queries import search_request
from chipwatch.watches.definition import WatchSpec, check_watch
from chipwatch.watches.matching import match_new
from pipeline.dates import utc_now_iso
from storage import open_database
from storage.search import search
from storage.watches import save_watch, start_after

LANGS = (None, None, "en", "zh")
TOPICS = (None, None, None, "export-controls", "china-response", "enforcement")


@dataclass(frozen=True)
class WatchTiming:
    watches: int
    run_articles: int
    stored: int
    match_seconds: float
    matched: int
    plain_seconds: float


def watches(count: int, seed: int = 5) -> list[WatchSpec]:
    """Watches people write: one or two of the story's words, some with a language or a topic."""
    rng = random.Random(seed)
    words = list(TERMS_EN) + list(TERMS_ZH)
    specs = []
    for n in range(count):
        chosen = rng.sample(words, rng.choice((1, 1, 2)))
        text = " OR ".join(f'"{word}"' for word in chosen)
        specs.append(
            check_watch(
                WatchSpec(
                    f"w{n}",
                    text,
                    topic=rng.choice(TOPICS),
                    lang=rng.choice(LANGS),
                    webhooks=("http://127.0.0.1:9/hook",),
                )
            )
        )
    return specs


def run(
    stored: int = 20_000, run_articles: int = 1_000, count: int = 100, options: Options | None = None
) -> WatchTiming:
    options = options or load_options(None, {})
    source = generate(Path("data") / "bench" / f"watches-{stored + run_articles}.db", stored + run_articles)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watches.db"
        shutil.copy(source, path)  # matching writes: the generated database stays as generated
        db = open_database(path)
        specs = watches(count)
        for spec in specs:
            save_watch(db, spec.name, spec.definition(), "command", utc_now_iso())
            start_after(db, spec.name, stored)
        started = time.perf_counter()
        results = match_new(options.replace("storage", db=path), db, utc_now_iso())
        match_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for spec in specs:
            search(db, search_request(spec.query, 20, **spec.filters()))
        plain_seconds = time.perf_counter() - started
        db.close()
    return WatchTiming(count, run_articles, stored, match_seconds, sum(r.new for r in results), plain_seconds)
