"""The offline demo: demo (serve the fictional network, crawl it, summarise) and mirror (serve it)."""

from __future__ import annotations

import sys

import click

from chipwatch.config import Options
from chipwatch.errors import ChipwatchError


@click.command()
@click.option("--port", type=int, help="Mirror port (default 8765).")
@click.pass_context
def demo(ctx: click.Context, port: int | None) -> None:
    """Run the whole pipeline on the offline demo: serve the fictional network, crawl it, summarise.

    Stores into data/demo.db unless --db is given. Running it again adds nothing already stored.

    \b
    Example:
      chipwatch demo && chipwatch --db data/demo.db search H200
    """
    from chipwatch.crawl.demo import DEMO_DB, format_report, run_demo

    options: Options = ctx.obj
    if ctx.parent is not None and ctx.parent.params.get("db") is None:
        options = options.replace("storage", db=DEMO_DB)
    if port:
        options = options.replace("mirror", port=port)
    from chipwatch.crawl.in_process import interrupted

    report = run_demo(options)
    stopped = interrupted(report.results)
    if stopped:
        click.echo(stopped, err=True)
        sys.exit(130)
    click.echo(format_report(report))
    if report.results and all(r.status != "ok" for r in report.results):
        sys.exit(1)


@click.command()
@click.option("--port", type=int, help="Port (default 8765, or [mirror] port in the config).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.pass_obj
def mirror(options: Options, port: int | None, host: str | None) -> None:
    """Serve the fictional demo news network over HTTP until interrupted.

    \b
    Example:
      chipwatch mirror --port 8765 &
      chipwatch --db data/demo.db crawl --sources-file demo/sources.toml
    """
    from demo.server import MirrorServer

    host = host or options.mirror.host
    port = port or options.mirror.port
    try:
        server = MirrorServer(host, port)
    except OSError as error:
        raise ChipwatchError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    click.echo(f"serving the fictional demo news network on {server.base_url} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
