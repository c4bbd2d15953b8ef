"""Benchmark commands: bench-extract."""

from __future__ import annotations

from pathlib import Path

import click

from chipwatch.cli_common import fail_cleanly


@click.command(name="bench-extract")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--limit", type=click.IntRange(1), help="Only the first N pages (by id).")
@fail_cleanly
def bench_extract(directory: Path, limit: int | None) -> None:
    """Score chipwatch's article extraction against hand-checked bodies, beside trafilatura alone.

    Prints F1, precision, recall and pages per second for both, and chipwatch's speed as a share of
    trafilatura's measured in the same run.

    \b
    Example:
      chipwatch bench-extract ../shared/benchmarks/article-extraction
    """
    from chipwatch.bench_extract import run

    reference, ours = run(directory, limit)
    for result in (reference, ours):
        s = result.score
        click.echo(
            f"{result.name:<12} F1 {s.f1:.3f}  precision {s.precision:.3f}  recall {s.recall:.3f}  "
            f"{result.pages_per_second:6.1f} pages/s  ({result.pages} pages, {result.seconds:.1f} s)"
        )
    ratio = ours.pages_per_second / reference.pages_per_second if reference.pages_per_second else 0.0
    click.echo(f"chipwatch speed: {ratio:.2f}x trafilatura's; F1 {ours.score.f1 - reference.score.f1:+.3f}")
