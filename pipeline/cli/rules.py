"""`pipeline rules`."""

from __future__ import annotations

import click

from pipeline.cli.options import FORMAT, Context, fail
from pipeline.errors import PipelineError


@click.command()
@FORMAT
@click.pass_obj
def rules(obj: Context, fmt: str) -> None:
    """List the disclaimers and claim rules in force (content/compliance.yaml)."""
    from pipeline.compliance.rules import load_rules
    from pipeline.formats import rules_json, rules_text

    try:
        loaded = load_rules(obj.root)
    except PipelineError as exc:
        fail(obj, exc, fmt, "Rules not loaded")
    click.echo(rules_json(loaded) if fmt == "json" else rules_text(loaded))
