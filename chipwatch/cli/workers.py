"""Crawling on several machines: `chipwatch worker`."""

from __future__ import annotations

import sys

import click

from chipwatch.config import Options


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Source crawls this worker runs at once.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's own log.")
@click.pass_obj
def worker(options: Options, concurrency: int, verbose: bool) -> None:
    """Fetch, extract and classify for a cluster: take source crawls from its Redis ([cluster] redis, or
    $CHIPWATCH_CLUSTER_REDIS; a password only from $CHIPWATCH_REDIS_PASSWORD) and send every page's result
    to the one writer (`chipwatch crawl` or the daemon, on the machine with the database). Needs no
    database. Runs until stopped: SIGTERM or Ctrl-C hands back what it has not finished and exits 0.

    \b
    Example:
      CHIPWATCH_CLUSTER_REDIS=redis://10.0.0.5:6379/0 chipwatch worker --concurrency 8
    """
    from chipwatch.cluster.connection import ClusterError
    from chipwatch.cluster.worker import Worker

    if not options.cluster.enabled:
        raise ClusterError("a worker needs a cluster: set [cluster] redis or $CHIPWATCH_CLUSTER_REDIS")
    sys.exit(Worker(options, concurrency, verbose=verbose).run())
