"""What an output tree holds, known without walking it. The writer records every folder of the
trees it leaves with its stamp (mtime and ctime); the next build stats each recorded folder and
lists only those whose stamp moved (adding, removing or renaming an entry moves its folder's
mtime, as POSIX requires), then stats each file it knows (an edit in place moves the file's own
ctime, which no user can set back). That is much cheaper than listing every folder of a large
site. A file the caller vouches for (the spare tree's files that are one inode with a file of
output/ found unchanged) needs no stat of its own, unless its folder was listed (it may have been
replaced).

A folder modified within a second before it was stamped is not trusted (a change in the same
clock tick would keep its mtime; git calls such entries racy): it is listed next time."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from stat import S_ISDIR

from pipeline.incremental.filestat import RACY_NS, folder_signature, signature


FolderStamp = tuple[int, int] | None   # (mtime_ns, ctime_ns); None: not to be trusted


@dataclass
class Survey:
    files: set[str]                   # every entry below the tree that is not a folder (relative posix paths)
    same: set[str]                    # those of them still as their manifest entry says
    folders: dict[str, FolderStamp]   # every folder ("" the tree itself) and its stamp as found


def survey(tree: str, entries: dict, stamps: dict | None, now_ns: int, vouched: set[str] = frozenset()) -> Survey:
    """What `tree` holds. `entries`: path -> [sha256, size, mtime_ns, ctime_ns, inode] (or None:
    there, bytes unknown) of exactly the files it held when `stamps` (folder -> FolderStamp) were
    taken; without stamps (or without one for the tree itself) every folder is listed. `now_ns`:
    the file system's clock. `vouched`: files known to be as their entry says if still in place."""
    files: set[str] = set()    # files in folders whose stamp held
    listed: set[str] = set()   # files found by listing a folder
    folders: dict[str, FolderStamp] = {}
    base = os.path.join(tree, "")
    if not stamps or "" not in stamps:
        try:
            folders[""] = _stamp(os.lstat(tree), now_ns)
        except OSError:
            return Survey(set(), set(), {})
        _list(tree, "", listed, folders, now_ns, {})
    else:
        in_folder: dict[str, list[str]] = {}
        for path in entries:
            in_folder.setdefault(path.rpartition("/")[0], []).append(path)
        moved = []
        for folder, recorded in stamps.items():
            try:
                stat = os.lstat(base + folder)
            except OSError:
                continue   # gone: its parent's stamp moved too, so the parent is listed
            if not S_ISDIR(stat.st_mode):
                continue   # replaced by a file: likewise
            folders[folder] = _stamp(stat, now_ns)
            if recorded is not None and tuple(recorded) == folder_signature(stat):
                files.update(in_folder.get(folder, ()))
            else:
                moved.append(folder)
        for folder in moved:
            _list(tree, folder, listed, folders, now_ns, stamps)
    same = files & vouched   # not replaced (their folder's stamp held), so still the vouched-for inode
    lstat, get = os.lstat, entries.get
    for path in (files - same) | listed:   # a stat of each: this runs for every file of the site
        entry = get(path)
        if entry:
            try:
                stat = lstat(base + path)
            except OSError:
                continue
            if signature(stat) == tuple(entry[1:]):
                same.add(path)
    return Survey(files | listed, same, folders)


def _list(tree: str, folder: str, files: set, folders: dict, now_ns: int, known: dict) -> None:
    """Add the entries of one folder; folders not in `known` (which are surveyed on their own)
    are listed in turn, with their stamps."""
    pending = [folder]
    while pending:
        place = pending.pop()
        prefix = place + "/" if place else ""
        try:
            with os.scandir(os.path.join(tree, place)) as listing:
                entries = list(listing)
        except OSError:
            folders.pop(place, None)   # not a folder that can be read: never trusted
            continue
        for entry in entries:
            path = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if path not in known:
                    try:
                        folders[path] = _stamp(entry.stat(follow_symlinks=False), now_ns)
                    except OSError:
                        continue
                    pending.append(path)
            else:
                files.add(path)


def stamp_folders(tree: str, folders, now_ns: int) -> dict[str, FolderStamp]:
    """The stamps of those of `folders` that are folders of `tree` now."""
    stamps = {}
    base = os.path.join(tree, "")
    for folder in folders:
        try:
            stat = os.lstat(base + folder)
        except OSError:
            continue
        if S_ISDIR(stat.st_mode):
            stamps[folder] = _stamp(stat, now_ns)
    return stamps


def with_parents(folders) -> set[str]:
    """The folders and every folder above them ("" the tree itself)."""
    found = {""}
    for folder in folders:
        while folder and folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return found


def restamped(tree: str, stamps: dict, touched, clock: str) -> dict[str, FolderStamp]:
    """`stamps` with the folders `touched` and those above them stat-ed again in `tree` (by the
    clock of the file system `clock` is on); the other folders keep theirs."""
    touched = with_parents(touched)
    kept = {folder: stamp for folder, stamp in stamps.items() if folder not in touched}
    kept.update(stamp_folders(tree, touched, fs_now(clock)))
    return kept


def fs_now(place: str) -> int:
    """Now by the clock of the file system `place` is on (the one mtimes come from), in ns."""
    with tempfile.TemporaryFile(dir=place) as handle:
        return os.fstat(handle.fileno()).st_mtime_ns


def _stamp(stat, now_ns: int) -> FolderStamp:
    return None if stat.st_mtime_ns >= now_ns - RACY_NS else folder_signature(stat)
