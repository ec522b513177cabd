"""One build at a time per project: a build holds an exclusive lock on .pipeline/build.lock from
before it tidies what a killed build left (writer.lastoutput.recover deletes staging folders) until its
output is swapped in. A second build started meanwhile waits for it, so its tidying never
deletes the first one's staging folder. Re-entrant within a process (a build may look at its
output twice); released when the last holder lets go, or when the process ends. A POSIX record
lock (lockf), not flock: a process forked meanwhile (a worker, the saver) does not hold it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    import fcntl
except ImportError:   # no POSIX locks here (Windows): builds are not serialised
    fcntl = None

_HELD: dict[str, list] = {}   # lock path -> [fd, holders]


def lock_file(root: Path) -> Path:
    return root / ".pipeline" / "build.lock"


def acquire(root: Path) -> str | None:
    """Hold the project's build lock (waiting for another process's build to end); returns the
    key to release it with, or None where locks are not available."""
    if fcntl is None:
        return None
    path = lock_file(root)
    key = os.fspath(path.resolve())
    held = _HELD.get(key)
    if held is not None:
        held[1] += 1
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            print("note: another build of this project is running; waiting for it to finish", file=sys.stderr,
                  flush=True)
            fcntl.lockf(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    _HELD[key] = [fd, 1]
    return key


def release(key: str | None) -> None:
    held = _HELD.get(key) if key is not None else None
    if held is None:
        return
    held[1] -= 1
    if held[1] == 0:
        del _HELD[key]
        os.close(held[0])   # (releases the lock)
