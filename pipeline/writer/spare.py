"""Writer stage, after the swap: the spare tree (the output before last), which the next build
stages on, brought up to output/ in the build's saves."""

from __future__ import annotations

import os
from stat import S_ISREG
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.incremental import survey
from pipeline.incremental.filestat import signature

WRITERS = 8   # threads creating files: the staging folder's, and the spare tree's links


def _spare_path(out: Path) -> Path:
    """The output before last, kept to be updated into the next build instead of writing it all."""
    return out.parent / f".{out.name}-spare"


def _catch_up(out: Path, current: dict, left: dict) -> None:
    """After the swap, in the build's saves (see pipeline.incremental.saves): bring the spare tree up to
    output/. Each file this build wrote is hard-linked into the spare tree in place of the old
    one, and what output/ no longer has is removed from it, so the next build stages on a tree
    that already holds every file it keeps, however many files this build changed. A file of
    output/ whose stat no longer matches its entry (edited since the build) is left as it was. A linked
    file is one inode in both trees, its ctime moved by the link: its entry in `current` (the
    writer's, which the up-to-date stamp is saved from after this) is updated. `left`: the
    spare tree's entries ("spare") and folder stamps ("folders"), brought up to date (kept true
    after each step, should one fail) for the manifest."""
    tree = _spare_path(out)
    if not left["spare"] or not tree.is_dir():
        return
    spare = left["spare"] = dict(left["spare"])
    touched: set[str] = set()
    try:
        _link_changes(os.fspath(out), os.fspath(tree), current, spare, touched)
    except OSError:
        pass   # what was done is described; the rest is as it was
    # (stat-ed after the changes: a folder changed within a second is listed again next time;
    # a folder whose stamp is left stale by a failure is listed, its stamp no longer matching)
    left["folders"] = survey.restamped(os.fspath(tree), left["folders"], touched, os.fspath(out.parent))


def _link_changes(base: str, spare_base: str, current: dict, spare: dict, touched: set) -> None:
    """See _catch_up: `spare` (the spare tree's entries) is kept true after each step. Links are
    made by WRITERS threads, as the staging folder's files are."""
    for path in spare.keys() - current.keys():
        try:
            os.unlink(os.path.join(spare_base, path))
        except FileNotFoundError:
            pass
        del spare[path]
        touched.add(path.rpartition("/")[0])
        _remove_empty_parents(Path(spare_base), path)
    changed = [(path, entry) for path, entry in current.items()
               if spare.get(path) is None or spare[path][0] != entry[0]]   # else the same bytes already
    with ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="catch-up") as threads:
        for _ in threads.map(lambda item: _link_one(base, spare_base, *item, spare, touched), changed):
            pass


def _link_one(base: str, spare_base: str, path: str, entry: list, spare: dict, touched: set) -> None:
    source, target = os.path.join(base, path), os.path.join(spare_base, path)
    stat = os.lstat(source)
    if not S_ISREG(stat.st_mode) or signature(stat) != tuple(entry[1:]):
        return   # not as the build left it
    spare[path] = None   # from here its bytes there are unknown
    try:
        os.unlink(target)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    touched.add(path.rpartition("/")[0])
    os.link(source, target)
    linked = os.lstat(target)
    if (linked.st_size, linked.st_mtime_ns, linked.st_ino) == (stat.st_size, stat.st_mtime_ns, stat.st_ino):
        entry[1:] = signature(linked)
        spare[path] = entry   # (else written in between: left unknown)


def _remove_empty_parents(folder: Path, path: str) -> None:
    """Remove the folders of a removed file that are now empty, innermost first."""
    parts = path.split("/")[:-1]
    while parts:
        try:
            os.rmdir(folder.joinpath(*parts))
        except OSError:
            return  # not empty (or already gone)
        parts.pop()
