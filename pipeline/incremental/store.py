"""The build's state on disk: one SQLite file, .pipeline/state.sqlite, holding the build cache
(table `entries`, see cache.py) and the build records (see records.py), each part under its own
format in the `meta` table, so that either can be dropped and rebuilt without the other.

The file is in WAL mode: the records are read from one snapshot for the whole build while the
cache stores what each stage computed. Every stored value is kept behind a checksum (seal) and
checked before use; a file SQLite cannot read at all is deleted and made anew."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NAME = "state.sqlite"
FORMER = ("cache.sqlite", "records.sqlite")   # what versions before one store kept instead: deleted


def seal(data: bytes, name: bytes = b"") -> bytes:
    """`data` behind a 16-byte BLAKE2b checksum of it and of the `name` it is stored under, as
    stored (see unseal): a value read under another name is as damaged as a changed byte."""
    return _checksum(data, name) + data


def unseal(stored: bytes, name: bytes = b"") -> bytes:
    """The data `stored` by seal under `name`; ValueError when a byte of it or of its checksum
    changed, or it was sealed under another name."""
    if not isinstance(stored, bytes) or len(stored) < 16 or _checksum(stored[16:], name) != stored[:16]:
        raise ValueError("checksum mismatch")
    return stored[16:]


def _checksum(data: bytes, name: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    if name:
        digest.update(name + b"\0")
    digest.update(data)
    return digest.digest()


def path(folder: Path) -> Path:
    return folder / NAME


# Every connection this process opened. A forked process (a worker, a helper, the saver) closes
# its copies of them, explicitly, before it does anything else: SQLite's unix VFS keeps the locks
# of a process's connections in one table per file, which a fork copies; a copy left open (or
# only dropped, which Python may not close at once) makes the child's own connections' locks
# look held without the kernel holding them, so the parent's writer, closing, sees no other
# connection, checkpoints and deletes the -wal and -shm files under the child's open connection,
# which then reads pages of two versions of the file (another entry's value under a key, or
# "database disk image is malformed").
_OPEN: "weakref.WeakSet[sqlite3.Connection]" = weakref.WeakSet()


class _Connection(sqlite3.Connection):
    """(sqlite3.Connection itself cannot be weakly referenced.)"""


def _close_inherited() -> None:
    for connection in list(_OPEN):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a copy that cannot be closed is left for the exit
            pass
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited)


def _connect(*args, **kwargs) -> sqlite3.Connection:
    connection = sqlite3.connect(*args, factory=_Connection, **kwargs)
    _OPEN.add(connection)
    return connection


def reading(file: Path) -> sqlite3.Connection:
    """A read-only connection (sqlite3.Error when the file is not one SQLite can read)."""
    connection = _connect(f"file:{file}?mode=ro", uri=True, timeout=30)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def meta(connection: sqlite3.Connection, name: str) -> str | None:
    """A value of the meta table (None: no such value, or no meta table yet)."""
    try:
        row = connection.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:   # no meta table: nothing stored yet
        return None
    return row[0] if row is not None else None


def writing(file: Path, drop: tuple[str, ...] = ()) -> sqlite3.Connection:
    """A connection to write with (the file made if need be, in WAL mode, with a meta table), the
    tables `drop` dropped first. A file SQLite cannot read is deleted and made anew."""
    file.parent.mkdir(parents=True, exist_ok=True)
    for old in FORMER:
        (file.parent / old).unlink(missing_ok=True)
    for attempt in (1, 2):
        connection = _connect(file, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            with connection:
                connection.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
                for table in drop:
                    connection.execute(f"DROP TABLE IF EXISTS {table}")
            return connection
        except sqlite3.DatabaseError:
            connection.close()
            if attempt == 2:
                raise
            forget(file)
    raise AssertionError("unreachable")


def forget(file: Path) -> None:
    """Delete the file (with its write-ahead log and shared-memory index)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{file}{suffix}").unlink(missing_ok=True)


@dataclass(frozen=True)
class Part:
    """What one part of the store (the cache, the records) saves after a build: the tables it
    replaces whole, how it writes (within the save's one transaction) and what it does once the
    save is made."""

    drop: tuple[str, ...]
    write: Callable[[sqlite3.Connection], None]
    done: Callable[[], None] = lambda: None


def save(file: Path, parts: list[Part], notes: list[str]) -> bool:
    """Save the parts in one transaction: all of them or, on any failure (a full disk), none, with
    the file deleted and a note (the next build then starts from nothing). Whether they were saved."""
    try:
        connection = writing(file, drop=tuple(table for part in parts for table in part.drop))
        try:
            with connection:
                for part in parts:
                    part.write(connection)
        finally:
            connection.close()
    except (OSError, sqlite3.Error) as exc:
        forget(file)
        notes.append(f"the build's state could not be saved ({exc}); the next build renders every article again")
        return False
    for part in parts:
        part.done()
    return True
