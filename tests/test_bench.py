"""`chipwatch bench --quick`: every benchmark runs and prints its figure (speed is not asserted here; the
full run writes BENCHMARKS.md)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import SHARED, clean_env, run_chipwatch


@pytest.mark.slow
def test_quick_bench_runs_every_benchmark_and_writes_the_report(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    result = run_chipwatch(
        "bench", "--quick", "--out", str(out), "--shared", str(SHARED), cwd=tmp_path, env=clean_env(), timeout=420
    )
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, stdout + stderr[-3000:]
    for name in (
        "End to end: pages per second",
        "End to end: peak memory",
        "Classification speed",
        "Copies + story assignment",
        "Search p95",
        "Digest for a 500-item day",
        "Daemon memory after",
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
