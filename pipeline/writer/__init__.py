"""Writer stage: the only package that writes output/. paths: what may be written where; lastoutput:
what the last build left (its manifest: manifest); staging: the build written beside output/ and
swapped in; spare: the output before last, brought up to output/ for the next build to stage on."""

from __future__ import annotations

from pipeline.incremental.memory import fewer_malloc_arenas
from pipeline.writer.lastoutput import LastOutput, recover
from pipeline.writer.paths import MARKER, PathCheck, check_output_dir
from pipeline.writer.spare import WRITERS
from pipeline.writer.staging import Changes, Staging

__all__ = ["MARKER", "WRITERS", "Changes", "LastOutput", "PathCheck", "Staging", "check_output_dir", "recover"]

fewer_malloc_arenas()   # before any writer thread starts: the threads share two malloc arenas
