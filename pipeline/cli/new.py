"""`pipeline new`."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from pipeline.cli.options import Context, fail
from pipeline.errors import PipelineError


@click.command()
@click.argument("title")
@click.option("--tags", default="", metavar="TAG,TAG", help="Comma-separated tags.")
@click.pass_obj
def new(obj: Context, title: str, tags: str) -> None:
    """Create content/posts/<slug>.md with front matter, today's date and an outline."""
    from pipeline.scaffold import new_article

    try:
        path = new_article(obj.root, title, tags.split(",") if tags else [], datetime.now(timezone.utc))
    except PipelineError as exc:
        fail(obj, exc, "text", "Not created")
    click.echo(f"Created {path.relative_to(obj.root).as_posix()} (a draft: preview it with `pipeline serve`, "
               f"and delete the `draft: true` line to publish).")
