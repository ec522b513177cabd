"""`pipeline serve`."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from pipeline.cli.console import tally
from pipeline.cli.options import Context


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.pass_obj
def serve(obj: Context, port: int) -> None:
    """Preview every channel locally, drafts included; rebuilds and reloads as you edit."""
    from pipeline.serve import PreviewServer

    def on_build(state) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        if state.crash:
            click.echo(f"[{stamp}] The pipeline crashed; the traceback is in the browser and below.\n{state.crash}",
                       err=True)
        elif state.errors:
            for finding in state.errors:
                click.echo(finding.format(), err=True)
            click.echo(f"[{stamp}] Build failed; the errors are shown in the browser.", err=True)
        else:
            result = state.result
            click.echo(f"[{stamp}] Built {len(result.site.articles)} articles{tally(result.findings)}.")

    try:
        server = PreviewServer(obj.root, port, on_build=on_build)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try --port 0") from None
    server.rebuild()
    base = server.state.result.site.config.base_path if server.state.result else "/"
    click.echo(f"Serving http://127.0.0.1:{server.port}{base} (previews: http://127.0.0.1:{server.port}/_preview/)"
               f"; drafts and future articles included. Press Ctrl+C to stop.", )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
