"""`pipeline check`."""

from __future__ import annotations

import click

from pipeline.cli.building import run_build
from pipeline.cli.console import Console, tally
from pipeline.cli.options import FORMAT, Context, build_options
from pipeline.options import Options


@click.command()
@build_options
@FORMAT
@click.pass_obj
def check(obj: Context, drafts, future, now, strict, quiet, verbose, jobs, no_cache, fmt: str) -> None:
    """Everything build does except writing: for CI and pre-publish review."""
    console = Console(quiet or fmt == "json", verbose)
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    result = run_build(obj, options, fmt, console, checking=True)
    if fmt == "json":
        from pipeline.formats import findings_json

        click.echo(findings_json(result.findings))
        return
    console.notes(result)
    console.findings(result.findings)
    console.summary(f"Checked {len(result.site.articles)} articles and {len(result.artifacts)} outputs: "
                    f"no errors{tally(result.findings)}.")
