"""Screening lists: `lists changes` (what the stored lists gained, lost and revised) and `screen FILE`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chipwatch.cli.options import since_option, with_storage
from chipwatch.config import Options
from chipwatch.errors import QueryError

if TYPE_CHECKING:
    from sqlite_utils import Database


@click.group()
def lists() -> None:
    """The screening lists chipwatch reads (sources of kind screening-list, such as the US Consolidated
    Screening List): each crawl compares a list with its stored snapshot and records every entry added,
    removed or revised.

    \b
    Example:
      chipwatch lists changes --since 2025-12-01 --list EL --country CN
    """


@lists.command(name="changes")
@click.option("--since", help="Only changes chipwatch recorded on or after this date (YYYY-MM-DD).")
@click.option("--list", "list_name", help="Only this list: its code (EL, MEU, SDN, DPL) or part of its name.")
@click.option("--country", help="Only entries with an address or nationality in this country (CN, HK, ...).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), help="At most this many changes.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_storage()
def lists_changes(
    options: Options,
    db: Database,
    since: str | None,
    list_name: str | None,
    country: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """The changes to the stored lists, newest first: each entry with its aliases, countries, addresses,
    list, Federal Register citation and dates (and, for a revision, the fields that changed and their old
    values).

    \b
    Examples:
      chipwatch lists changes --since 2025-12-01
      chipwatch lists changes --list "Entity List" --country CN --format csv > el-china.csv
      chipwatch lists changes --list MEU --format json
    """
    from chipwatch.reports.lists import print_changes
    from storage.screening_lists import list_changes

    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise QueryError(f"--country {country!r}: give a two-letter country code (CN, HK, RU)")
    rows = list_changes(db, since=since_option(since), list_name=list_name, country=country, limit=limit)
    print_changes(rows, fmt, sys.stdout)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--threshold",
    type=click.FloatRange(50, 100),
    default=88.0,
    show_default=True,
    help="The lowest fuzzy score (0-100) reported; exact and normalised matches score 100.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_storage()
def screen(options: Options, db: Database, file: Path, threshold: float, fmt: str) -> None:
    """Screen a CSV of counterparties (name, optional country, optional id; a header row is optional)
    against every stored list entry and alias: exact, normalised (case, punctuation, legal forms such as
    Co., Ltd., 有限公司) and fuzzy matches, Chinese names in one script, and pinyin where a list gives
    only a Latin name. Each hit has its score, the name it matched, the list and the citation.

    The file may be UTF-8 (with or without a BOM) or GBK; rows that cannot be read are reported on
    standard error and the rest screened.

    \b
    Examples:
      chipwatch screen customers.csv
      chipwatch screen suppliers.csv --threshold 92 --format csv > hits.csv
    """
    from chipwatch.lists.counterparties import read_counterparties
    from chipwatch.lists.screen import Screener, screen_all
    from chipwatch.reports.lists import print_hits
    from storage.screening_lists import all_entries

    parties = read_counterparties(file)
    for problem in parties.problems:
        click.echo(f"{file}: {problem}", err=True)
    entries = all_entries(db)
    if not entries:
        raise QueryError("no screening list is stored yet: crawl a screening-list source first (see `sources`)")
    hits = screen_all(Screener(entries), parties.parties, threshold)
    print_hits(hits, fmt, sys.stdout, screened=len(parties.parties))
