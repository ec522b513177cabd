"""Command line: parses arguments, runs the build, prints findings, maps outcomes to exit codes;
one module per command, what they share in options, console and building.

Exit 0: success. Exit 1: problems in content, configuration, templates or compliance. Exit 2: usage."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli import build, check, digest, new, rules, send_test, serve
from pipeline.cli.console import display
from pipeline.cli.options import Context
from pipeline.fserrors import advice


class Commands(click.Group):
    """The command group: a file-system error (a read-only or immutable folder, a full disk, a
    file where a folder must be) ends any command with one line naming the path and what to do,
    and exit 1; --debug shows the traceback instead."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) or (ctx.obj is not None and ctx.obj.debug):
                raise
            root = ctx.obj.root if ctx.obj is not None else Path(".")
            click.echo(f"error: {file_system_error(exc, root)}", err=True)
            sys.exit(1)


def file_system_error(exc: OSError, root: Path) -> str:
    """'path: what happened; what to do' for an OSError (paths shown relative to the project)."""
    paths = [display(Path(os.fsdecode(name)), root) for name in (exc.filename, exc.filename2) if name is not None]
    where = " -> ".join(paths) + ": " if paths else ""
    return f"{where}{exc.strerror or exc}; {advice(exc)}"


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The project folder (holds content/ and templates/).")
@click.option("--debug", is_flag=True, help="Show a traceback for problems in your files too.")
@click.version_option(__version__, prog_name="pipeline")
@click.pass_context
def main(ctx: click.Context, project: Path, debug: bool) -> None:
    """Publish clinic articles to a blog, feeds, newsletter and social posts, with the disclaimers
    health marketing requires."""
    if not (project / "content").is_dir():
        raise click.UsageError(f"{project} has no content/ folder; run this in your project or pass --project DIR")
    ctx.obj = Context(project, debug)



for command in (build.build, check.check, digest.digest, new.new, rules.rules, send_test.send_test, serve.serve):
    main.add_command(command)


def run() -> None:
    """The `pipeline` command (and `python -m pipeline`): main(), then exit at once. By then every
    file is written and closed; what is left is freeing the build's objects one by one, which
    grows with the site and serves no one. Standard output and error are flushed first."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass   # a closed pipe (`pipeline build | head`): nothing more can be said
    os._exit(code or 0)
