"""Writer stage, between builds: the manifest kept beside output/, the entry of every file of
output/ and of the spare tree and the stamps of their folders."""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path

def _manifest_path(out: Path) -> Path:
    return out.parent / f".{out.name}-manifest.marshal"


MANIFEST_FORMAT = 5
MANIFEST_CHUNK = 4096   # paths per marshalled piece: the manifest is never held as one string


def _read_manifest(out: Path) -> tuple[dict, dict, dict]:
    """What the last build left: path -> [sha256, size, mtime_ns, ctime_ns, inode] of every file of
    output/ and of the spare tree (None: a file of the spare whose bytes are unknown), and the
    folder stamps of both trees (see pipeline.incremental.survey). Kept beside output/, not in it."""
    current: dict = {}
    spare: dict = {}
    try:
        with _manifest_path(out).open("rb") as handle:
            header = _read_piece(handle)
            if not isinstance(header, dict) or header.get("format") != MANIFEST_FORMAT:
                return {}, {}, {}
            for _ in range(header["pieces"]):
                mine, spares = _read_piece(handle)
                # Both trees name mostly the same paths: one string per path (sys.intern).
                current.update((sys.intern(path), entry) for path, entry in mine.items())
                spare.update((sys.intern(path), entry) for path, entry in spares.items())
        return current, spare, header["folders"]
    except Exception:  # noqa: BLE001 - missing, damaged or foreign: the next build writes every file
        return {}, {}, {}


def _read_piece(handle):
    """One length-prefixed marshalled piece, read whole (marshal.load on a file reads item by item)."""
    size = int.from_bytes(handle.read(8), "little")
    data = handle.read(size)
    if len(data) != size:
        raise EOFError("the manifest is cut short")
    return marshal.loads(data)


def _write_manifest(out: Path, current: dict, spare: dict, folders: dict) -> None:
    path = _manifest_path(out)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        # Only dicts, lists, tuples, strings and numbers: marshal writes them (faster than pickle).
        # In pieces of paths, each with both trees' entries (an entry the trees share stays one
        # object when read back).
        paths = list(current) + [path for path in spare if path not in current]
        pieces = range(0, len(paths), MANIFEST_CHUNK)
        with temporary.open("wb") as handle:
            _write_piece(handle, {"format": MANIFEST_FORMAT, "folders": folders, "pieces": len(pieces)})
            for start in pieces:
                chunk = paths[start:start + MANIFEST_CHUNK]
                _write_piece(handle, ({path: current[path] for path in chunk if path in current},
                                      {path: spare[path] for path in chunk if path in spare}))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)  # the manifest only saves work; without it the next build writes every file


def _write_piece(handle, value) -> None:
    data = marshal.dumps(value)
    handle.write(len(data).to_bytes(8, "little") + data)
