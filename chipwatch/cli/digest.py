"""The digest command."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from chipwatch.config import Options
from chipwatch.errors import ChipwatchError, QueryError


@click.command()
@click.option("--date", "day", help="The day (YYYY-MM-DD) whose digest to make; default today in [daemon] timezone.")
@click.option("--to", "to", help="One ad-hoc reader, subscribed to every topic (recorded like any other).")
@click.option("--send", is_flag=True, help="Send (or file in the outbox) and record, once per reader per day.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write .eml and .html here, record nothing."
)
@click.option("--preview", is_flag=True, help="Write the HTML to a file and print its path, record nothing.")
@click.option(
    "--scheduled",
    is_flag=True,
    hidden=True,
    help="The daemon's daily send: cover up to the day's digest time, not up to now.",
)
@click.pass_obj
def digest(
    options: Options, day: str | None, to: str | None, send: bool, out: Path | None, preview: bool, scheduled: bool
) -> None:
    """The daily digest: the items first stored since each reader's last digest, up to now, each story once
    under its main topic. (The daemon's daily send covers up to [daemon] digest_time instead.)

    Readers come from the config's [[digest.readers]]; SMTP from [digest] and $CHIPWATCH_SMTP_*
    (the password only from $CHIPWATCH_SMTP_PASSWORD). Without an SMTP host, --send files .eml and .html
    in [digest] outbox.

    \b
    Examples:
      chipwatch digest --send
      chipwatch digest --to me@example.org --preview
      chipwatch digest --date 2025-12-09 --out /tmp/digests
    """
    from chipwatch.digest.run import preview as write_preview
    from chipwatch.digest.run import readers_for, send_digests

    if sum((send, out is not None, preview)) != 1:
        raise QueryError("choose one of --send, --out DIR or --preview")
    zone = ZoneInfo(options.daemon.timezone)
    try:
        chosen = date.fromisoformat(day) if day else datetime.now(UTC).astimezone(zone).date()
    except ValueError:
        raise QueryError(f"cannot read --date {day!r}; use YYYY-MM-DD") from None
    readers = readers_for(options, to)
    if not readers and send:
        send_digests(options, chosen, [], until_now=not scheduled)  # daily watches still go out on their own
        click.echo("no readers configured ([[digest.readers]] in the config): no digest to send")
        return
    if not readers:
        raise ChipwatchError("no readers: add [[digest.readers]] to the config, or use --to ADDRESS")
    if send:
        failed = 0
        for outcome in send_digests(options, chosen, readers, until_now=not scheduled):
            failed += outcome.status == "failed"
            note = f" ({outcome.detail})" if outcome.detail else ""
            click.echo(f"{outcome.reader}: {outcome.status}, {outcome.items} items{note}")
        if failed:
            raise SystemExit(1)
        return
    directory = out or options.digest.outbox / "preview"
    for reader in readers:
        eml, page = write_preview(options, chosen, reader, directory, until_now=not scheduled)
        click.echo(page if preview else f"{eml}\n{page}")
