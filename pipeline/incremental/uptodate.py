"""Up-to-date check, the fast path of a rebuild: when every file the build reads, the pipeline's
own code, the options and the output folder are exactly as the last successful build left them,
and the publishing clock has not crossed a moment at which the output would change, the build is
not run again; its findings are shown again instead.

Like make, Hugo and git it compares file metadata (path, size, mtime, ctime, inode), never trusts a
file modified within a second before the build that read it (git's "racy" files: a change in the
same clock tick would keep its mtime), and stamps the output tree too, so a hand-edited or deleted
output file means a full build. Only this module and the writer look at output/; the stamp itself
lives in .pipeline/."""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import Finding
from pipeline.incremental.filestat import RACY_NS, folder_signature, signature
from pipeline.incremental.saves import Later, wait

FORMAT = 10


@dataclass(frozen=True)
class Stamp:
    """What the last successful build of one output folder read, decided and showed."""

    key: str                          # options, code, Python and installed packages
    inputs: str                       # digest of every input file's metadata
    output: str                       # digest of the output tree's metadata after the swap
    output_paths: tuple[str, ...]     # its folders ("/"-terminated) and files, as the build left them
    now: float                        # the publishing clock it used (POSIX time)
    timezone: str                     # the site's, for a --now without one
    clock_events: tuple[float, ...]   # clock readings at which the output changes (POSIX time)
    shown: bytes                      # the findings it printed (warnings: it succeeded), packed (kept
                                      # after the pickled stamp in its file)
    tally: str                        # the summary's count of them
    shown_count: int                  # how many they are
    shown_files: int                  # and the files they are about (without unpacking them: see
                                      # cli.Console.findings)
    articles: int
    files: tuple[tuple[str, int], ...]  # files per channel, in order


def _entries(folder: Path | str, into: list, prefix: str = "", seen: set | None = None) -> None:
    """(path, size, mtime, ctime, inode) of every file below `folder`, following links once; in
    directory order (callers sort)."""
    seen = seen if seen is not None else set()
    try:
        listing = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        into.append((prefix or ".", "missing"))
        return
    with listing:
        for entry in listing:
            if entry.name == "__pycache__":
                continue
            try:
                stat = entry.stat()
            except OSError:
                into.append((prefix + entry.name, "broken"))
                continue
            if entry.is_dir():
                if (stat.st_dev, stat.st_ino) not in seen:
                    seen.add((stat.st_dev, stat.st_ino))
                    _entries(entry.path, into, prefix + entry.name + "/", seen)
                continue
            into.append((prefix + entry.name, *signature(stat)))


def _digest(entries: list) -> str:
    """Of file entries (each path once, so the sort never compares past it) and anything else,
    marshalled (version 2: no back-references, so equal entries give equal bytes; much cheaper
    than their repr for the entries of every input and output file)."""
    return hashlib.sha256(marshal.dumps(sorted(entries), 2)).hexdigest()


def input_entries(root: Path) -> list:
    entries: list = []
    for name in ("content", "templates"):
        _entries(root / name, entries, name + "/")
    return entries


def _folder_entry(path: str, stat) -> tuple:
    return (path, "folder", *folder_signature(stat))


def _stat_entries(out: Path, paths) -> list | None:
    """(path, size, mtime, ctime, inode) of known files and (path, "folder", mtime, ctime) of
    known folders ("/"-terminated, "./" the tree itself), by a stat of each, no listing; None if
    one is gone."""
    entries = []
    base = os.fspath(out)
    try:
        for path in paths:
            stat = os.stat(os.path.join(base, path))
            entries.append(_folder_entry(path, stat) if path.endswith("/") else
                           (path, *signature(stat)))
    except OSError:
        return None
    return entries


def _output_unchanged(out: Path, paths: tuple[str, ...], digest: str) -> bool:
    """Is the output tree exactly as the stamp found it? A stat of each folder and file it had,
    no listing: a file added, removed or renamed changes its folder's mtime, a file edited in
    place its own (cheaper than walking the tree, which lists every folder)."""
    entries = _stat_entries(out, paths)
    return entries is not None and _digest(entries) == digest


def code_key(root: Path, options: tuple) -> str:
    """The options plus everything besides the inputs that shapes the output: the pipeline's code,
    the Python version and the installed packages (installing any package touches its folder;
    the project folder itself is left out: every build's swap touches it)."""
    code: list = []
    _entries(Path(__file__).parent, code)
    entries: list = [("options", repr(options)), ("python", sys.version, sys.executable), ("code", _digest(code))]
    for place in sys.path:
        if os.path.realpath(place or ".") == os.path.realpath(root):
            continue
        try:
            stat = os.stat(place or ".")
            entries.append((f"path {place}", stat.st_mtime_ns, stat.st_ino))
        except OSError:
            entries.append((f"path {place}", "missing"))
    return _digest(entries)


def packed(findings: list[Finding]) -> Iterator[bytes]:
    """Findings as their fields (Finding.fields), marshalled a thousand at a time, each chunk
    with its length and CRC, to be written one by one after the stamp: a build's thousands of warnings
    are never held twice, and are formatted only if a later up-to-date build shows them (formatting
    them all would be work for every build that saves a stamp). Not compressed: compressing them
    costs about as much again as marshalling them, on every build that saves a stamp."""
    for start in range(0, len(findings), 1024):
        data = marshal.dumps([f.fields() for f in findings[start:start + 1024]])
        yield len(data).to_bytes(4, "little") + zlib.crc32(data).to_bytes(4, "little") + data


def _chunks(packed: bytes, check: bool = True) -> list[memoryview] | None:
    """The chunks of packed findings, each checked against its length and (`check`) its CRC;
    None if damaged."""
    data, chunks, at = memoryview(packed), [], 0
    while at < len(data):
        size, crc = int.from_bytes(data[at:at + 4], "little"), int.from_bytes(data[at + 4:at + 8], "little")
        chunk = data[at + 8:at + 8 + size]
        if len(chunk) != size or (check and zlib.crc32(chunk) != crc):
            return None
        chunks.append(chunk)
        at += 8 + size
    return chunks


def unpack(packed: bytes) -> list[Finding]:
    """The findings packed by `packed` (their CRCs checked by load)."""
    findings: list[Finding] = []
    for chunk in _chunks(packed, check=False) or ():
        findings += map(Finding.from_fields, marshal.loads(chunk))
    return findings


def _stamp_path(root: Path, out: Path) -> Path:
    name = hashlib.sha256(str(out.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return root / ".pipeline" / f"uptodate-{name}.pickle"


def fs_clock(root: Path) -> int | None:
    """Now, by the clock of the file system the project is on (the one its mtimes come from)."""
    marker = root / ".pipeline" / "clock"
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
        return marker.stat().st_mtime_ns
    except OSError:
        return None


def load(root: Path, out: Path, key: str, now: datetime | None, inputs: list) -> Stamp | None:
    """The last build's stamp if nothing it depends on has changed, else None. `now` is the
    publishing clock of this build (None: the wall clock; without a timezone: the site's);
    `inputs`: input_entries(root), as read for this build."""
    wait(root, stamp=True)   # for the last build's stamp (see pipeline.incremental.saves)
    try:
        handle = open(_stamp_path(root, out), "rb")
    except OSError:
        return None
    with handle:
        try:
            fmt, stamp = pickle.load(handle)
        except Exception:  # noqa: BLE001 - a damaged or foreign stamp just means a full build
            return None
        if fmt != FORMAT or not isinstance(stamp, Stamp) or stamp.key != key or not _unchanged(out, stamp, now, inputs):
            return None
        try:
            shown = handle.read()   # the findings it showed, packed (see save)
        except OSError:
            return None
    return replace(stamp, shown=shown) if _chunks(shown) is not None else None


def _unchanged(out: Path, stamp: Stamp, now: datetime | None, inputs: list) -> bool:
    """Has nothing the stamped build depended on changed?"""
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        try:
            now = now.replace(tzinfo=ZoneInfo(stamp.timezone))
        except (ValueError, KeyError, ZoneInfoNotFoundError):
            return False
    low, high = sorted((stamp.now, now.timestamp()))
    if any(low <= moment <= high for moment in stamp.clock_events):
        return False
    return stamp.inputs == _digest(inputs) and _output_unchanged(out, stamp.output_paths, stamp.output)


def save(root: Path, out: Path, stamp_fields: dict, shown: list[Finding], entries: list, started_ns: int | None,
         written: dict[str, list | None], folders: dict[str, tuple | None], later: Later | None = None) -> None:
    """Record a successful build and the findings it printed, unless an input changed while it
    ran or just before (then the next one is full, and nothing is packed: an edit saved right
    before the build is the common case). `written`: every file of the output tree, as the writer
    just left it (the tree is not walked again: the writer removed whatever else its staging
    folder held), with the writer's entry for it ([sha256, size, mtime, ctime, inode], the stat
    taken after writing; None: stat it here); `folders`: every folder of the tree ("" the tree
    itself) with the stamp the writer has of it (see pipeline.incremental.survey: taken after the swap for
    every folder it touched; None: stat it here). With `later`, all that follows the stats of
    the None entries is added to it (see pipeline.incremental.saves), after the writer's saves, which
    update the entries of the files they link into the spare tree (writer.spare._catch_up); no stat
    is taken after the command returns, so none can see a change made to output/ after it."""
    path = _stamp_path(root, out)
    path.unlink(missing_ok=True)
    if started_ns is None or any(len(e) == 5 and e[2] >= started_ns - RACY_NS for e in entries):
        return
    # What the writer had, as _stat_entries makes it (an entry per output file and folder); the rest stat-ed.
    named = {folder + "/" if folder else "./": stamp for folder, stamp in folders.items()}
    output = _stat_entries(out, [path for path, stat in {**named, **written}.items() if stat is None])
    if output is None:
        return
    finish = partial(_save, root, path, stamp_fields, shown, entries, written, named, output)
    if later is not None:
        later.add(finish, early=True)
    else:
        finish()


def _save(root: Path, stamp_path: Path, stamp_fields: dict, shown: list[Finding], entries: list,
          written: dict[str, list | None], named: dict[str, tuple | None], output: list) -> None:
    inputs = _digest(entries)
    if _digest(input_entries(root)) != inputs:
        return
    output += [(path, *entry[1:]) for path, entry in written.items() if entry is not None]
    output += [(path, "folder", *stamp) for path, stamp in named.items() if stamp is not None]
    stamp = Stamp(inputs=inputs, output=_digest(output), output_paths=tuple(e[0] for e in output), shown=b"",
                  **stamp_fields)
    temporary = stamp_path.with_suffix(f".tmp-{os.getpid()}")
    try:
        with temporary.open("wb") as handle:   # the stamp, then what it showed (see load)
            pickle.dump((FORMAT, stamp), handle, protocol=pickle.HIGHEST_PROTOCOL)
            for chunk in packed(shown):
                handle.write(chunk)
        os.replace(temporary, stamp_path)
    except OSError:
        temporary.unlink(missing_ok=True)   # the stamp only saves time
