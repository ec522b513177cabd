"""The build's state on disk: one SQLite file, .pipeline/state.sqlite, holding the build cache
(table `entries`, see cache.py) and the build records (see records.py), each part under its own
format in the `meta` table, so that either can be dropped and rebuilt without the other.

The file is in WAL mode: the records are read from one snapshot for the whole build while the
cache stores what each stage computed. Every stored value is kept behind a checksum (seal) and
checked before use; a file SQLite cannot read at all is deleted and made anew."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NAME = "state.sqlite"
FORMER = ("cache.sqlite", "records.sqlite")   # what versions before one store kept instead: deleted


def seal(data: bytes) -> bytes:
    """`data` behind a 16-byte BLAKE2b checksum of it, as stored (see unseal)."""
    return hashlib.blake2b(data, digest_size=16).digest() + data


def unseal(stored: bytes) -> bytes:
    """The data `stored` by seal; ValueError when a byte of it or of its checksum changed."""
    if not isinstance(stored, bytes) or len(stored) < 16 or \
            hashlib.blake2b(stored[16:], digest_size=16).digest() != stored[:16]:
        raise ValueError("checksum mismatch")
    return stored[16:]


def path(folder: Path) -> Path:
    return folder / NAME


def reading(file: Path) -> sqlite3.Connection:
    """A read-only connection (sqlite3.Error when the file is not one SQLite can read)."""
    connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=30)
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
        connection = sqlite3.connect(file, timeout=30)
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


def save(file: Path, parts: list[Part], notes: list[str]) -> None:
    """Save the parts in one transaction: all of them or, on any failure (a full disk), none, with
    the file deleted and a note (the next build then starts from nothing)."""
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
        return
    for part in parts:
        part.done()
