"""What a command prints: findings, a progress bar on a terminal (none in CI), changes, a
summary; and the words it prints them with."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from pipeline.errors import Finding, count_findings

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
            self._echo(work_line(result.work), err=True)

    def findings(self, findings: list[Finding], repeated=(), report: str = "report.html") -> None:
        """Every error and every warning the build made. The warnings it `repeated` from the last
        build (the findings of articles it took unchanged from its records; all of them when up
        to date: True) are printed too while there are at most REPEAT_LIMIT, or with --verbose;
        else one note counts them (a large site's warnings are many lines on each rebuild: slow
        to print, and what the edit caused lost among them)."""
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
            self._echo(f"note: {plural(warnings, 'warning')} about {plural(files, 'file')} unchanged since the "
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


def tally(findings: list[Finding]) -> str:
    _, warnings, accepted = count_findings(findings)
    text = f", {plural(warnings, 'warning')}" if warnings else ""
    return text + (f", {accepted} accepted" if accepted else "")


def work_line(work) -> str:
    """A build's account of its work (pipeline.incremental.work.Work) in one line."""
    sections = len(work.report_sections_rendered)
    parts = [
        f"{len(work.articles_rendered)} of {plural(work.articles, 'article')} rendered "
        f"({work.articles_reused} reused)",
        f"{len(work.sources_parsed)} of {plural(work.sources, 'source')} parsed "
        f"({plural(len(work.sources_read), 'file')} read)",
        plural(work.markdown_conversions, "Markdown conversion"),
        plural(len(work.cards_drawn), "card") + " drawn",
        plural(len(work.templates_compiled), "template") + " compiled",
        f"{plural(len(work.site_files_made), 'site-wide file')} made ({work.site_files_reused} reused)",
        f"{plural(sections, 'report section')} rendered ({work.report_sections_copied} copied, "
        f"{work.report_sections_unpacked} unpacked), report {'written' if work.report_written else 'kept'}",
        plural(work.files_linked, "file") + " linked from the last output"]
    return "Work: " + ", ".join(parts) + "."


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def report_path(out: Path, root: Path) -> str:
    return f"{display(out, root)}/report.html"


def display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
