"""`pipeline digest`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from pipeline.cli.building import build_and_write, formatted, later_for
from pipeline.cli.console import Console, display, tally
from pipeline.cli.options import OUT, Context, build_options, parse_now
from pipeline.options import Options


@click.command()
@click.option("--since", required=True, callback=parse_now, metavar="DATE", help="First day of the window (ISO 8601).")
@click.option("--until", callback=parse_now, metavar="DATE", help="End of the window; default: now. A date "
              "without a time means the end of that day.")
@OUT
@build_options
@click.pass_obj
def digest(obj: Context, since, until, out: Path | None, drafts, future, now, strict, quiet, verbose, jobs, no_cache) -> None:
    """Build everything plus one digest newsletter of the articles published in a window
    (output/newsletter/digest-<date>/)."""
    if until is not None and until.time() == datetime.min.time():
        until = until.replace(hour=23, minute=59, second=59)
    if until is not None and since > until:
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    console = Console(quiet, verbose)
    options = Options(drafts, future, now, strict, since, until, progress=console.progress, jobs=jobs,
                      cache=not no_cache)
    later = later_for(obj)
    result, out = build_and_write(obj, console, out, options, later)
    shown = formatted(obj, console, result, out)
    later.run(files=len(result.artifacts), keep=result)
    console.emit(shown)
    folder = next(a.path.rsplit("/", 1)[0] for a in result.artifacts if "/digest-" in a.path)
    count = len(next(a.articles for a in result.artifacts if a.path.startswith(folder)))
    console.summary(f"Digest of {count} article{'s' if count != 1 else ''} in {display(out, obj.root)}/{folder}/ "
                    f"in {console.elapsed:.2f} s{tally(result.findings)}.")
