"""Parallel rendering across processes: `map_ordered` runs a function over items in a pool of
forked workers (they inherit the site, so nothing big is pickled on the way in) and returns the
results in order. Items whose results are all in the build cache are answered in this process
first, so a rebuild forks (and pickles) only for what changed. One process when jobs is 1, for
small inputs, or where fork is unavailable."""

from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Iterator, Sequence, TypeVar

from pipeline import cache
from pipeline.errors import Finding, PipelineError

T = TypeVar("T")
R = TypeVar("R")
CHUNK = 16
WINDOW = 256     # items per window of imap_ordered: bounds what is held in memory at once
_JOBS = {"n": 1}
_STATE: dict = {}


def set_jobs(jobs: int | None) -> None:
    _JOBS["n"] = max(1, jobs or os.cpu_count() or 1)


def jobs() -> int:
    return _JOBS["n"]


def map_ordered(function: Callable[[object, T], R], items: Sequence[T], context: object = None) -> list[R]:
    """[function(context, item) for item in items], spread over `jobs()` processes."""
    return list(imap_ordered(function, items, context))


def imap_ordered(function: Callable[[object, T], R], items: Sequence[T], context: object = None,
                 window: int = WINDOW) -> Iterator[R]:
    """The results of map_ordered, yielded window by window (so a caller can write and drop them):
    each window is first answered from the build cache in this process, then its misses are
    computed by the workers. Items that fail yield nothing; their findings, sorted, are raised
    once every other item has been yielded."""
    build_cache = cache.current()
    problems: list = []
    for start in range(0, len(items), window):
        part = items[start:start + window]
        results: list = [_NONE] * len(part)
        todo = _probe(function, part, context, results, problems) if build_cache.path is not None \
            else range(len(part))
        try:
            computed = _map(function, [part[i] for i in todo], context)
        except PipelineError as exc:
            computed = []
            problems += exc.findings
        for index, value in zip(todo, computed):
            results[index] = value
        build_cache.flush()
        yield from (value for value in results if value is not _NONE)
    if problems:
        raise PipelineError(sorted(problems, key=Finding.sort_key))


def _probe(function, part: Sequence, context, results: list, problems: list) -> list[int]:
    """Fill `results` with what the build cache answers; the indexes it cannot answer."""
    build_cache = cache.current()
    todo = []
    build_cache.probing = True
    try:
        for index, item in enumerate(part):
            try:
                results[index] = function(context, item)
            except cache.Miss:
                todo.append(index)
            except PipelineError as exc:
                problems += exc.findings
    finally:
        build_cache.probing = False
    return todo


_NONE = object()


def _map(function: Callable[[object, T], R], items: Sequence[T], context: object = None) -> list[R]:
    workers = min(jobs(), (len(items) + CHUNK - 1) // CHUNK)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(context, item) for item in items]
    _STATE.update(function=function, context=context, items=items)
    chunks = [(start, min(start + CHUNK, len(items))) for start in range(0, len(items), CHUNK)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_run_chunk, chunks, chunksize=1)
    finally:
        _STATE.clear()
    results: list = []
    problems = []
    build_cache = cache.current()
    for status, value, taken in parts:
        build_cache.merge(*taken)
        if status == "error":
            problems.extend(value)
        else:
            results.extend(value)
    if problems:
        raise PipelineError(problems)
    return results


def _run_chunk(bounds: tuple[int, int]):
    function, context, items = _STATE["function"], _STATE["context"], _STATE["items"]
    cache.current().in_worker()
    try:
        results = [function(context, items[index]) for index in range(*bounds)]
        return "ok", results, cache.current().take()
    except PipelineError as exc:  # exceptions with findings do not survive pickling: send the findings
        return "error", exc.findings, cache.current().take()
