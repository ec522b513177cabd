"""Build cache: the results of per-article work, keyed by a hash of everything that determines
them (the article as rendered, its neighbours where they show, the templates of its channel, the
settings and rules, and the pipeline's own code), in the build's store (store.py, table entries).

Workers only read; what they compute comes back to the parent, which writes it in one transaction
and drops entries no longer used, so the cache never grows past one build's worth. A corrupt or
foreign cache is ignored with a note, deleted and rebuilt."""

from __future__ import annotations

import hashlib
from functools import partial
import marshal
import os
import pickle
import sqlite3
import weakref
from dataclasses import fields
from pathlib import Path
from typing import Callable

import pipeline
from pipeline.incremental import store
from pipeline.incremental.bodies import is_light
from pipeline.incremental.store import seal, unseal  # noqa: F401 - (records and tests use them from here)

FORMAT = "3"   # entries sealed with their names (store.seal)
META = "cache-format"   # the store's meta value that holds FORMAT
MISSING = object()


class Miss(Exception):
    """Raised by memo() while probing: this item must be computed (see parallel.map_ordered)."""


def digest(*parts) -> str:
    """sha256 of the parts: marshalled when they are plain values (strings, bytes, numbers, None
    and lists, tuples and dicts of them), else by their repr. A build takes several digests per
    article, of a few short strings each, and marshal writes them more cheaply than repr (version
    2: no references, so equal parts give equal bytes)."""
    try:
        data = b"m" + marshal.dumps(parts, 2)
    except ValueError:   # a value marshal cannot write (a date, a dataclass)
        data = b"r" + repr(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def folder_digest(folder: Path) -> str:
    """Every file's path and bytes below `folder`."""
    if not folder.is_dir():
        return digest("missing", str(folder.name))
    return digest(*folder_files(folder))


def folder_files(folder: Path) -> list[tuple[str, bytes]]:
    """(posix path relative to `folder`, bytes) of every file below it, sorted; none if it is missing."""
    return [(p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]


def code_digest() -> str:
    """The pipeline's own source: a changed pipeline never reuses an old result."""
    return digest(pipeline.__version__, folder_digest(Path(pipeline.__file__).parent))


def article_digest(article) -> str:
    """Everything about an article that its outputs can show (not its parsed YAML nodes). An
    article loaded without its body has the digest its whole self had (see remember_digest)."""
    known = _DIGESTS.get(id(article))
    if known is not None and known[0]() is article:
        return known[1]
    if is_light(article):
        raise RuntimeError(f"no digest for {article.source} loaded without its body (pipeline bug)")
    values = [(f.name, getattr(article, f.name)) for f in fields(article) if f.name != "front"]
    result = digest(*values)
    remember_digest(article, result)
    return result


def remember_digest(article, value: str) -> None:
    """Note an article's digest, held by the article's identity for as long as the article lives
    (a lookup by the article in a dictionary would hash all of its fields each time, and the
    frozen article itself is never changed to hold it). Forked workers inherit the notes; an
    article sent between processes carries no digest (its sender sends the digest with it)."""
    key = id(article)
    _DIGESTS[key] = (weakref.ref(article, lambda _, key=key: _DIGESTS.pop(key, None)), value)


# id(article) -> (a weak reference to the article, its digest). An entry goes when its article
# does, before another object can take its id; the reference is compared all the same.
_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}


class BuildCache:
    def __init__(self, folder: Path | None, fallback: Path | None = None):
        """`folder`: where the cache file lives (see build.state_folder); None: no cache.
        `fallback`: the folder of another build's cache, read (never written) for what this one
        lacks, an entry found there being kept in this one from then on: a preview with drafts,
        whose cache is its own, starts from the published build's (its Markdown, cards, emails
        and posts are mostly the same) instead of rendering every article."""
        self.path = store.path(folder) if folder is not None else None
        self.fallback = store.path(fallback) if fallback is not None and folder is not None else None
        self._fallback_connection, self._fallback_pid = None, None
        self.notes: list[str] = []
        self.pending: list[tuple[str, bytes]] = []
        self.used: list[str] = []
        self.dropped: list[str] = []     # entries of records this build superseded (see _write)
        self._connection = None
        self._pid = None
        self.hits = self.misses = 0
        self.done: list[tuple[str, str | None]] = []   # what this process did: see did()
        self.keys: dict[str, str] = {}   # base key per kind of result, set by the build
        self.site_keys: dict = {}        # what the keys of one site's outputs share (see use_site)
        self.code = ""                   # cache.code_digest(), set by the build
        self.probing = False             # memo() raises Miss instead of computing
        self._broken = False             # the file on disk could not be read: replaced on write
        # No file when the build began (a cold build): it holds only what this build stores, so
        # there is nothing to ask it for before a stage's work is handed out (see parallel).
        self.fresh = self.path is not None and not self.path.exists() and not (
            self.fallback is not None and self.fallback.exists())
        self._owner = os.getpid()

    def _open(self):
        if self.path is None or self._broken:  # reported once; rewritten by _write
            return None
        if self._pid == os.getpid() and self._connection is not None:
            return self._connection
        if self._connection is not None:   # another process's (closed at the fork: see store)
            self._connection.close()
        self._pid, self._connection = os.getpid(), None
        if not self.path.exists():
            return None
        try:
            self._connection = _read_only(self.path)
        except (sqlite3.Error, ValueError) as exc:
            self.notes.append(f"the build cache in {self.path.name} could not be read ({exc}); it is ignored and "
                              f"rebuilt")
            self._connection = None
            self._broken = True
        return self._connection

    def get(self, kind: str, key: str):
        """The stored value, or MISSING; an entry whose checksum fails is a miss (with a note)."""
        name = f"{kind}:{key}"
        self.used.append(name)
        connection = self._open()
        if connection is not None:
            try:
                row = connection.execute("SELECT value FROM entries WHERE key = ?", (name,)).fetchone()
            except sqlite3.Error:
                row = None
            if row is not None:
                value = self._load(name, row[0])
                if value is not MISSING:
                    self.hits += 1
                    return value
        data = self._from_fallback(name)
        if data is not None:
            value = self._load(name, data, quiet=True)
            if value is not MISSING:
                self.hits += 1
                self.pending.append((name, data))   # this build's cache keeps it
                return value
        self.misses += 1
        return MISSING

    def _load(self, name: str, stored: bytes, quiet: bool = False):
        """The value of a stored entry, or MISSING (noted unless `quiet`) when it is damaged."""
        try:
            return pickle.loads(unseal(stored, name.encode()))
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never a wrong result
            if not quiet:
                self.notes.append(f"the build cache entry {name.split(':', 1)[0]} {name.split(':', 1)[1][:12]} "
                                  f"was damaged; it is ignored and made again")
            return MISSING

    def _from_fallback(self, name: str, column: str = "value"):
        """The stored value of entry `name` in the fallback cache (`column` "1": 1), if it has
        one (any problem reading it: None, silently, as it is only a head start)."""
        if self.fallback is None:
            return None
        if self._fallback_pid != os.getpid():
            if self._fallback_connection is not None:
                self._fallback_connection.close()
            self._fallback_pid, self._fallback_connection = os.getpid(), None
            if self.fallback.exists():
                try:
                    self._fallback_connection = _read_only(self.fallback)
                except (sqlite3.Error, ValueError):
                    pass
        if self._fallback_connection is None:
            return None
        try:
            row = self._fallback_connection.execute(f"SELECT {column} FROM entries WHERE key = ?", (name,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row is not None else None

    def has(self, kind: str, key: str) -> bool:
        """Is there an entry (without reading, counting or keeping it)?"""
        connection = self._open()
        try:
            if connection is not None and connection.execute("SELECT 1 FROM entries WHERE key = ?",
                                                              (f"{kind}:{key}",)).fetchone() is not None:
                return True
        except Exception:  # noqa: BLE001 - as get(): damage is a miss
            pass
        return self._from_fallback(f"{kind}:{key}", "1") is not None

    def put(self, kind: str, key: str, value) -> None:
        name = f"{kind}:{key}"
        self.pending.append((name, seal(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), name.encode())))

    def memo(self, kind: str, key: str, compute, name: str | None = None):
        """The stored value, else compute() stored (and noted as done: see did(); `name`: what
        it was computed for, an article's source say)."""
        value = self.get(kind, key)
        if value is MISSING and self.probing:
            self.misses -= 1  # counted when it is computed
            self.used.pop()
            raise Miss(kind)
        if value is MISSING:
            value = compute()
            self.done.append((kind, name))
            self.put(kind, key, value)
        return value

    def in_worker(self) -> None:
        """In a freshly forked worker: forget what the parent had pending (it is not ours to send)."""
        if self._owner != os.getpid():
            self._owner = os.getpid()
            self.pending, self.used, self.hits, self.misses, self.notes, self.done = [], [], 0, 0, [], []

    def take(self) -> tuple[list, list, int, int, list, list]:
        """What this process computed, used, noted and did since the last call (sent back from workers)."""
        taken = (self.pending, self.used, self.hits, self.misses, self.notes, self.done)
        self.pending, self.used, self.hits, self.misses, self.notes, self.done = [], [], 0, 0, [], []
        return taken

    def merge(self, pending: list, used: list, hits: int, misses: int, notes: list = (), done: list = ()) -> None:
        self.pending += pending
        self.used += used
        self.hits += hits
        self.misses += misses
        self.notes += [note for note in notes if note not in self.notes]
        self.done += done

    def flush(self) -> None:
        """Store what was computed so far (parent process, between parallel stages), so that a
        cold build does not hold a pickled copy of every result until the end."""
        if self.pending and os.getpid() == self._owner:
            self._store(prune=False)

    def saving(self) -> store.Part | None:
        """Close this process's reading connections; what to save (new entries in, unused ones
        out), in the store's save after the build (parent process only)."""
        self._open()  # a file this build never read may still be damaged: found here, its entries rebuilt
        for connection in (self._connection, self._fallback_connection):
            if connection is not None:
                connection.close()
        self._connection = self._fallback_connection = None
        self._fallback_pid = os.getpid()   # not opened again
        if self.path is None:
            return None
        broken, self._broken = self._broken, False
        return store.Part(("entries",) if broken else (), partial(self._write, prune=True), self._saved)

    def save(self) -> None:
        """Write new entries, drop unused ones, now (parent process only)."""
        self._store(prune=True)

    def _store(self, prune: bool) -> None:
        if self.path is None:
            return
        self._open()  # a file this build never read may still be damaged: found here, rebuilt below
        if self._connection is not None:  # no open read may hold a lock while this writes
            self._connection.close()
            self._connection = None
        part = store.Part(("entries",) if self._broken else (), partial(self._write, prune=prune),
                          partial(self._saved, prune))
        self._broken = False
        if not store.save(self.path, [part], self.notes):
            self.path = None   # (the store was deleted: nothing more is kept this build)

    def _write(self, connection: sqlite3.Connection, prune: bool) -> None:
        connection.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB)")
        connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META, FORMAT))
        connection.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", self.pending)
        if prune:
            # The table held what the last build used; this build used all it holds but what it
            # superseded (an edited article's entries), unless the count says otherwise (a used
            # entry gone, one dropped elsewhere): then every key is looked at (a scan of the key
            # index, not of the values).
            used = set(self.used)
            connection.executemany("DELETE FROM entries WHERE key = ?", [(key,) for key in set(self.dropped) - used])
            (held,) = connection.execute("SELECT count(*) FROM entries").fetchone()
            if held != len(used):
                connection.executemany("DELETE FROM entries WHERE key = ?", [
                    (key,) for (key,) in connection.execute("SELECT key FROM entries") if key not in used])

    def _saved(self, prune: bool = True) -> None:
        self.pending = []
        if prune:
            self.used, self.dropped = [], []


def _read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the store at `path` for its cache entries: None when it holds
    none yet; sqlite3.DatabaseError when they are of another FORMAT or it cannot be read."""
    connection = store.reading(path)
    try:
        stored = store.meta(connection, META)
        if stored is None:
            connection.close()
            return None
        if stored != FORMAT:
            raise sqlite3.DatabaseError(f"format {stored}")
    except BaseException:
        connection.close()
        raise
    return connection


def key(reads) -> str:
    """The key of an output, from what its channel declares it shows (model.Reads)."""
    build_cache = current()
    return digest(build_cache.keys.get(reads.kind), [article_digest(a) for a in reads.articles], reads.values,
                  build_cache.site_keys["tags"] if reads.tags else None,
                  neighbours(build_cache.site_keys["articles"], reads.neighbours)
                  if reads.neighbours is not None else None)


def neighbours(articles, index: int, digests: list[str] | None = None) -> list:
    """The digests of the articles before and after articles[index] (None at either end)."""
    digest_at = digests.__getitem__ if digests is not None else (lambda i: article_digest(articles[i]))
    return [digest_at(index - 1) if index > 0 else None, digest_at(index + 1) if index + 1 < len(articles) else None]


def use_site(site) -> None:
    """What keys of this build's outputs share (its articles, for neighbours; its tags, hashed
    once), set once the site is loaded and before any worker is forked."""
    current().site_keys.update(articles=site.articles, tags=digest(
        [(tag.slug, tag.name, len(tagged)) for tag, tagged in site.tags]))


def memo_reads(reads, compute, name: str | None = None):
    """The value an output made from what it declares it reads: from the cache when an earlier
    build made it from the same, else computed (and stored, and noted as done for `name`, by
    default the source of the one article it shows)."""
    if name is None and len(reads.articles) == 1:
        name = reads.articles[0].source
    return current().memo(reads.kind, key(reads), compute, name)


def has_reads(reads) -> bool:
    return current().has(reads.kind, key(reads))


# What a build did besides taking results from its cache (see pipeline.incremental.work): each
# computation memo() made, by its kind, and these.
READ = "read"            # a source file read (name: its path)
TEMPLATE = "template"    # a template compiled (name: channel/file)


def did(what: str, name: str | None = None) -> None:
    """Note that this process did `what` (for `name`): workers hand their notes back with their
    results (see take), and the build counts them (work.Work)."""
    current().done.append((what, name))


_CURRENT = {"cache": BuildCache(None)}


def current() -> BuildCache:
    return _CURRENT["cache"]


def use(cache: BuildCache) -> None:
    _CURRENT["cache"] = cache
