"""Writer stage: the next output/ staged beside it one artifact at a time and swapped in, so a
failure at any point leaves the previous output as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pipeline.incremental import survey
from pipeline.incremental.filestat import signature
from pipeline.incremental.saves import Later
from pipeline.errors import Finding, Location, PipelineError
from pipeline.fserrors import advice
from pipeline.model import Artifact
from pipeline.writer.lastoutput import LastOutput, _rehash
from pipeline.writer.manifest import _manifest_path, _write_manifest
from pipeline.writer.paths import MARKER, MARKER_TEXT, PathCheck
from pipeline.writer.spare import WRITERS, _catch_up, _remove_empty_parents, _spare_path

MAX_PENDING = 512    # queued writes (their bytes are held until written)


@dataclass(frozen=True)
class Changes:
    """How the new output differs from the one it replaced (paths relative to output/)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class Staging:
    """The next output/, built beside it one artifact at a time, then swapped in by commit().

    Staging starts from the spare tree (the output before last) when there is one: only files
    that differ from it are touched, and files unchanged since the last build are hard-linked from
    output/. After the swap the replaced output becomes the next spare. So a rebuild that changes
    a few files writes a few files, no build holds its artifacts in memory, and a failure at any
    point (abort()) leaves output/ as it was."""

    def __init__(self, out: Path, root: Path, last: LastOutput | None = None, later: Later | None = None):
        last = last if last is not None and last.out == out.resolve() else LastOutput(out, root)
        self.out = out = last.out
        self.later = later
        self.current, spare_entries = last.current, last.spare_entries
        old, found = last.surveys()
        self.old, self.old_same, self.old_folders = old.files, old.same, old.folders
        self.folder = out.parent / f".{out.name}.new-{os.getpid()}"
        self.paths = PathCheck()
        self.staged: dict[str, list] = {}          # path -> [sha256, size, mtime_ns, ctime_ns]
        # File creation is slow on many disks and faster in parallel: a few threads write.
        self._threads = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="writer")
        self._pending: deque = deque()
        self.added, self.changed = [], []
        self.mirror: str | None = None   # see below
        self._mirror_failed: list = []   # appended to by the writer threads
        spare = _spare_path(out)
        try:
            if found is not None:
                os.replace(spare, self.folder)  # from here a crash leaves a .new-* folder: recover deletes it
                self.present, self.spare_same, self.spare_folders = found.files, found.same, found.folders
                self.spare_entries = spare_entries
            else:
                shutil.rmtree(spare, ignore_errors=True)
                self.folder.mkdir()
                self.present, self.spare_same, self.spare_entries, self.spare_folders = set(), set(), {}, {}
            marker = self.folder / MARKER
            if not marker.is_file() or marker.read_bytes() != MARKER_TEXT:
                marker.unlink(missing_ok=True)
                marker.write_bytes(MARKER_TEXT)
        except OSError as exc:
            self._fail(exc)
        self.made: set[str] = {""}
        self.linked: set[str] = set()   # paths hard-linked from output/
        self._refuted: set = set()      # (tree, path) of files hashed and found changed
        # With no output/ to become the spare tree (a first build), each file is also hard-linked
        # into a mirror of the staging folder that becomes it, so the next build has a spare tree
        # to start from instead of linking every unchanged file into a new one. Dropped if a link
        # fails.
        if found is None and not out.exists():
            mirror = f"{self.folder}-spare"   # ".new-*": a crash leaves it to recover()
            try:
                os.mkdir(mirror)
                self.mirror = mirror
            except OSError:
                pass

    def add(self, artifact: Artifact) -> None:
        self._refuse(self.paths.problems(artifact))
        try:
            self._stage(artifact.path, artifact.sha256, artifact.content)
        except OSError as exc:
            self._fail(exc)

    def _refuse(self, problems: list[Finding]) -> None:
        """The paths' problems (see PathCheck), if any: the build is aborted and stops with them."""
        if problems:
            self.abort()
            raise PipelineError(problems)

    def add_pieces(self, artifact: Artifact, pieces) -> None:
        """Stage an artifact from its content in pieces, written as they come and never held
        whole; then as add() would (a file the spare tree already has is left as it was)."""
        self._refuse(self.paths.problems(artifact))
        temporary = os.path.join(self.folder, f".{os.getpid()}.partial")
        try:
            hasher = hashlib.sha256()
            with open(temporary, "wb") as handle:
                for piece in pieces:
                    hasher.update(piece)
                    handle.write(piece)
            digest = hasher.hexdigest()
            self._stage(artifact.path, digest, written=temporary)
        except OSError as exc:
            self._fail(exc)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def holds(self, path: str, digest: str) -> bool:
        """Are these bytes already on disk at `path`, in the spare tree or in output/, as the
        manifest says and a stat confirms (or, the stat having moved, a hash)? (Then adopt_all()
        can place them without the content.)"""
        spare_entry = self.spare_entries.get(path)
        if spare_entry and spare_entry[0] == digest and self._confirmed(self.folder, path, self.spare_entries,
                                                                        self.spare_same, self.present):
            return True
        entry = self.current.get(path)
        return bool(entry) and entry[0] == digest and self._confirmed(self.out, path, self.current, self.old_same,
                                                                       self.old)

    def _confirmed(self, tree: Path, path: str, entries: dict, same: set, present: set) -> bool:
        """Is the file of `tree` at `path` as its entry says? Its stat says so (`same`), or, when
        the stat moved, its bytes are hashed, once (see _rehash): the entry is then brought up to date."""
        if path in same:
            return True
        if path not in present or (tree, path) in self._refuted:
            return False
        fresh = _rehash(tree, path, entries[path])
        if fresh is None:
            self._refuted.add((tree, path))
            return False
        entries[path] = fresh
        same.add(path)
        return True

    def open_last(self, path: str, digest: str):
        """The file `path` of output/ opened for reading, if it is the one the last build wrote
        with bytes of hash `digest` (as the manifest says and the survey and a stat of the open
        file confirm); else None."""
        entry = self.current.get(path)
        if not digest or path not in self.old_same or not entry or entry[0] != digest:
            return None
        try:
            handle = open(os.open(os.path.join(self.out, path), os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:
            return None
        if tuple(signature(os.fstat(handle.fileno()))) != tuple(entry[1:]):
            handle.close()
            return None
        return handle

    def adopt_all(self, outputs) -> bool:
        """Stage outputs ((path, sha256, channel, ...), see records.Output) written by an earlier
        build, without their content: all of them when holds() says each one's bytes are on disk,
        else none (returns False). (Runs for every file of an unchanged site.)"""
        spare_same, spare_entries, staged = self.spare_same, self.spare_entries, self.staged
        old_same, current, holds = self.old_same, self.current, self.holds
        settled = set()   # unchanged, and already right in the spare tree (nearly every file of a rebuild)
        for output in outputs:
            path, digest = output[0], output[1]
            spare_entry = spare_entries.get(path)
            if spare_entry and spare_entry[0] == digest and path in spare_same and path in old_same \
                    and current[path][0] == digest:
                settled.add(path)
            elif not holds(path, digest):
                return False
        self._refuse(self.paths.known_problems(outputs))
        for output in outputs:
            path, digest = output[0], output[1]
            if path in settled:
                staged[path] = spare_entries[path]
                continue
            try:
                self._stage(path, digest, None)
            except OSError as exc:
                self._fail(exc)
        return True

    def _stage(self, path: str, digest: str, content: bytes | None = b"", written: str | None = None) -> None:
        """Place the file `path` with bytes of hash `digest`: `content`, or (content None) its bytes
        from output/, or the file `written` (renamed into place); unless the spare tree already
        holds it."""
        entry = self.current.get(path)
        if path not in self.old:
            self.added.append(path)
        elif (entry[0] != digest if path in self.old_same else
              hashlib.sha256((self.out / path).read_bytes()).hexdigest() != digest):
            self.changed.append(path)
        spare_entry = self.spare_entries.get(path)
        if path in self.spare_same and spare_entry[0] == digest:
            self.staged[path] = spare_entry  # already right in the spare tree
            return
        target = os.path.join(self.folder, path)  # strings: this runs for every file of the site
        mirror = os.path.join(self.mirror, path) if self.mirror is not None else None
        folder = path.rpartition("/")[0]
        if folder not in self.made:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if mirror is not None:
                os.makedirs(os.path.dirname(mirror), exist_ok=True)
            self.made.add(folder)
        if path in self.present:
            os.unlink(target)  # never write through: it may be a hard link into output/
        if written is not None:
            os.replace(written, target)
            _mirrored(target, mirror, self._mirror_failed)
            stat = os.stat(target)
            self.staged[path] = [digest, *signature(stat)]
            return
        source = os.path.join(self.out, path) if path in self.old_same and entry[0] == digest else None
        if source is not None:
            self.linked.add(path)   # the link moves that file's ctime: see commit()
        self._pending.append((path, self._threads.submit(_put, target, content, source, digest, mirror,
                                                         self._mirror_failed)))
        if len(self._pending) > MAX_PENDING:
            self._drain(MAX_PENDING // 2)

    def _drain(self, keep: int = 0) -> None:
        """Wait for queued writes until `keep` remain; raises the first write's OSError."""
        while len(self._pending) > keep:
            path, future = self._pending.popleft()
            self.staged[path] = future.result()

    def commit(self) -> Changes:
        """Remove what the new build no longer has, swap the staging folder in, keep the old output
        as the spare. Returns what changed."""
        out = self.out
        gone: set[str] = set()
        try:
            self._drain()
            self._threads.shutdown()
            gone = self.present - self.staged.keys()
            for path in gone:
                (self.folder / path).unlink()
                _remove_empty_parents(self.folder, path)
        except OSError as exc:
            self._fail(exc)
        previous = out.parent / f".{out.name}.old-{os.getpid()}"
        _manifest_path(out).unlink(missing_ok=True)  # never describe a tree it does not match
        if out.exists():
            os.replace(out, previous)
        os.replace(self.folder, out)
        kept, kept_folders = {}, {}
        if self.mirror is not None and not previous.exists() and not self._mirror_failed:
            try:
                os.replace(self.mirror, _spare_path(out))
                # One inode with each file of output/, each stat taken after both links were made.
                kept = dict(self.staged)
                kept_folders = survey.stamp_folders(os.fspath(_spare_path(out)), survey.with_parents(self.made),
                                                   survey.fs_now(os.fspath(out.parent))) | {"": None}
            except OSError:
                shutil.rmtree(_spare_path(out), ignore_errors=True)
                kept, kept_folders = {}, {}
        elif previous.exists():
            try:
                os.replace(previous, _spare_path(out))
                # Every file of the spare tree, with its entry when its bytes are known. A file
                # linked from output/ into the new build is one inode in both: its entry is the new
                # one (the link changed its ctime).
                kept = {path: (self.staged[path] if path in self.linked else self.current[path])
                        if path in self.old_same else None for path in self.old}
                # Its folders as surveyed when this build started (nothing has written to them
                # since), but for the tree itself: the rename moved its ctime.
                kept_folders = self.old_folders | {"": None}
            except OSError:
                shutil.rmtree(previous, ignore_errors=True)
        if self.mirror is not None:   # unless it became the spare tree
            shutil.rmtree(self.mirror, ignore_errors=True)
        # A folder of the spare tree this build neither wrote into nor removed from keeps the stamp
        # it was surveyed with (renaming the trees above it does not move it); the others are stat-ed.
        folders = survey.restamped(os.fspath(out), self.spare_folders,
                                  self.made | {path.rpartition("/")[0] for path in gone}, os.fspath(out.parent))
        if self.later is not None:   # saved with the build's other state (see pipeline.incremental.saves)
            left = {"spare": kept, "folders": kept_folders}   # as the catch-up leaves them
            self.later.add(partial(_catch_up, out, self.staged, left), early=True)   # before the stamp
            self.later.add(lambda: _write_manifest(out, self.staged, left["spare"],
                                                   {"current": folders, "spare": left["folders"]}))
        else:
            _write_manifest(out, self.staged, kept, {"current": folders, "spare": kept_folders})
        self.folders_left = folders
        return Changes(tuple(sorted(self.added)), tuple(sorted(self.changed)),
                       tuple(sorted(self.old - self.staged.keys())))

    def abort(self) -> None:
        self._threads.shutdown(cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.mirror is not None:
            shutil.rmtree(self.mirror, ignore_errors=True)

    def _fail(self, exc: OSError):
        self.abort()
        raise PipelineError(Finding(Location(str(self.out)), f"could not write the build ({exc.strerror or exc}); "
                                    f"the previous output is unchanged; {advice(exc)}")) from None


def _put(target: str, content: bytes | None, source: str | None, digest: str, mirror: str | None = None,
         failed: list | None = None) -> list:
    """Hard-link `source` (the same file in output/) or write `content` (None: copy `source`),
    and link it as `mirror` too; the manifest entry (its stat taken after the links)."""
    written = False
    if source is not None:
        try:
            os.link(source, target)
            written = True
        except OSError:
            if content is None:
                shutil.copyfile(source, target)
                written = True
    if not written:
        Path(target).write_bytes(content)
    _mirrored(target, mirror, failed)
    stat = os.stat(target)
    return [digest, *signature(stat)]


def _mirrored(target: str, mirror: str | None, failed: list | None) -> None:
    """Hard-link the staged file `target` into the mirror (see Staging), or note that it failed
    (after one failure, on a file system without hard links say, no more are tried)."""
    if mirror is not None and not failed:
        try:
            os.link(target, mirror)
        except OSError as exc:
            failed.append(exc)
