"""Limits and thresholds a build keeps, each of which an environment variable can set for tests
and benchmarks (docs/testing.md lists them): a test then sets the limit it needs instead of
waiting one out. The defaults are what every build should use. None changes what a build
writes, only when it gives up (the Markdown time limit) or how it goes about its work."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from pipeline.errors import Finding, Location, PipelineError

LIMITS: list[Limit] = []   # every limit, in the order their modules define them


@dataclass(frozen=True)
class Limit:
    variable: str        # the environment variable that sets it
    default: int | float
    meaning: str         # what it bounds, in a phrase
    least: int | float = 0   # the smallest value it may be set to

    def __post_init__(self):
        LIMITS.append(self)

    def value(self) -> int | float:
        """The limit in force: the variable's value when it is set, else the default."""
        text = os.environ.get(self.variable, "").strip()
        if not text:
            return self.default
        kind = type(self.default)
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < self.least:
            raise PipelineError(Finding(Location(self.variable), f"expected a {'whole ' if kind is int else ''}number "
                                        f"of at least {self.least:g} ({self.meaning}; default {self.default:g}), "
                                        f"got {text!r}"))
        return value


def check_limits() -> None:
    """Raise PipelineError, before a build does anything, for every limit set to what is not one."""
    problems = []
    for limit in LIMITS:
        try:
            limit.value()
        except PipelineError as exc:
            problems += exc.findings
    if problems:
        raise PipelineError(problems)
