"""What the commands share: the project context, the build options, and how a command fails
(compiler-style lines, exit 1)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from pipeline.cli.console import plural
from pipeline.errors import PipelineError, count_findings
from pipeline.limits import LIMITS
from pipeline.schema import Invalid, parse_datetime


class Context:
    def __init__(self, project: Path, debug: bool):
        self.root = project.resolve()
        self.debug = debug


def parse_now(ctx, param, value):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except Invalid as exc:
        raise click.BadParameter(str(exc)) from None
    return parsed if isinstance(parsed, datetime) else datetime(parsed.year, parsed.month, parsed.day)


def build_options(function):
    options = [
        click.option("--no-cache", "no_cache", is_flag=True, help="Ignore and do not reuse .pipeline/state.sqlite (the build cache and records)."),
        click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None,
                     help="Worker processes [default: the number of cores]."),
        click.option("--verbose", "-v", is_flag=True, help="List every changed file and each stage's time."),
        click.option("--quiet", "-q", is_flag=True, help="Print errors only."),
        click.option("--now", callback=parse_now, metavar="DATETIME",
                     help="Fix the publishing clock (ISO 8601), e.g. 2026-05-01T09:00."),
        click.option("--future", is_flag=True, help="Include articles dated in the future."),
        click.option("--drafts", is_flag=True, help="Include articles marked draft: true."),
        click.option("--strict", is_flag=True, help="Treat warnings as errors."),
    ]
    for option in options:
        function = option(function)
    return function


OUT = click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder [default: output/].")


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="text: compiler-style lines; json: one object for tools.")


def fail(obj: Context, exc: PipelineError, fmt: str, headline: str):
    if obj.debug:
        raise exc
    if fmt == "json":
        from pipeline.formats import findings_json

        click.echo(findings_json(exc.findings))
        sys.exit(1)
    for finding in exc.findings:
        click.echo(finding.format(), err=True)
    errors, warnings, _ = count_findings(exc.findings)
    tail = " Nothing was written to output/." if headline == "Build failed" else ""
    click.echo(f"{headline}: {plural(errors, 'error')}, {plural(warnings, 'warning')}{places(exc.findings)}."
               f"{tail}", err=True)
    sys.exit(1)


def places(findings) -> str:
    """' in 2 files', ' in 1 environment variable', ' in 1 file and 1 environment variable': where
    the findings are (a finding about an environment variable is located at its name)."""
    paths = {f.path for f in findings}
    variables = paths & {limit.variable for limit in LIMITS}
    counted = [plural(n, what) for n, what in ((len(paths - variables), "file"), (len(variables), "environment variable")) if n]
    return " in " + " and ".join(counted) if counted else ""
