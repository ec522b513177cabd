"""`pipeline send-test`."""

from __future__ import annotations

import os
import sys

import click

from pipeline.cli.building import build_unless_up_to_date, run_config
from pipeline.cli.console import Console, display
from pipeline.cli.options import Context, build_options
from pipeline.options import Options


@click.command("send-test")
@click.argument("slug")
@click.option("--to", "to", required=True, metavar="ADDRESS", help="The one address to send the test to.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=30, show_default=True,
              help="Seconds to wait for the SMTP server at each step.")
@build_options
@click.pass_obj
def send_test(obj: Context, slug: str, to: str, timeout: float, drafts, future, now, strict, quiet, verbose, jobs,
              no_cache) -> None:
    """Build (unless up to date), then send the article's newsletter message to one address over
    the SMTP server of site.yaml's newsletter.smtp; the password only from PIPELINE_SMTP_PASSWORD."""
    from pipeline import sending

    try:
        address = sending.recipient(to)
    except sending.SendError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    console = Console(True, verbose)
    out = obj.root / "output"
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    build_unless_up_to_date(obj, console, out, options)
    settings = run_config(obj).newsletter.smtp
    try:
        path = sending.send_built(settings, out, slug, address, os.environ.get(sending.PASSWORD_VARIABLE), timeout)
    except sending.SendError as exc:
        click.echo(exc.format(), err=True)
        sys.exit(1)
    click.echo(f"Sent {display(path, obj.root)} to {address} via {settings.host}:{settings.port} "
               f"({settings.security}).")
