"""`chipwatch sources`: the configured sources and their health."""

from __future__ import annotations

import json

import click

from chipwatch.cli_common import fail_cleanly
from chipwatch.config import Options


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--problems", is_flag=True, help="Only sources that are failing, silent, overdue or never run.")
@click.pass_obj
@fail_cleanly
def sources(options: Options, fmt: str, problems: bool) -> None:
    """List every configured source with its health: last success, failures in a row, items found per run,
    the last new item; flags a source that has failed or stayed silent for longer than expected.

    Exits with status 2 when a source is flagged (for monitoring).

    \b
    Example:
      chipwatch sources
      chipwatch sources --problems --format json
    """
    from chipwatch.source_health import format_health, source_health

    report = source_health(options)
    if problems:
        report = [h for h in report if h.status not in ("ok", "disabled")]
    if fmt == "json":
        click.echo(json.dumps([h.as_dict() for h in report], indent=2, ensure_ascii=False))
    else:
        click.echo(format_health(report), nl=False)
    if any(h.status in ("failing", "silent", "overdue") for h in report):
        raise SystemExit(2)
