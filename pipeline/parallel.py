"""Parallel rendering across processes: `map_ordered` runs a function over items in a pool of
forked workers (they inherit the site, so nothing big is pickled on the way in) and returns the
results in order. Items whose results are all in the build cache are answered in this process
first, so a rebuild forks (and pickles) only for what changed (a cold build, whose cache began
empty, asks nothing: its sources were read twice to learn that). One process when jobs is 1, for
small inputs, or where fork is unavailable."""

from __future__ import annotations

import gc
import marshal
import os
import signal
import tempfile
from typing import Callable, Iterator, Sequence, TypeVar

from pipeline.incremental import cache
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


def map_ordered(function: Callable[[object, T], R], items: Sequence[T], context: object = None,
                probe: bool = True) -> list[R]:
    """[function(context, item) for item in items], spread over `jobs()` processes. `probe`:
    False for a function that uses no build cache (asked here, it would do all the work here)."""
    return list(imap_ordered(function, items, context, probe=probe))


def imap_ordered(function: Callable[[object, T], R], items: Sequence[T], context: object = None,
                 window: int = WINDOW, probe: bool = True) -> Iterator[R]:
    """The results of map_ordered, yielded window by window (so a caller can write and drop them):
    each window is first answered from the build cache in this process, then its misses are
    computed by the workers. One pool of workers serves every window, and the next window is
    handed to it before this one's results are yielded: the workers render while the caller
    writes (so at most two windows' results are held). Items that fail yield nothing; their
    findings, sorted, are raised once every other item has been yielded."""
    build_cache = cache.current()
    problems: list = []
    workers = _Workers(function, items, context)
    try:
        ahead = None   # the window handed to the workers before the last was yielded
        for start in range(0, len(items), window):
            part = range(start, min(start + window, len(items)))
            results: list = [_NONE] * len(part)
            todo = _probe(function, [items[i] for i in part], context, results, problems) \
                if probe and build_cache.path is not None and not build_cache.fresh else range(len(part))
            handed = (results, todo, workers.submit([part[i] for i in todo]))
            if ahead is not None:
                yield from _finish(ahead, problems)
            ahead = handed
        if ahead is not None:
            yield from _finish(ahead, problems)
    finally:
        workers.close()
    if problems:
        raise PipelineError(sorted(problems, key=Finding.sort_key))


def _finish(handed, problems: list) -> Iterator:
    """A window's results in order, once its workers are done."""
    results, todo, pending = handed
    for index, value in zip(todo, pending.get(problems)):
        results[index] = value
    cache.current().flush()
    return (value for value in results if value is not _NONE)


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


class _Workers:
    """The pool of forked workers of one imap_ordered call, started on the first window with more
    than one chunk of work (a rebuild that renders a few articles forks nothing). They inherit
    the state of this process at that moment: the site, the context, the items."""

    def __init__(self, function, items: Sequence, context):
        self.function, self.items, self.context = function, items, context
        self.pool = None

    def submit(self, indexes: list[int]):
        """Start computing items[i] for the indexes; returns what gives their results."""
        if self.pool is None:
            import multiprocessing   # (here: a rebuild of a few articles forks no pool, nor imports it)

            if min(jobs(), (len(indexes) + CHUNK - 1) // CHUNK) <= 1 or \
                    "fork" not in multiprocessing.get_all_start_methods():
                return _Here(self, indexes)
            if _STATE:
                raise RuntimeError("two parallel maps at once (pipeline bug)")
            _STATE.update(function=self.function, context=self.context, items=self.items)
            self.pool = multiprocessing.get_context("fork").Pool(jobs())
        chunks = [indexes[start:start + CHUNK] for start in range(0, len(indexes), CHUNK)]
        return _There(self.pool.map_async(_run_chunk, chunks, chunksize=1))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
            _STATE.clear()


class _Here:
    """Items computed in this process, when their results are asked for."""

    def __init__(self, workers: _Workers, indexes: list[int]):
        self.workers, self.indexes = workers, indexes

    def get(self, problems: list) -> list:
        function, items, context = self.workers.function, self.workers.items, self.workers.context
        try:
            return [function(context, items[index]) for index in self.indexes]
        except PipelineError as exc:
            problems += exc.findings
            return []


class _There:
    """Items computed by the workers; what they computed and used goes to this process's cache."""

    def __init__(self, pending):
        self.pending = pending

    def get(self, problems: list) -> list:
        results: list = []
        failed = False
        build_cache = cache.current()
        for status, value, taken in self.pending.get():
            build_cache.merge(*taken)
            if status == "error":
                problems.extend(value)
                failed = True
            else:
                results.extend(value)
        return [] if failed else results


def _run_chunk(indexes: list[int]):
    function, context, items = _STATE["function"], _STATE["context"], _STATE["items"]
    cache.current().in_worker()
    try:
        results = [function(context, items[index]) for index in indexes]
        return "ok", results, cache.current().take()
    except PipelineError as exc:  # exceptions with findings do not survive pickling: send the findings
        return "error", exc.findings, cache.current().take()


class Background:
    """A value computed in a forked process while this one goes on (a survey of the output trees,
    the publishing clock's events): `result()` waits for it. The value must be marshallable. In
    this process instead, when `result()` is called, if `fork` is false or unavailable or the
    child fails; `close()` stops a child whose answer is not wanted (a build that failed)."""

    def __init__(self, compute: Callable[[], object], fork: bool = True):
        self.compute = compute
        self._child: int | None = None
        self._answer = None
        if fork and hasattr(os, "fork"):
            self._start()

    def _start(self) -> None:
        try:
            answer = tempfile.TemporaryFile()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            answer.close()
            return
        if pid == 0:   # the child: compute, write, and leave without running anything of the parent's
            code = 1
            try:
                gc.disable()
                data = memoryview(marshal.dumps(self.compute()))
                while data:   # a write to a file may take fewer bytes than given
                    data = data[os.write(answer.fileno(), data):]
                code = 0
            finally:
                os._exit(code)
        self._child, self._answer = pid, answer

    @property
    def forked(self) -> bool:
        return self._child is not None

    def result(self):
        if self._child is not None:
            try:
                _, status = os.waitpid(self._child, 0)
                self._child = None
                if os.waitstatus_to_exitcode(status) == 0:
                    self._answer.seek(0)
                    return marshal.loads(self._answer.read())
            except (OSError, EOFError, ValueError, TypeError):
                pass
            finally:
                self.close()
        return self.compute()

    def close(self) -> None:
        if self._child is not None:
            try:
                os.kill(self._child, signal.SIGKILL)
                os.waitpid(self._child, 0)
            except OSError:
                pass
            self._child = None
        if self._answer is not None:
            self._answer.close()
            self._answer = None
