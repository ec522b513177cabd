"""Command line: parses arguments, runs the build, prints findings, maps outcomes to exit codes.

Exit 0: success. Exit 1: problems in content, configuration, templates or compliance. Exit 2: usage."""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import click

from pipeline import __version__
from pipeline.build import Options, run
from pipeline.compliance.rules import load_rules
from pipeline.errors import Finding, PipelineError
from pipeline.formats import findings_json, rules_json, rules_text
from pipeline.schema import Invalid, parse_datetime
from pipeline.writer import write_artifacts


class Context:
    def __init__(self, project: Path, debug: bool):
        self.root = project.resolve()
        self.debug = debug


def _now(ctx, param, value):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except Invalid as exc:
        raise click.BadParameter(str(exc)) from None
    return parsed if isinstance(parsed, datetime) else datetime(parsed.year, parsed.month, parsed.day)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The project folder (holds content/ and templates/).")
@click.option("--debug", is_flag=True, help="Show a traceback for problems in your files too.")
@click.version_option(__version__, prog_name="pipeline")
@click.pass_context
def main(ctx: click.Context, project: Path, debug: bool) -> None:
    """Publish clinic articles to a blog and feeds, with the disclaimers health marketing requires."""
    if not (project / "content").is_dir():
        raise click.UsageError(f"{project} has no content/ folder; run this in your project or pass --project DIR")
    ctx.obj = Context(project, debug)


def build_options(function):
    function = click.option("--now", callback=_now, metavar="DATETIME",
                            help="Fix the publishing clock (ISO 8601), e.g. 2026-05-01T09:00.")(function)
    function = click.option("--future", is_flag=True, help="Include articles dated in the future.")(function)
    function = click.option("--drafts", is_flag=True, help="Include articles marked draft: true.")(function)
    function = click.option("--strict", is_flag=True, help="Treat warnings as errors.")(function)
    return function


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder [default: output/].")
@build_options
@click.pass_obj
def build(obj: Context, out: Path | None, drafts: bool, future: bool, now, strict: bool) -> None:
    """Render every channel and write output/ (only when the whole build is good)."""
    started = time.perf_counter()
    out = out if out is not None else obj.root / "output"
    written = {}
    result = _run(obj, Options(drafts, future, now, strict),
                  lambda r: written.update(changes=write_artifacts(r.artifacts, out, obj.root)))
    _report(result.findings)
    _show_changes(written["changes"])
    counts = Counter(a.channel for a in result.artifacts)
    per_channel = ", ".join(f"{channel} {n}" for channel, n in counts.items())
    click.echo(f"Built {len(result.site.articles)} articles: {len(result.artifacts)} files ({per_channel}) in "
               f"{_display(out, obj.root)}/ in {time.perf_counter() - started:.2f} s{_tally(result.findings)}.")


@main.command()
@click.option("--since", required=True, callback=_now, metavar="DATE", help="First day of the window (ISO 8601).")
@click.option("--until", callback=_now, metavar="DATE", help="End of the window; default: now. A date "
              "without a time means the end of that day.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder [default: output/].")
@build_options
@click.pass_obj
def digest(obj: Context, since, until, out: Path | None, drafts: bool, future: bool, now, strict: bool) -> None:
    """Build everything plus one digest newsletter of the articles published in a window
    (output/newsletter/digest-<date>/)."""
    if until is not None and until.time() == datetime.min.time():
        until = until.replace(hour=23, minute=59, second=59)
    if until is not None and since > until:
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    started = time.perf_counter()
    out = out if out is not None else obj.root / "output"
    written = {}
    options = Options(drafts, future, now, strict, since, until)
    result = _run(obj, options, lambda r: written.update(changes=write_artifacts(r.artifacts, out, obj.root)))
    _report(result.findings)
    _show_changes(written["changes"])
    folder = next(a.path.rsplit("/", 1)[0] for a in result.artifacts if "/digest-" in a.path)
    count = len(next(a.articles for a in result.artifacts if a.path.startswith(folder)))
    click.echo(f"Digest of {count} article{'s' if count != 1 else ''} in {_display(out, obj.root)}/{folder}/ "
               f"in {time.perf_counter() - started:.2f} s{_tally(result.findings)}.")


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="text: compiler-style lines; json: one object for tools.")


@main.command()
@build_options
@FORMAT
@click.pass_obj
def check(obj: Context, drafts: bool, future: bool, now, strict: bool, fmt: str) -> None:
    """Everything build does except writing: for CI and pre-publish review."""
    result = _run(obj, Options(drafts, future, now, strict), None, fmt)
    if fmt == "json":
        click.echo(findings_json(result.findings))
        return
    _report(result.findings)
    click.echo(f"Checked {len(result.site.articles)} articles and {len(result.artifacts)} outputs: "
               f"no errors{_tally(result.findings)}.")


@main.command()
@FORMAT
@click.pass_obj
def rules(obj: Context, fmt: str) -> None:
    """List the disclaimers and claim rules in force (content/compliance.yaml)."""
    try:
        loaded = load_rules(obj.root)
    except PipelineError as exc:
        _fail(obj, exc, "json" if fmt == "json" else "text", "Rules not loaded")
    click.echo(rules_json(loaded) if fmt == "json" else rules_text(loaded))


def _run(obj: Context, options: Options, then, fmt: str = "text"):
    try:
        result = run(obj.root, options)
        if then is not None:
            then(result)
        return result
    except PipelineError as exc:
        _fail(obj, exc, fmt, "Build failed")


def _fail(obj: Context, exc: PipelineError, fmt: str, headline: str):
    if obj.debug:
        raise exc
    if fmt == "json":
        click.echo(findings_json(exc.findings))
        sys.exit(1)
    _report(exc.findings)
    errors = sum(1 for f in exc.findings if f.is_error)
    warnings = sum(1 for f in exc.findings if f.severity == "warning" and f.accepted is None)
    files = len({f.location.path for f in exc.findings})
    click.echo(f"{headline}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')} in "
               f"{_plural(files, 'file')}. Nothing was written to output/.", err=True)
    sys.exit(1)


def _show_changes(changes, limit: int = 15) -> None:
    lines = ([f"  added    {p}" for p in changes.added] + [f"  changed  {p}" for p in changes.changed]
             + [f"  removed  {p}" for p in changes.removed])
    if not lines:
        click.echo("No changes since the last build.")
        return
    click.echo(f"Changes since the last build: {len(changes.added)} added, {len(changes.changed)} changed, "
               f"{len(changes.removed)} removed")
    for line in lines[:limit]:
        click.echo(line)
    if len(lines) > limit:
        click.echo(f"  ... and {len(lines) - limit} more")


def _report(findings: list[Finding]) -> None:
    for finding in findings:
        click.echo(finding.format(), err=True)


def _tally(findings: list[Finding]) -> str:
    warnings = sum(1 for f in findings if f.severity == "warning" and f.accepted is None)
    accepted = sum(1 for f in findings if f.accepted is not None)
    text = f", {_plural(warnings, 'warning')}" if warnings else ""
    return text + (f", {accepted} accepted" if accepted else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
