"""Running a build for a command: refused output folders, the up-to-date answer, the survey of the
last output started early, the saves, and what is printed once they are handed over."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import click

from pipeline.cli.console import REPEAT_LIMIT, Console, report_path, tally
from pipeline.cli.options import Context, fail
from pipeline.errors import PipelineError
from pipeline.incremental import uptodate
from pipeline.incremental.saves import Later
from pipeline.options import Options
from pipeline.writer.paths import MARKER as OUTPUT_MARKER, check_output_dir

# The renderers (pipeline.build and what it imports) load only when a build really runs, so an
# up-to-date rebuild answers in a fraction of a second.


def build_unless_up_to_date(obj: Context, console: Console, out: Path, options: Options):
    """(articles, files per channel, tally) of a build, or of the last one when nothing it depends
    on has changed since (see pipeline.incremental.uptodate); --no-cache always builds."""
    key = uptodate.code_key(obj.root, (options.drafts, options.future, options.strict,
                                       os.environ.get("SOURCE_DATE_EPOCH", "").strip(), str(out.resolve())))
    refuse_bad_output(obj, out)  # before writing even the clock
    # The clock first, then the inputs (read once, for the check and for the stamp this build
    # saves): an input modified after that reading of the clock is not trusted (see uptodate.save).
    started, inputs = uptodate.fs_clock(obj.root), uptodate.input_entries(obj.root)
    stamp = uptodate.load(obj.root, out, key, options.now, inputs) if options.cache else None
    if stamp is not None:
        if console.verbose:
            click.echo("Up to date: no input, option or output file has changed since the last build.", err=True)
        if stamp.shown_count > REPEAT_LIMIT and not console.verbose:   # as findings() would: not unpacked
            console.not_repeated(stamp.shown_count, stamp.shown_files, report_path(out, obj.root))
        elif not console.quiet:   # a successful build's findings are warnings: --quiet hides them
            console.findings(uptodate.unpack(stamp.shown), repeated=True, report=report_path(out, obj.root))
        console.changes(None)
        return stamp.articles, dict(stamp.files), stamp.tally
    later = later_for(obj)
    result, out = build_and_write(obj, console, out, options, later, survey_early(obj, out, options))
    from pipeline.channels import CHANNELS
    found = Counter(result.artifacts.field("channel"))
    order = [channel.NAME for channel in CHANNELS] + sorted(found.keys() - {c.NAME for c in CHANNELS})
    counts = {name: found[name] for name in order if found[name]}
    tail = tally(result.findings) + "".join(f"; {note}" for note in result.schedule)
    shown = [f for f in result.findings if not f.is_error]
    uptodate.save(obj.root, out, dict(
        key=key, now=result.site.now.timestamp(), timezone=result.site.config.timezone,
        clock_events=result.clock_events, tally=tail, shown_count=len(shown),
        shown_files=len({f.path for f in shown}), articles=len(result.site.articles), files=tuple(counts.items())),
        shown, inputs, started,
        written={**result.written, OUTPUT_MARKER: None}, folders=result.written_folders, later=later)
    shown = formatted(obj, console, result, out)
    later.run(files=len(result.artifacts), keep=result)
    console.emit(shown)
    return len(result.site.articles), counts, tail


def run_config(obj: Context):
    from pipeline.config import load_config

    try:
        return load_config(obj.root)
    except PipelineError as exc:
        fail(obj, exc, "text", "Not sent")


def later_for(obj: Context) -> Later:
    """Where a build's saves go (see pipeline.incremental.saves): a detached process, but on CI (the CI
    variable set, as GitHub Actions, GitLab CI and most others do) this one, so that a step
    caching .pipeline/ right after the build never copies them half written."""
    return Later(obj.root, detached=not os.environ.get("CI"))


def refuse_bad_output(obj: Context, out: Path) -> None:
    try:
        check_output_dir(out, obj.root)
    except PipelineError as exc:
        fail(obj, exc, "text", "Build failed")


def build_and_write(obj: Context, console: Console, out: Path | None, options: Options, later: Later,
                     last=None):
    out = out if out is not None else obj.root / "output"
    refuse_bad_output(obj, out)  # before spending a build on it
    return run_build(obj, options, out=out, console=console, later=later, last=last), out


def survey_early(obj: Context, out: Path, options: Options):
    """What the last build left in `out` (writer.lastoutput.LastOutput), its survey started now, in a forked
    process, rather than once the build's modules are imported: started later, it may not be
    done when the build needs it."""
    from pipeline.incremental.saves import wait
    from pipeline.incremental.memory import no_collection
    from pipeline.parallel import jobs, set_jobs
    from pipeline.writer.lastoutput import LastOutput

    wait(obj.root)   # for the saves of the build before: they finish the manifest it reads
    set_jobs(options.jobs)
    try:
        with no_collection():   # (see build.run)
            return LastOutput(out, obj.root, background=jobs() > 1)
    except PipelineError as exc:
        fail(obj, exc, "text", "Build failed")


def formatted(obj: Context, console: Console, result, out: Path) -> list:
    """What a build found and changed, formatted (Console.hold), to be printed once its saves
    are made or handed to the saver (a command killed while printing, by a pipe to `head`
    closed early say, loses none of them). Formatted before: the saver is a forked process, and
    every page of memory the command touches after the fork is copied (going over every finding
    of a rebuild then would copy the pages they are on)."""
    with console.hold() as held:
        console.notes(result)
        console.findings(result.findings, result.repeated, report=report_path(out, obj.root))
        console.changes(result.changes)
    return held


def run_build(obj: Context, options: Options, fmt: str = "text", console: Console | None = None,
         out: Path | None = None, later: Later | None = None, checking: bool = False, last=None):
    """The build (writing into `out` when given; what only the next build reads saved by `later`,
    see pipeline.incremental.saves; `checking`: see build.run), or exit 1 with its findings."""
    from pipeline.build import run

    try:
        return run(obj.root, options, out, later, checking, last)
    except PipelineError as exc:
        if console is not None and console.drawn:
            console.progress("", 1, 1)
        fail(obj, exc, fmt, "Check failed" if checking else "Build failed")
