"""Writer stage, as a build starts: what the last build left in output/ and the spare tree, and
which of its files are still as the manifest says; a swap a killed build left is finished first."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from stat import S_ISREG
from pathlib import Path

from pipeline import buildlock
from pipeline.incremental import survey
from pipeline.incremental.filestat import signature
from pipeline.parallel import Background
from pipeline.writer.manifest import _read_manifest
from pipeline.writer.paths import MARKER, check_output_dir
from pipeline.writer.spare import _spare_path

def recover(out: Path) -> None:
    """Finish or undo a swap that a killed process left behind."""
    parent = out.parent
    if not parent.is_dir():
        return
    for leftover in parent.glob(f".{out.name}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    olds = sorted(parent.glob(f".{out.name}.old-*"))
    if olds and not out.exists():
        os.replace(olds[-1], out)
        olds = olds[:-1]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def _survey(folder: Path, entries: dict, stamps: dict | None, now_ns: int,
            vouched: set[str] = frozenset()) -> survey.Survey:
    """What a tree holds (see pipeline.incremental.survey), the marker left out."""
    found = survey.survey(os.fspath(folder), entries, stamps, now_ns, vouched)
    found.files.discard(MARKER)
    found.same.discard(MARKER)
    found.files = {sys.intern(path) for path in found.files}
    return found


def _rehash(tree: Path, path: str, entry) -> list | None:
    """The up-to-date entry of a file whose stat no longer matches its manifest entry but whose
    bytes still have the entry's hash; None if they do not (or it is gone, or a link). As git
    refreshes its index: a file's times move without its bytes changing when it is copied back,
    touched, or loses a hard link (deleting the spare tree by hand moves the ctime of every file
    of output/); hashing it costs a read, where distrusting it cost rendering its article again."""
    try:
        handle = open(os.open(os.path.join(tree, path), os.O_RDONLY | os.O_NOFOLLOW), "rb")
    except OSError:
        return None
    with handle:
        stat = os.fstat(handle.fileno())   # before reading: a write after it moves the times again
        if not S_ISREG(stat.st_mode) or stat.st_size != entry[1]:
            return None
        try:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return None
    return [digest, *signature(stat)] if digest == entry[0] else None


class LastOutput:
    """What the last build left: its manifest, and which files of output/ and of the spare tree are
    still as it says (see pipeline.incremental.survey). That survey stats every file of the site:
    with `background`, a forked process makes it while this one reads the sources and records, and
    Staging takes its answer (or, should the process fail, surveys itself)."""

    def __init__(self, out: Path, root: Path, background: bool = False):
        check_output_dir(out, root)
        self.out = out = out.resolve()
        self._lock = buildlock.acquire(root)   # held until close(): no other build's recover() runs meanwhile
        try:
            recover(out)
            self.current, self.spare_entries, self.stamps = _read_manifest(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            self.now = survey.fs_now(os.fspath(out.parent))
            # The survey as what differs from the manifest (see _survey_parts), made in a forked
            # process when `background`, else here when asked for.
            self._background = Background(self._parts, fork=background)
        except BaseException:
            buildlock.release(self._lock)
            raise

    @property
    def forked(self) -> bool:
        return self._background.forked

    def surveys(self) -> tuple[survey.Survey, survey.Survey | None]:
        """The surveys of output/ and of the spare tree (None: no spare tree to build on)."""
        if not self._background.forked:
            return self._survey()
        parts = self._background.result()   # (made here should the process fail)
        bases = [(self.current, self.stamps.get("current")), (self.spare_entries, self.stamps.get("spare"))]
        surveys = [_survey_of(part, *base) for part, base in zip(parts, bases)]
        return surveys[0], (surveys[1] if len(surveys) > 1 else None)

    def _parts(self) -> list:
        old, spare = self._survey()
        parts = [_survey_parts(old, self.current, self.stamps.get("current"))]
        if spare is not None:
            parts.append(_survey_parts(spare, self.spare_entries, self.stamps.get("spare")))
        return parts

    def _survey(self) -> tuple[survey.Survey, survey.Survey | None]:
        out, current, spare_entries = self.out, self.current, self.spare_entries
        old = _survey(out, current, self.stamps.get("current"), self.now) if out.is_dir() \
            else survey.Survey(set(), set(), {})
        spare = _spare_path(out)
        if not (spare_entries and spare.is_dir()):
            return old, None
        # A file of the spare that is one inode with a file of output/ (same size, times and
        # inode recorded for both) is as recorded if that one is: an edit in place through either
        # name moves the ctime that output/'s survey just checked.
        vouched = {path for path in old.same if spare_entries.get(path) == current[path]}
        return old, _survey(spare, spare_entries, self.stamps.get("spare"), self.now, vouched)

    def close(self) -> None:
        """Stop and reap the forked process if its answer is not wanted (a build that failed);
        let go of the build lock."""
        self._background.close()
        lock, self._lock = self._lock, None
        buildlock.release(lock)


def _survey_parts(found: survey.Survey, entries: dict, stamps: dict | None) -> tuple:
    """A survey as what differs from the manifest it started from (mostly nothing), so that the
    forked process hands back a few paths, not every path of the site."""
    known, stamps = entries.keys(), stamps or {}
    return (list(found.files - known), list(known - found.files), list(found.files - found.same),
            {folder: stamp for folder, stamp in found.folders.items() if stamps.get(folder, False) != stamp},
            list(stamps.keys() - found.folders.keys()))


def _survey_of(parts, entries: dict, stamps: dict | None) -> survey.Survey:
    """The survey _survey_parts() describes."""
    extra, missing, moved, folders_moved, folders_gone = parts
    files = set(entries)
    files.difference_update(missing)
    files.update(map(sys.intern, extra))
    folders = dict(stamps or {})
    for folder in folders_gone:
        del folders[folder]
    folders.update(folders_moved)
    return survey.Survey(files, files.difference(moved), folders)
