"""`chipwatch bench-extract`: article-body quality and speed on a benchmark of real pages, beside trafilatura.

The benchmark directory holds `ground-truth.json` ({id: {"articleBody", "url"}}) and `html/<id>.html.gz`
(the scrapinghub article-extraction-benchmark layout). Scoring follows that benchmark's published table:
4-token shingles, per-page counts normalised so every page weighs the same, precision and recall averaged
over pages, F1 from the two means.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from chipwatch.errors import ChipwatchError

TOKEN = re.compile(r"\w+")
SHINGLE = 4


@dataclass(frozen=True)
class BenchmarkPage:
    id: str
    url: str
    html: bytes
    expected: str


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float


@dataclass(frozen=True)
class DateRun:
    """How often a date finder gives the day a labelled page shows as its publication day."""

    name: str
    right: int
    labelled: int

    @property
    def accuracy(self) -> float:
        return self.right / self.labelled if self.labelled else 0.0


@dataclass(frozen=True)
class ExtractorRun:
    name: str
    score: Score
    pages: int
    seconds: float

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def load_benchmark(directory: Path, limit: int | None = None) -> list[BenchmarkPage]:
    """The benchmark's pages with their expected bodies, in id order."""
    truth_file = directory / "ground-truth.json"
    try:
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChipwatchError(f"{truth_file}: not found (is {directory} an article-extraction benchmark?)") from None
    except (OSError, ValueError) as error:
        raise ChipwatchError(f"{truth_file}: cannot read: {error}") from None
    pages = []
    for page_id in sorted(truth)[:limit]:
        path = directory / "html" / f"{page_id}.html.gz"
        try:
            html = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as error:
            raise ChipwatchError(f"{path}: cannot read: {error}") from None
        entry = truth[page_id]
        pages.append(BenchmarkPage(page_id, entry.get("url", ""), html, entry.get("articleBody", "")))
    if not pages:
        raise ChipwatchError(f"{truth_file}: no pages")
    return pages


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def score(pairs: Iterable[tuple[str | None, str]]) -> Score:
    """Score (predicted, expected) bodies the way the benchmark's table does."""
    precisions: list[float] = []
    recalls: list[float] = []
    for predicted, expected in pairs:
        got, want = shingles(predicted), shingles(expected)
        shared = sum((got & want).values())
        false_pos = sum(got.values()) - shared
        false_neg = sum(want.values()) - shared
        if false_pos == 0 and false_neg == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if shared + false_pos:
            precisions.append(shared / (shared + false_pos))
        if shared + false_neg:
            recalls.append(shared / (shared + false_neg))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(f1, precision, recall)


def run_extractor(
    name: str, extract: Callable[[BenchmarkPage], str | None], pages: list[BenchmarkPage]
) -> ExtractorRun:
    predictions = []
    started = time.perf_counter()
    for page in pages:
        predictions.append(extract(page))
    seconds = time.perf_counter() - started
    return ExtractorRun(
        name, score(zip(predictions, (page.expected for page in pages), strict=True)), len(pages), seconds
    )


def chipwatch_body(page: BenchmarkPage) -> str | None:
    """The pipeline's own extraction, as the crawl runs it (metadata and language included)."""
    from pipeline.extract import extract_page

    return extract_page(page.html, page.url, find_text_date=False).text


def trafilatura_run(pages: list[BenchmarkPage]) -> ExtractorRun:
    """trafilatura alone with its defaults, the reference, as it runs without chipwatch (in an interpreter
    of its own: chipwatch/bench/reference.py)."""
    from chipwatch.bench.reference import stock_trafilatura

    reference = stock_trafilatura([(page.html, page.url or None) for page in pages])
    expected = (page.expected for page in pages)
    return ExtractorRun(
        "trafilatura", score(zip(reference.texts, expected, strict=True)), len(pages), reference.seconds[0]
    )


DAY_LABELS = "benchmark-days.json"


def load_day_labels(path: Path | None = None) -> dict[str, str]:
    """{page id: YYYY-MM-DD}: the publication day each benchmark page shows, labelled by hand (the file
    says how); shipped with chipwatch, the pages themselves are not."""
    from chipwatch.resources import packaged

    path = path or packaged("chipwatch.bench", "labels", DAY_LABELS)
    return dict(json.loads(path.read_text(encoding="utf-8"))["days"])


def chipwatch_day(page: BenchmarkPage) -> str | None:
    """The published_date the crawl would store for the page (printed dates searched, as in a crawl)."""
    from pipeline.extract import extract_page
    from pipeline.process import default_zone, page_published, publication

    extracted = extract_page(page.html, page.url)
    zone = default_zone(extracted.lang)
    return publication(*page_published(extracted, zone), zone)[1]


def htmldate_day(page: BenchmarkPage) -> str | None:
    """htmldate's publication day (original_date, extensive search): the reference."""
    from htmldate import find_date

    try:
        return find_date(page.html, url=page.url or None, original_date=True, extensive_search=True)
    except (ValueError, TypeError):
        return None


def run_dates(pages: list[BenchmarkPage], labels: dict[str, str]) -> list[DateRun]:
    """htmldate and chipwatch on the labelled pages: how many get the shown day right."""
    labelled = [page for page in pages if page.id in labels]
    runs = []
    for name, finder in (("htmldate", htmldate_day), ("chipwatch", chipwatch_day)):
        right = sum(1 for page in labelled if finder(page) == labels[page.id])
        runs.append(DateRun(name, right, len(labelled)))
    return runs


def run(directory: Path, limit: int | None = None) -> list[ExtractorRun]:
    """Both extractors over the same pages, each after a first page that loads what it loads once."""
    pages = load_benchmark(directory, limit)
    chipwatch_body(pages[0])
    return [trafilatura_run(pages), run_extractor("chipwatch", chipwatch_body, pages)]
