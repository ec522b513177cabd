"""What a build is asked to do (command-line options), kept apart from the build so that the
command line can decide a build is up to date without importing the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable


@dataclass(frozen=True)
class Options:
    drafts: bool = False
    future: bool = False
    now: datetime | None = None      # the publishing clock; default: the wall clock
    strict: bool = False             # warnings count as errors
    digest_since: datetime | None = None   # also render a digest newsletter of [since, until]
    digest_until: datetime | None = None   # default: the publishing clock
    progress: Callable[[str, int, int], None] | None = field(default=None, compare=False)  # (stage, done, total)
    jobs: int | None = None          # worker processes; default: the number of cores
    cache: bool = True               # reuse results and records from .pipeline/state.sqlite
