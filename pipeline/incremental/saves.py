"""Saves that only the next build reads (the build records, the build cache, the output manifest
and the up-to-date stamp), made after output/ is in place by a detached process, so a command
returns as soon as its output is complete (on a large site these saves are a sizeable part of
a rebuild). Every build first waits for the saves of the one before (the saving process holds an
exclusive lock on .pipeline/saving.lock until it ends), so no build reads state half saved. The
saves marked early (what the up-to-date stamp needs, and the stamp) are made first, under a
second lock (.pipeline/stamp.lock) that the saver lets go of once they are made: the up-to-date
check waits only for those, so a rebuild with nothing changed does not wait for the records of
a cold build to be written (the longest of the saves).

Losing any of these saves is safe by design (a killed saver, a full disk): a missing record,
manifest or stamp, or a cache without the new entries, only means more work for the next build,
never a wrong output (see pipeline.incremental.records, pipeline.writer and pipeline.incremental.uptodate)."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Callable

from pipeline.limits import Limit

try:
    import fcntl
except ImportError:   # no flock here: saves are made before the command returns
    fcntl = None


def lock_path(root: Path, stamp: bool = False) -> Path:
    return root / ".pipeline" / ("stamp.lock" if stamp else "saving.lock")


# This process's savers not yet reaped, each with what its saves hold (the build's records, cache
# and manifest): let go of only once the saver has ended. Freed while it runs, every page they
# are on would be copied first (fork shares them copy-on-write, and freeing writes to each
# object), for memory that exiting frees anyway.
_SAVERS: list[tuple[int, list]] = []
# Output files below which a build's saves are made in the command: they then take about as long
# as forking the saver, and a project that small is what scripts and tests build and look into at
# once.
DETACH_FROM = Limit("PIPELINE_DETACH_SAVES_FROM", 1000, "output files from which a build's saves are made "
                    "after the command returns")


def notes_path(root: Path) -> Path:
    return root / ".pipeline" / "saves.notes"


def take_notes(root: Path) -> list[str]:
    """What the last build's saver had to say (a save that failed), once; call after wait()."""
    path = notes_path(root)
    try:
        text = path.read_text("utf-8")
        path.unlink()
    except OSError:
        return []
    return [f"the last build's saves: {line}" for line in text.splitlines() if line]


def wait(root: Path, stamp: bool = False) -> None:
    """Return once no process is saving an earlier build of the project at `root` (`stamp`: once
    none is still making the early saves, the up-to-date stamp's)."""
    reap_savers()
    if fcntl is None:
        return
    try:
        fd = os.open(lock_path(root, stamp), os.O_RDONLY)
    except OSError:
        return   # nothing was ever saved in the background here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


class Later:
    """The saves of one build, run together by `run`: the early ones first, in the order added."""

    def __init__(self, root: Path, detached: bool = True):
        self.root = root
        self.detached = detached and fcntl is not None and hasattr(os, "fork")
        self.early: list[tuple[Callable[[], None], list | None]] = []
        self.saves: list[tuple[Callable[[], None], list | None]] = []

    def add(self, save: Callable[[], None], early: bool = False, notes: list[str] | None = None) -> None:
        """`notes`: where the save appends what it has to say (a failure); a detached saver
        leaves those for the next build (take_notes)."""
        (self.early if early else self.saves).append((save, notes))

    def run(self, files: int | None = None, keep: object = None) -> None:
        """Make the saves: in a detached process holding the locks, or here (also when the
        build's output has fewer than DETACH_FROM `files`). `keep`: what else the saver shares
        with this process that it should not free while the saver runs (the build's result)."""
        early, saves = self.early, self.saves
        self.early, self.saves = [], []
        if not early and not saves:
            return
        if self.detached and (files is None or files >= DETACH_FROM.value()):
            fds: list[int] = []
            try:
                for stamp in (False, True):
                    path = lock_path(self.root, stamp)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fds.append(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
                for fd in fds:
                    fcntl.flock(fd, fcntl.LOCK_EX)   # the saves of an earlier build end first
                pid = os.fork()
                if pid == 0:
                    try:
                        _saver(self.root, early, fds[1], saves)   # never returns
                    finally:
                        os._exit(0)
                _SAVERS.append((pid, [early, saves, keep]))
                return
            except OSError:
                pass   # no lock or no process to spare: saved here
            finally:
                for fd in fds:
                    os.close(fd)   # the saver's copies hold the locks
        for save, _ in early + saves:
            save()


def _saver(root: Path, early: list, stamp_lock: int, saves: list) -> None:
    """In the forked saver: leave the terminal's session and the command's output (a pipe read to
    its end by whoever ran the command would otherwise stay open until the saver ends), make the
    early saves, let go of the stamp's lock, make the others, all without collecting garbage (a
    collection would touch, and so copy, every page it shares with the command), leave what the
    saves had to say for the next build, and exit without running what the forked program
    registered for its own exit. Not forked twice: the command exits at once, and init reaps the
    saver (a process that goes on reaps its savers in wait, or reap_savers)."""
    try:
        gc.disable()
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        said = [note for save, notes in early for note in _make(save, notes)]
        os.close(stamp_lock)
        said += [note for save, notes in saves for note in _make(save, notes)]
        if said:
            with notes_path(root).open("a", encoding="utf-8") as handle:
                handle.writelines(" ".join(note.split()) + "\n" for note in said)
    finally:
        os._exit(0)


def _make(save: Callable[[], None], notes: list | None) -> list[str]:
    """Make a save; what it added to `notes`."""
    before = len(notes) if notes is not None else 0
    try:
        save()
    except BaseException as exc:  # noqa: BLE001 - each save is safe to lose (see above)
        return [f"a save failed ({type(exc).__name__}: {exc}); the next build may take longer"]
    return notes[before:] if notes is not None else []


def reap_savers(block: bool = False) -> None:
    """Reap this process's savers that have ended, and let go of what they held (`block`: wait
    for every one of them to end first, as a process that goes on may when it wants that memory)."""
    for saver in list(_SAVERS):
        try:
            done, _ = os.waitpid(saver[0], 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = saver[0]
        if done:
            _SAVERS.remove(saver)
