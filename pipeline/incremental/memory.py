"""The build's footprint in glibc's malloc (no-ops where glibc is absent).

A build reads tens of thousands of small records and renders pages whose text is freed at once;
glibc keeps freed memory mapped, so the process's resident size (what the OS and a user see) stays
at its high-water mark unless it is handed back."""

from __future__ import annotations

import ctypes
import gc
from contextlib import contextmanager

M_ARENA_MAX = -8


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def fewer_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own malloc arena, and freed memory stays in it:
    with the writer threads, that raises a build's peak for nothing. Two arenas are enough here
    (as MALLOC_ARENA_MAX=2 would set)."""
    if _LIBC is not None and hasattr(_LIBC, "mallopt"):
        _LIBC.mallopt(M_ARENA_MAX, 2)


def give_back() -> None:
    """Return freed heap pages to the OS (malloc_trim): called after a stage frees much of what
    it held."""
    if _LIBC is not None and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


@contextmanager
def quieter_collector():
    """For one build: collect the young generation every 50,000 new objects instead of 700 (a
    build allocates millions, few of them in cycles, so most collections find nothing to free,
    and collecting less often does not raise the peak). Undone on the way out, with what no_collection() froze.
    (Nothing is frozen later in a build, after the articles: that would freeze that moment's
    garbage with it, for the rest of the build.)"""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.unfreeze()   # what no_collection() froze
        gc.set_threshold(*thresholds)


@contextmanager
def no_collection():
    """For a stage that builds long-lived objects (reading the last build's records, the
    manifest): no collection runs in it (each would scan objects that all survive, a great many
    on a large site), and what it made is then frozen out of later collections
    (gc.freeze) until the build ends (quieter_collector). What little cyclic garbage exists at
    that moment stays until then too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
