"""Command line: parses arguments, runs the build, prints findings, maps outcomes to exit codes.

Exit 0: success. Exit 1: problems in content, configuration, templates or compliance. Exit 2: usage."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click

from pipeline import __version__
from pipeline.incremental import uptodate
from pipeline.errors import Finding, PipelineError
from pipeline.fserrors import advice
from pipeline.incremental.saves import Later
from pipeline.options import Options
from pipeline.schema import Invalid, parse_datetime
from pipeline.writer import MARKER as OUTPUT_MARKER, check_output_dir

# The renderers (pipeline.build and what it imports) load only when a build really runs, so an
# up-to-date rebuild answers in a fraction of a second.


REPEAT_LIMIT = 20   # warnings repeated from the last build printed in full (see Console.findings)


class Console:
    """What the user sees: findings, a progress bar on a terminal (none in CI), changes, a summary."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.bar = (not quiet and sys.stderr.isatty() and not os.environ.get("CI")
                    and os.environ.get("TERM") != "dumb")
        self.drawn = False
        self.held: list | None = None   # see hold()
        self.started = time.perf_counter()
        self.stage_started = self.started

    def progress(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.verbose and done:
            click.echo(f"  {now - self.stage_started:6.2f} s", err=True)
        self.stage_started = now
        if self.verbose and done < total:
            click.echo(f"{stage}...", err=True, nl=False)
        if self.bar:
            width = 24
            filled = width * done // max(total, 1)
            text = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {stage:<28}"
            click.echo(text if done < total else "\r" + " " * len(text) + "\r", err=True, nl=False)
            self.drawn = done < total

    def _echo(self, text: str, err: bool = False) -> None:
        if self.held is not None:
            self.held.append((text, err))
        else:
            click.echo(text, err=err)

    @contextmanager
    def hold(self):
        """What is printed in the block, formatted now and kept (the list it gives) to be
        printed by emit()."""
        self.held = held = []
        try:
            yield held
        finally:
            self.held = None

    def emit(self, held: list) -> None:
        for text, err in held:
            click.echo(text, err=err)

    def notes(self, result) -> None:
        for note in result.notes:
            self._echo(f"note: {note}", err=True)
        if self.verbose:
            self._echo(f"Reused {result.reused} cached results, computed {result.computed}.", err=True)

    def findings(self, findings: list[Finding], repeated=(), report: str = "report.html") -> None:
        """Every error and every warning the build made. The warnings it `repeated` from the last
        build (the findings of articles it took unchanged from its records; all of them when up
        to date: True) are printed too while there are at most REPEAT_LIMIT, or with --verbose;
        else one note counts them (at 5,000 articles 28,000 warnings, 84,000 lines, on each
        rebuild: 0.7-1.2 s of printing, and what the edit caused lost among them)."""
        if self.quiet:
            for finding in findings:
                if finding.is_error:
                    self._echo(finding.format(), err=True)
            return
        if repeated is True:
            repeated = findings
        again = {id(finding) for finding in repeated if not finding.is_error}
        hidden = len(again) > REPEAT_LIMIT and not self.verbose
        for finding in findings:
            if not (hidden and id(finding) in again):
                self._echo(finding.format(), err=True)
        if hidden:
            self.not_repeated(len(again), len({finding.path for finding in findings if id(finding) in again}),
                              report)

    def not_repeated(self, warnings: int, files: int, report: str) -> None:
        if not self.quiet:
            self._echo(f"note: {_plural(warnings, 'warning')} about {_plural(files, 'file')} unchanged since the "
                       f"last build are not repeated here ({report} lists every finding; --verbose prints "
                       f"them)", err=True)

    def changes(self, changes) -> None:
        """What the swap changed in output/; None when the build was up to date."""
        if self.quiet:
            return
        if changes is None:
            self._echo("No changes since the last build.")
            return
        lines = ([f"  added    {p}" for p in changes.added] + [f"  changed  {p}" for p in changes.changed]
                 + [f"  removed  {p}" for p in changes.removed])
        if not lines:
            self._echo("No changes since the last build.")
            return
        self._echo(f"Changes since the last build: {len(changes.added)} added, {len(changes.changed)} changed, "
                   f"{len(changes.removed)} removed")
        limit = len(lines) if self.verbose else 15
        for line in lines[:limit]:
            self._echo(line)
        if len(lines) > limit:
            self._echo(f"  ... and {len(lines) - limit} more (--verbose lists them all)")

    def summary(self, text: str) -> None:
        if not self.quiet:
            self._echo(text)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


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


class _Commands(click.Group):
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
    paths = [_display(Path(os.fsdecode(name)), root) for name in (exc.filename, exc.filename2) if name is not None]
    where = " -> ".join(paths) + ": " if paths else ""
    return f"{where}{exc.strerror or exc}; {advice(exc)}"


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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


def build_options(function):
    options = [
        click.option("--no-cache", "no_cache", is_flag=True, help="Ignore and do not reuse .pipeline/cache.sqlite."),
        click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None,
                     help="Worker processes [default: the number of cores]."),
        click.option("--verbose", "-v", is_flag=True, help="List every changed file and each stage's time."),
        click.option("--quiet", "-q", is_flag=True, help="Print errors only."),
        click.option("--now", callback=_now, metavar="DATETIME",
                     help="Fix the publishing clock (ISO 8601), e.g. 2026-05-01T09:00."),
        click.option("--future", is_flag=True, help="Include articles dated in the future."),
        click.option("--drafts", is_flag=True, help="Include articles marked draft: true."),
        click.option("--strict", is_flag=True, help="Treat warnings as errors."),
    ]
    for option in options:
        function = option(function)
    return function


OUT = click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder [default: output/].")


@main.command()
@OUT
@build_options
@click.pass_obj
def build(obj: Context, out: Path | None, drafts, future, now, strict, quiet, verbose, jobs, no_cache) -> None:
    """Render every channel and write output/ (only when the whole build is good)."""
    console = Console(quiet, verbose)
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    out = out if out is not None else obj.root / "output"
    articles, counts, tally = _build_unless_up_to_date(obj, console, out, options)
    per_channel = ", ".join(f"{channel} {n}" for channel, n in counts.items())
    console.summary(f"Built {articles} articles: {sum(counts.values())} files ({per_channel}) in "
                    f"{_display(out, obj.root)}/ in {console.elapsed:.2f} s{tally}.")


def _build_unless_up_to_date(obj: Context, console: Console, out: Path, options: Options):
    """(articles, files per channel, tally) of a build, or of the last one when nothing it depends
    on has changed since (see pipeline.incremental.uptodate); --no-cache always builds."""
    key = uptodate.code_key(obj.root, (options.drafts, options.future, options.strict,
                                       os.environ.get("SOURCE_DATE_EPOCH", "").strip(), str(out.resolve())))
    _refuse_bad_output(obj, out)  # before writing even the clock
    # The clock first, then the inputs (read once, for the check and for the stamp this build
    # saves): an input modified after that reading of the clock is not trusted (see uptodate.save).
    started, inputs = uptodate.fs_clock(obj.root), uptodate.input_entries(obj.root)
    stamp = uptodate.load(obj.root, out, key, options.now, inputs) if options.cache else None
    if stamp is not None:
        if console.verbose:
            click.echo("Up to date: no input, option or output file has changed since the last build.", err=True)
        if stamp.shown_count > REPEAT_LIMIT and not console.verbose:   # as findings() would: not unpacked
            console.not_repeated(stamp.shown_count, stamp.shown_files, _report(out, obj.root))
        elif not console.quiet:   # a successful build's findings are warnings: --quiet hides them
            console.findings(uptodate.unpack(stamp.shown), repeated=True, report=_report(out, obj.root))
        console.changes(None)
        return stamp.articles, dict(stamp.files), stamp.tally
    later = _later(obj)
    result, out = _build_and_write(obj, console, out, options, later, _survey_early(obj, out, options))
    from pipeline.channels import CHANNELS
    found = Counter(result.artifacts.field("channel"))
    order = [channel.NAME for channel in CHANNELS] + sorted(found.keys() - {c.NAME for c in CHANNELS})
    counts = {name: found[name] for name in order if found[name]}
    tally = _tally(result.findings) + "".join(f"; {note}" for note in result.schedule)
    shown = [f for f in result.findings if not f.is_error]
    uptodate.save(obj.root, out, dict(
        key=key, now=result.site.now.timestamp(), timezone=result.site.config.timezone,
        clock_events=result.clock_events, tally=tally, shown_count=len(shown),
        shown_files=len({f.path for f in shown}), articles=len(result.site.articles), files=tuple(counts.items())),
        shown, inputs, started,
        written={**result.written, OUTPUT_MARKER: None}, folders=result.written_folders, later=later)
    shown = _shown(obj, console, result, out)
    later.run(files=len(result.artifacts), keep=result)
    console.emit(shown)
    return len(result.site.articles), counts, tally


@main.command()
@click.option("--since", required=True, callback=_now, metavar="DATE", help="First day of the window (ISO 8601).")
@click.option("--until", callback=_now, metavar="DATE", help="End of the window; default: now. A date "
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
    later = _later(obj)
    result, out = _build_and_write(obj, console, out, options, later)
    shown = _shown(obj, console, result, out)
    later.run(files=len(result.artifacts), keep=result)
    console.emit(shown)
    folder = next(a.path.rsplit("/", 1)[0] for a in result.artifacts if "/digest-" in a.path)
    count = len(next(a.articles for a in result.artifacts if a.path.startswith(folder)))
    console.summary(f"Digest of {count} article{'s' if count != 1 else ''} in {_display(out, obj.root)}/{folder}/ "
                    f"in {console.elapsed:.2f} s{_tally(result.findings)}.")


@main.command("send-test")
@click.argument("slug")
@click.option("--to", "to", required=True, metavar="ADDRESS", help="The one address to send the test to.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=30, show_default=True,
              help="Seconds to wait for the SMTP server at each step.")
@build_options
@click.pass_obj
def send_test(obj: Context, slug: str, to: str, timeout: float, drafts, future, now, strict, quiet, verbose, jobs,
              no_cache) -> None:
    """Build (unless up to date), then send the article's newsletter message to one address over
    the SMTP server of site.yaml's newsletter.smtp; the password only from PIPELINE_SMTP_PASSWORD."""
    from pipeline import sending

    try:
        address = sending.recipient(to)
    except sending.SendError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    console = Console(True, verbose)
    out = obj.root / "output"
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    _build_unless_up_to_date(obj, console, out, options)
    settings = _run_config(obj).newsletter.smtp
    try:
        path = sending.send_built(settings, out, slug, address, os.environ.get(sending.PASSWORD_VARIABLE), timeout)
    except sending.SendError as exc:
        click.echo(exc.format(), err=True)
        sys.exit(1)
    click.echo(f"Sent {_display(path, obj.root)} to {address} via {settings.host}:{settings.port} "
               f"({settings.security}).")


def _run_config(obj: Context):
    from pipeline.config import load_config

    try:
        return load_config(obj.root)
    except PipelineError as exc:
        _fail(obj, exc, "text", "Not sent")


def _later(obj: Context) -> Later:
    """Where a build's saves go (see pipeline.incremental.saves): a detached process, but on CI (the CI
    variable set, as GitHub Actions, GitLab CI and most others do) this one, so that a step
    caching .pipeline/ right after the build never copies them half written."""
    return Later(obj.root, detached=not os.environ.get("CI"))


def _refuse_bad_output(obj: Context, out: Path) -> None:
    try:
        check_output_dir(out, obj.root)
    except PipelineError as exc:
        _fail(obj, exc, "text", "Build failed")


def _build_and_write(obj: Context, console: Console, out: Path | None, options: Options, later: Later,
                     last=None):
    out = out if out is not None else obj.root / "output"
    _refuse_bad_output(obj, out)  # before spending a build on it
    return _run(obj, options, out=out, console=console, later=later, last=last), out


def _survey_early(obj: Context, out: Path, options: Options):
    """What the last build left in `out` (writer.LastOutput), its survey started now, in a forked
    process, rather than once the build's modules are imported: at 5,000 articles the build
    otherwise waited for it (0.02-0.05 s)."""
    from pipeline.incremental.saves import wait
    from pipeline.incremental.memory import no_collection
    from pipeline.parallel import jobs, set_jobs
    from pipeline.writer import LastOutput

    wait(obj.root)   # for the saves of the build before: they finish the manifest it reads
    set_jobs(options.jobs)
    try:
        with no_collection():   # (see build.run)
            return LastOutput(out, obj.root, background=jobs() > 1)
    except PipelineError as exc:
        _fail(obj, exc, "text", "Build failed")


def _shown(obj: Context, console: Console, result, out: Path) -> list:
    """What a build found and changed, formatted (Console.hold), to be printed once its saves
    are made or handed to the saver (a command killed while printing, by a pipe to `head`
    closed early say, loses none of them). Formatted before: the saver is a forked process, and
    every page of memory the command touches after the fork is copied (going over the 28,000
    findings of a rebuild of 5,000 articles then cost 5,800 page faults, 0.02-0.03 s)."""
    with console.hold() as held:
        console.notes(result)
        console.findings(result.findings, result.repeated, report=_report(out, obj.root))
        console.changes(result.changes)
    return held


@main.command()
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
            click.echo(f"[{stamp}] Built {len(result.site.articles)} articles{_tally(result.findings)}.")

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


@main.command()
@click.argument("title")
@click.option("--tags", default="", metavar="TAG,TAG", help="Comma-separated tags.")
@click.pass_obj
def new(obj: Context, title: str, tags: str) -> None:
    """Create content/posts/<slug>.md with front matter, today's date and an outline."""
    from pipeline.scaffold import new_article

    try:
        path = new_article(obj.root, title, tags.split(",") if tags else [], datetime.now(timezone.utc))
    except PipelineError as exc:
        _fail(obj, exc, "text", "Not created")
    click.echo(f"Created {path.relative_to(obj.root).as_posix()} (a draft: preview it with `pipeline serve`, "
               f"and delete the `draft: true` line to publish).")


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="text: compiler-style lines; json: one object for tools.")


@main.command()
@build_options
@FORMAT
@click.pass_obj
def check(obj: Context, drafts, future, now, strict, quiet, verbose, jobs, no_cache, fmt: str) -> None:
    """Everything build does except writing: for CI and pre-publish review."""
    console = Console(quiet or fmt == "json", verbose)
    options = Options(drafts, future, now, strict, progress=console.progress, jobs=jobs, cache=not no_cache)
    result = _run(obj, options, fmt, console, checking=True)
    if fmt == "json":
        from pipeline.formats import findings_json

        click.echo(findings_json(result.findings))
        return
    console.notes(result)
    console.findings(result.findings)
    console.summary(f"Checked {len(result.site.articles)} articles and {len(result.artifacts)} outputs: "
                    f"no errors{_tally(result.findings)}.")


@main.command()
@FORMAT
@click.pass_obj
def rules(obj: Context, fmt: str) -> None:
    """List the disclaimers and claim rules in force (content/compliance.yaml)."""
    from pipeline.compliance.rules import load_rules
    from pipeline.formats import rules_json, rules_text

    try:
        loaded = load_rules(obj.root)
    except PipelineError as exc:
        _fail(obj, exc, fmt, "Rules not loaded")
    click.echo(rules_json(loaded) if fmt == "json" else rules_text(loaded))


def _run(obj: Context, options: Options, fmt: str = "text", console: Console | None = None,
         out: Path | None = None, later: Later | None = None, checking: bool = False, last=None):
    """The build (writing into `out` when given; what only the next build reads saved by `later`,
    see pipeline.incremental.saves; `checking`: see build.run), or exit 1 with its findings."""
    from pipeline.build import run

    try:
        return run(obj.root, options, out, later, checking, last)
    except PipelineError as exc:
        if console is not None and console.drawn:
            console.progress("", 1, 1)
        _fail(obj, exc, fmt, "Check failed" if checking else "Build failed")


def _fail(obj: Context, exc: PipelineError, fmt: str, headline: str):
    if obj.debug:
        raise exc
    if fmt == "json":
        from pipeline.formats import findings_json

        click.echo(findings_json(exc.findings))
        sys.exit(1)
    for finding in exc.findings:
        click.echo(finding.format(), err=True)
    errors = sum(1 for f in exc.findings if f.is_error)
    warnings = sum(1 for f in exc.findings if f.severity == "warning" and f.accepted is None)
    files = len({f.path for f in exc.findings})
    tail = " Nothing was written to output/." if headline == "Build failed" else ""
    click.echo(f"{headline}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')} in "
               f"{_plural(files, 'file')}.{tail}", err=True)
    sys.exit(1)


def _tally(findings: list[Finding]) -> str:
    warnings = sum(1 for f in findings if f.severity == "warning" and f.accepted is None)
    accepted = sum(1 for f in findings if f.accepted is not None)
    text = f", {_plural(warnings, 'warning')}" if warnings else ""
    return text + (f", {accepted} accepted" if accepted else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _report(out: Path, root: Path) -> str:
    return f"{_display(out, root)}/report.html"


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def run() -> None:
    """The `pipeline` command (and `python -m pipeline`): main(), then exit at once. By then every
    file is written and closed; what is left is freeing the build's objects one by one, which
    took 0.4 to 1 s after a rebuild of 5,000 articles. Standard output and error are flushed first."""
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
