"""`chipwatch bench --quick`: every benchmark runs and prints its figure (speed is not asserted here; the
full run writes BENCHMARKS.md)."""

from __future__ import annotations

import json
import re

import pytest

from chipwatch.bench.steps import BENCHMARKS
from chipwatch.config import Options
from tests.helpers import SHARED, clean_env, run_chipwatch


@pytest.mark.slow
def test_quick_bench_runs_every_benchmark_and_writes_the_report(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    result = run_chipwatch(
        "bench", "--quick", "--out", str(out), "--shared", str(SHARED), cwd=tmp_path, env=clean_env(), timeout=420
    )
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, stdout + stderr[-3000:]
    shared = (SHARED / "benchmarks" / "article-extraction").exists()
    for name in (
        *(("End to end: pages per second", "End to end: peak memory", "End to end: start-up") if shared else ()),
        "Classification speed",
        "Copies + story assignment",
        "Search p95",
        "Digest for a 500-item day",
        "Daemon memory (with its crawl launcher) after",
        "Cluster: pages per second with 2 workers",
        "Cluster: the writer's ceiling",
    ):
        assert name in stdout, name
    if (SHARED / "benchmarks" / "article-extraction").exists():
        assert "Extraction F1" in stdout
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks") and "cores" in report and "SQLite" in report
    ratios = re.findall(r"→ (\d+\.\d+)×", report)
    assert len(ratios) >= 4 and all(float(r) > 0 for r in ratios)
    assert (tmp_path / "data" / "bench").exists()  # the synthetic search database stays in the working directory


def test_bench_only_runs_the_named_benchmarks_and_prints_json_a_script_can_check(tmp_path):
    result = run_chipwatch("bench", "--quick", "--only", "digest", "--format", "json", cwd=tmp_path, env=clean_env())
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    figures = json.loads(result.stdout)
    assert {figure["benchmark"] for figure in figures} == {"digest"}
    size = next(f for f in figures if f["unit"] == "KB")
    for key in ("name", "value", "unit", "reference", "ratio"):
        assert key in size
    # A 500-item day's message stays under 100 KB, every item still reached through "and N more".
    assert isinstance(size["value"], float) and 10 < size["value"] <= 100, size
    assert not (tmp_path / "BENCHMARKS.md").exists()  # a partial run writes no report unless asked


def test_bench_names_what_needs_the_shared_pages_and_skips_it_without_a_traceback(tmp_path):
    absent = tmp_path / "no-shared"
    result = run_chipwatch(
        "bench", "--quick", "--only", "end-to-end,extraction", "--shared", str(absent), cwd=tmp_path, env=clean_env()
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0 and "Traceback" not in output, output
    for name in ("end-to-end", "extraction"):
        assert f"skipped {name}: needs the benchmark's real pages in {absent}" in result.stdout.decode()
    as_json = run_chipwatch(
        "bench", "--quick", "--only", "extraction", "--shared", str(absent), "--format", "json", cwd=tmp_path,
        env=clean_env(),
    )  # fmt: skip
    (figure,) = json.loads(as_json.stdout)
    assert figure["value"] is None and "absent" in figure["skipped"]


def test_bench_refuses_an_unknown_benchmark_in_one_line(tmp_path):
    result = run_chipwatch("bench", "--only", "grouping,speed", cwd=tmp_path, env=clean_env())
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert lines == ["Error: --only: unknown benchmark 'speed' (known: " + ", ".join(BENCHMARKS) + ")"]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "benchmarks" / "article-extraction").exists(), reason="needs ../shared")
def test_end_to_end_bench_crawls_with_the_configured_extraction_workers(tmp_path):
    env = clean_env(CHIPWATCH_CRAWL_EXTRACT_WORKERS="1")
    result = run_chipwatch(
        "bench", "--quick", "--only", "end-to-end", "--format", "json", "--shared", str(SHARED), cwd=tmp_path,
        env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    figures = json.loads(result.stdout)
    rate = next(f for f in figures if f["unit"] == "pages/s")
    assert "1 extraction worker" in rate["name"] and rate["reference"] > 0
    assert abs(rate["ratio"] - rate["value"] / rate["reference"]) < 0.01
    startup = next(f for f in figures if f["unit"] == "s")
    assert 0 < startup["value"] < 10


def test_the_grouping_bench_takes_turns_between_sizes_and_sends_every_probe(monkeypatch):
    """bench-grouping populates every size first, then sends the probes in rounds that alternate between
    them (a machine's speed drifting during the run then weighs on both sizes alike); every probe is sent
    once, to its own size's database, whatever the rounds' split."""
    from chipwatch.bench import grouping

    order: list[int] = []
    send = grouping.Probes.send

    def recording(self: grouping.Probes, count: int) -> None:
        order.append(count)
        send(self, count)

    monkeypatch.setattr(grouping.Probes, "send", recording)
    model = grouping.story_model(Options())
    assert model.idf and model.entity_idf  # grouped with the trained rarities, as a crawl groups
    small, large = grouping.run([50, 120], probes=7, model=model, rounds=3)
    assert (small.stored, large.stored) == (50, 120)
    assert small.probes == large.probes == 7 and small.ms_per_article > 0 and large.ms_per_article > 0
    assert order == [2, 2, 2, 2, 3, 3]  # round by round, each size in turn


@pytest.mark.slow
def test_the_end_to_end_bench_takes_turns_between_crawls_and_the_reference(monkeypatch):
    """A full end-to-end run crawls and times trafilatura alone in turn, `rounds` times, and keeps the
    medians: each crawl stores every page into a database of its own (the demo's pages when ../shared is
    absent)."""
    from chipwatch.bench import end_to_end

    order: list[str] = []
    crawl, reference = end_to_end._crawl, end_to_end.stock_trafilatura

    def crawling(*args, **kwargs):
        order.append("crawl")
        done = crawl(*args, **kwargs)
        assert done.stored == 3 and done.seconds > 0 and done.startup_seconds > 0
        return done

    def timing(*args, **kwargs):
        order.append("reference")
        return reference(*args, **kwargs)

    monkeypatch.setattr(end_to_end, "_crawl", crawling)
    monkeypatch.setattr(end_to_end, "stock_trafilatura", timing)
    result = end_to_end.run(SHARED, limit=3, extract_workers=1, rounds=2)
    assert order == ["crawl", "reference", "crawl", "reference"]
    assert result.pages == result.stored == 3 and result.reference_seconds > 0 and result.peak_pss_mb > 0
