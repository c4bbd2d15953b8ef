"""`chipwatch bench` (and `make bench`): every performance figure in one run (or the benchmarks named with
--only), each beside its reference where one exists, as a table, as JSON, or written to BENCHMARKS.md with
the command behind it, the machine and the date. The benchmarks themselves are in chipwatch/bench/steps.py."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chipwatch.bench.steps import BENCHMARKS, Figure
from chipwatch.config import Options
from chipwatch.errors import ConfigError


@dataclass
class Report:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # benchmarks that failed, one line each
    seconds: float = 0.0

    @property
    def skipped(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.skipped]


def chosen_benchmarks(only: str | None) -> list[str]:
    """The benchmark names --only asks for, in the full run's order; every one when it is not given."""
    if not only:
        return list(BENCHMARKS)
    asked = [part.strip() for part in only.split(",") if part.strip()]
    unknown = [name for name in asked if name not in BENCHMARKS]
    if unknown or not asked:
        raise ConfigError(f"--only: unknown benchmark {(unknown or [only])[0]!r} (known: {', '.join(BENCHMARKS)})")
    return [name for name in BENCHMARKS if name in asked]


def run_all(
    options: Options,
    shared: Path,
    quick: bool,
    log: Callable[[str], None] = print,
    names: Iterable[str] | None = None,
) -> Report:
    report = Report(quick)
    started = time.perf_counter()
    for name in names if names is not None else BENCHMARKS:
        step = BENCHMARKS[name]
        log(f"… {name}: {(step.__doc__ or name).splitlines()[0]}")
        try:
            report.figures += step(options, shared, quick)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            report.notes.append(f"{name}: failed: {type(error).__name__}: {error}")
    report.seconds = time.perf_counter() - started
    return report


def as_json(report: Report) -> list[dict[str, Any]]:
    """One object per figure: name, value, unit, reference and ratio (ours over the reference, measured in
    the same run; null when there is none), with the benchmark, target, command and any reason it was
    skipped; a failed benchmark is an object with its error."""
    rows: list[dict[str, Any]] = [
        {
            "benchmark": f.benchmark,
            "name": f.name,
            "value": f.number,
            "unit": f.unit,
            "reference": f.reference_number,
            "ratio": f.ratio,
            "text": f.value if not f.skipped else "",
            "reference_text": f.reference,
            "target": f.target,
            "command": f.command,
            "skipped": f.skipped or None,
        }
        for f in report.figures
    ]
    for note in report.notes:
        benchmark, _, error = note.partition(": ")
        rows.append({"benchmark": benchmark, "name": benchmark, "value": None, "unit": "", "reference": None,
                     "ratio": None, "error": error})  # fmt: skip
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def profile_notes() -> str:
    """What profiling the end-to-end path found, round by round (profile_notes.md, shipped with the package):
    the prose BENCHMARKS.md ends with."""
    from chipwatch.resources import packaged

    return packaged("chipwatch.bench", "profile_notes.md").read_text(encoding="utf-8")


def markdown(report: Report, profile_notes: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick mode (`chipwatch bench --quick`: small sizes)" if report.quick else "full run (`make bench`)"
    lines = [
        "# Benchmarks",
        "",
        f"Measured {now} on {machine()}; {mode}, {report.seconds:.0f} s in all.",
        "Each figure sits beside a reference measured in the same run where there is one; the ratio is ours",
        "over the reference (for times, lower is better; for rates, higher). Regenerate with `make bench`.",
        "",
        "| figure | value | reference (same run) → ratio | target | command |",
        "|---|---|---|---|---|",
    ]
    for figure in report.figures:
        if figure.skipped:
            continue
        lines.append(
            f"| {figure.name} | {figure.value} | {figure.reference or '—'} | {figure.target or '—'} | "
            f"`{figure.command}` |"
        )
    missing = [f"{f.benchmark}: {f.skipped}" for f in report.skipped] + report.notes
    if missing:
        lines += ["", "Not measured:", ""] + [f"- {note}" for note in missing]
    lines += ["", profile_notes.strip(), ""]
    return "\n".join(lines)
