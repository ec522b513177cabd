"""`pipeline build`."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.building import build_unless_up_to_date
from pipeline.cli.console import Console, display
from pipeline.cli.options import OUT, Context, build_options
from pipeline.options import Options


@click.command()
@OUT
@build_options
@click.pass_obj
def build(obj: Context, out: Path | None, drafts, future, now, strict, quiet, verbose, jobs, no_cache) -> None:
    """Render every channel and write output/ (only when the whole build is good)."""
    console = Console(quiet, verbose)
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    out = out if out is not None else obj.root / "output"
    articles, counts, tally = build_unless_up_to_date(obj, console, out, options)
    per_channel = ", ".join(f"{channel} {n}" for channel, n in counts.items())
    console.summary(f"Built {articles} articles: {sum(counts.values())} files ({per_channel}) in "
                    f"{display(out, obj.root)}/ in {console.elapsed:.2f} s{tally}.")
