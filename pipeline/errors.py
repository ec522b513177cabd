"""Errors as a user reads them: a Location in a file, a Finding about it, and one exception family.

Every problem a user can fix is a Finding; a stage collects all of its findings and raises them
together as a PipelineError, so one run reports every mistake in every file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Iterable, NamedTuple

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: path relative to the project root, 1-based line and column (or None)."""

    path: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


_FINDING_FIELDS = ("message", "severity", "rule", "source", "channel", "artifact", "accepted")


class Finding(tuple):
    """One problem: where, how bad, which rule, what to do about it.

    `rule` is a stable kebab-case id for compliance findings (`claim-cure`), or None for plain
    content and configuration errors. `source` is the offending source line, shown with a caret.
    `channel` and `artifact` name the rendered output a compliance finding is about; `accepted` is
    the author's reason, when front matter accepts this finding.

    Immutable, and a tuple of its fields (path, line, col, message, severity, rule, source,
    channel, artifact, accepted) underneath: a build carries several warnings per article from
    one build to the next, and a tuple is made from its stored fields far more cheaply than a
    dataclass with a nested Location.
    """

    __slots__ = ()

    def __new__(cls, location: Location, message: str, severity: str = ERROR, rule: str | None = None,
                source: str | None = None, channel: str | None = None, artifact: str | None = None,
                accepted: str | None = None) -> Finding:
        return tuple.__new__(cls, (location.path, location.line, location.col, message, severity, rule, source,
                                   channel, artifact, accepted))

    path = property(itemgetter(0), doc="Location.path, without making the Location")
    message = property(itemgetter(3))
    severity = property(itemgetter(4))
    rule = property(itemgetter(5))
    source = property(itemgetter(6))
    channel = property(itemgetter(7))
    artifact = property(itemgetter(8))
    accepted = property(itemgetter(9))

    @property
    def location(self) -> Location:
        return Location(self[0], self[1], self[2])

    @property
    def is_error(self) -> bool:
        return self[4] == ERROR and self[9] is None

    @property
    def is_warning(self) -> bool:
        """A warning the article has not accepted: what --strict fails and the summary counts."""
        return self.severity == WARNING and self.accepted is None

    def sort_key(self) -> tuple:
        path, line, col, message, _, rule = self[:6]
        return (path, line or 0, col or 0, rule or "", message)

    def fields(self) -> tuple:
        """All it says, as a plain tuple of strings, numbers and None (see from_fields), for
        marshal."""
        return tuple(self)

    @classmethod
    def from_fields(cls, fields: tuple) -> Finding:
        return tuple.__new__(cls, fields)

    def replace(self, **changes) -> Finding:
        """A copy with some fields changed (by name, as the constructor takes them)."""
        values = dict(zip(_FINDING_FIELDS, self[3:]), location=self.location)
        values.update(changes)
        return Finding(**values)

    def __reduce__(self):
        return (Finding.from_fields, (tuple(self),))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(_FINDING_FIELDS, self[3:]))
        return f"Finding(location={self.location!r}, {shown})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Finding) and tuple.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def format(self) -> str:
        """Compiler-style text: `path:line:col: error[rule]: message`, then the line and a caret."""
        label = self.severity + (f"[{self.rule}]" if self.rule else "")
        if self.accepted is not None:
            label = f"accepted {label}"
        text = f"{self.location}: {label}: {self.message}"
        if self.accepted is not None:
            text += f" (accepted: {self.accepted})"
        loc = self.location
        if self.source is not None and loc.line is not None:
            shown, caret = _window(self.source.rstrip().expandtabs(1), loc.col)
            gutter = f"{loc.line:>5} | "
            text += f"\n{gutter}{shown}"
            if caret is not None:
                text += "\n" + " " * (len(gutter) - 2) + "| " + " " * caret + "^"
        return text


class Counts(NamedTuple):
    errors: int     # errors not accepted: they fail the build
    warnings: int   # warnings not accepted: what --strict fails
    accepted: int   # findings the article's front matter accepts: listed, counted apart


def count_findings(findings: Iterable[Finding]) -> Counts:
    """The errors, warnings and accepted findings among `findings`, as every summary counts them."""
    errors = warnings = accepted = 0
    for finding in findings:
        if finding.is_error:
            errors += 1
        elif finding.is_warning:
            warnings += 1
        elif finding.accepted is not None:
            accepted += 1
    return Counts(errors, warnings, accepted)


def _window(line: str, col: int | None, width: int = 100) -> tuple[str, int | None]:
    """The part of a long source line around `col`, and the caret's offset in it."""
    caret = None if col is None else col - 1
    if len(line) <= width:
        return line, caret
    start = 0 if caret is None else max(0, min(caret - 40, len(line) - width))
    shown = line[start:start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(line) else ""
    return prefix + shown + suffix, None if caret is None else caret - start + len(prefix)


class PipelineError(Exception):
    """Problems in the user's files (or command line) that stop the stage; never shown as a traceback."""

    def __init__(self, findings: list[Finding] | Finding):
        self.findings = [findings] if isinstance(findings, Finding) else list(findings)
        super().__init__("\n".join(f.format() for f in self.findings))


@dataclass
class FindingList:
    """Collects findings while a stage runs; `raise_if_errors` stops the stage with all of them."""

    items: list[Finding] = field(default_factory=list)

    def add(self, location: Location, message: str, *, severity: str = ERROR, source: str | None = None,
            rule: str | None = None) -> None:
        self.items.append(Finding(location, message, severity, rule, source))

    def extend(self, findings) -> None:
        self.items.extend(findings)

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise PipelineError(sorted(self.items, key=Finding.sort_key))
