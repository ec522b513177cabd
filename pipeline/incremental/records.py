"""Build records: what the last successful build made of each source file and each article, so
the next build takes an unchanged article's results without reading, rendering or checking it
again (Hugo and Bazel do the same: outputs are kept by content hash and adopted when every input
that made them is unchanged).

- A source record holds a file's validated front matter and its article without the body, keyed
  by the file's bytes and the settings.
- A unit record holds what an article made on its own (its page, card, emails and posts, by
  path and hash, with their findings and disclaimer checks, and its claims), keyed by everything
  those outputs show: the article, its neighbours, the tags, the templates, the settings, the
  rules and the pipeline's code.
- An output record does the same for one site-wide output (a listing page, an article's social
  JSON, a feed).

A record is only used when the writer can still find its outputs' bytes (output/ or the spare
tree, as the manifest and a stat say), so a record never stands for a file that is gone.

Records live in the build's store (store.py), beside the build cache. The source, unit and output records, which every build reads,
are kept in pickled sets (see SET_SIZE); an article's disclaimer checks and claims and its report
section, each a row of its own, stay on disk unless that article is rendered or reported again.
A build writes only the sets and rows that changed, in one transaction after a successful build.
Every stored value is kept behind a checksum (store.seal) and checked before use. Damaged or
foreign records are ignored with a note and rebuilt; a row found damaged while a build runs (an
article's details or report section) raises Damaged, and the build starts again without
records (see build.run)."""

from __future__ import annotations

import marshal
import pickle
import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from pipeline.incremental import store
from pipeline.incremental.cache import digest
from pipeline.incremental.store import seal, unseal
from pipeline.errors import Finding
from pipeline.incremental.memory import no_collection
from pipeline.limits import Limit
from pipeline.model import Article, Artifact, remade

FORMAT = "19"
META, CODE = "records-format", "records-code"   # the store's meta values that hold FORMAT and the code's digest
_TABLES = {
    "sources": "number INTEGER PRIMARY KEY, data BLOB",   # sets of records (see SET_SIZE)
    "units": "number INTEGER PRIMARY KEY, data BLOB",
    "outputs": "number INTEGER PRIMARY KEY, data BLOB",
    "details": "name TEXT PRIMARY KEY, data BLOB",   # a unit record's details (see UnitRecord)
    "sections": "name TEXT PRIMARY KEY, key TEXT, html BLOB",
    "layout": "name TEXT PRIMARY KEY, sha TEXT, data BLOB",   # report.html: its page's digest, where each section is
}

class Damaged(Exception):
    """A row of the records failed its checksum while the build was using them."""


@dataclass(frozen=True)
class SourceRecord:
    key: str                       # the file's bytes and what parsing depends on
    parsed: object                 # article_fields._Parsed without its text and YAML nodes
    findings: tuple                # what parsing reported (warnings only: errors stop the build)
    convert_key: str = ""          # + what Markdown conversion depends on
    article: Article | None = None  # without its body (incremental.bodies.light)
    digest: str = ""               # cache.article_digest of the whole article
    applying: tuple[str, ...] = ()  # ids of the disclaimers that apply to it
    convert_findings: tuple = ()
    stat: tuple | None = None      # (size, mtime, ctime, inode) when it was read
    content: str = ""              # sha256 of its bytes
    context: str = ""              # what parsing depends on (key = digest(content, context))


# An artifact as written, without its content: (path, sha256, channel, media type, articles,
# for readers). A plain tuple: the records hold one for every output file, read on every build.
Output = tuple


def output(artifact: Artifact) -> Output:
    return (artifact.path, artifact.sha256, artifact.channel, artifact.media_type, artifact.articles,
            artifact.for_readers)


def described(out: Output) -> Artifact:
    """The artifact an Output describes, without its content but with its content's hash (made
    for every file of an unchanged site)."""
    path, sha256, channel, media_type, articles, for_readers = out
    return remade(Artifact, path=path, content=b"", channel=channel, media_type=media_type, articles=articles,
                  for_readers=for_readers, sha256=sha256)


_OUTPUT_FIELDS = ("path", "sha256", "channel", "media_type", "articles", "for_readers")   # see Output


class Artifacts(Sequence):
    """What a build made, in order: artifacts, and the outputs it adopted from its records, kept
    as their Output tuples and described (an Artifact without content) only when one is asked
    for. A rebuild adopts nearly every output file, of which it asks only the paths (the link
    check) and channels (the summary): making each an object would be work for nothing."""

    def __init__(self):
        self._items: list = []

    def append(self, artifact: Artifact) -> None:
        self._items.append(artifact)

    def adopt(self, outputs) -> None:
        self._items.extend(outputs)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[at] for at in range(*index.indices(len(self)))]
        item = self._items[index]
        return described(item) if type(item) is tuple else item

    def __iter__(self):
        return (described(item) if type(item) is tuple else item for item in self._items)

    def field(self, name: str) -> list:
        """One field of every artifact (path, sha256, channel, media_type, articles or
        for_readers), none described."""
        at = _OUTPUT_FIELDS.index(name)
        return [item[at] if type(item) is tuple else getattr(item, name) for item in self._items]


@dataclass(frozen=True)
class UnitRecord:
    """What one article made on its own. Its disclaimer checks, claims and posts are kept pickled
    (`details`): a build reads them only for an article whose report section or social JSON it
    makes again, or whose posts go into the scheduling exports; the report's totals use `counts`."""

    key: str
    outputs: tuple[Output, ...]
    findings: tuple
    details: bytes | Callable[[], bytes]  # (checks, claims, posts) pickled and compressed (a
                                          # full build holds one per article), or how to read them
                                          # (posts: platform -> post, unscheduled)
    counts: tuple[int, int, int, int]  # checks, checks found, claims, claims substantiated
    platforms: tuple[str, ...]     # the platforms it has a post for
    cache_keys: tuple[str, ...] = ()   # the build cache entries that made its outputs: kept in the
                                       # cache while the record is used, for when it no longer is
    # Digests of parts of `details`, for what shows only them (more precise than `key`, which a
    # template edit moves for every article): its checks and claims (its report section) and
    # its posts (its social JSON).
    checks_digest: str = ""
    posts_digest: str = ""
    findings_digest: str = ""   # findings_digest(findings): what its report section keys them by (see
                                # compliance.report), not hashed again from their text on each build

    @classmethod
    def of(cls, key: str, outputs: tuple[Output, ...], findings: tuple, checks: tuple, claims: tuple,
           posts: dict, cache_keys: tuple[str, ...] = ()) -> UnitRecord:
        counts = (len(checks), sum(1 for c in checks if c.found), len(claims), sum(1 for c in claims if c.substantiated))
        # In the order a build shows them (a stable sort: the order of all of a build's findings,
        # sorted the same way, does not change), so that they are, as they stand, the findings
        # its report section shows (see compliance.report).
        findings = tuple(sorted(findings, key=Finding.sort_key))
        details = zlib.compress(pickle.dumps((checks, claims, posts), protocol=pickle.HIGHEST_PROTOCOL), 1)
        # Of their values (repr), not their pickles: a pickle differs with which equal strings
        # are one object (results from the build cache against results just made).
        return cls(key, outputs, findings, details, counts, tuple(posts), cache_keys, digest(checks, claims),
                   digest(posts), findings_digest(findings))

    def unpack(self) -> tuple[tuple, tuple, dict]:
        """(checks, claims, posts)."""
        return pickle.loads(zlib.decompress(self.details if isinstance(self.details, bytes) else self.details()))


def findings_digest(findings) -> str:
    """A digest of findings' fields, in their order."""
    return digest(marshal.dumps([f.fields() for f in findings], 2))


@dataclass(frozen=True)
class OutputRecord:
    key: str
    output: Output
    findings: tuple
    checks: tuple


# The source, unit and output records are kept in sets: each table's records, in the order the
# build goes through them (sources by path, articles newest first, site-wide files by path), cut into
# runs of SET_SIZE, each row one pickle of {name: record}. A build reads every record of these
# three tables, and one pickle per set of records is much cheaper to read than its records one
# row at a time, their marshalled values made into objects one by one; read in that order, the
# records lie in memory in the order the build goes through them (sets in the order of a hash of
# the names scatter them, and the build's reads with them). A build writes again only the sets
# whose records or members changed: an edit, one set; a new or deleted article, the sets after it.
SET_SIZE = Limit("PIPELINE_RECORD_SET_SIZE", 80, "records of a kind kept in one set of the build records", least=1)


def _stored(record):
    """A unit record as its set keeps it: without its details (a row of their own, see Records)."""
    return remade(UnitRecord, **{**vars(record), "details": b""}) if isinstance(record, UnitRecord) else record


def _read_sets(connection: sqlite3.Connection, table: str, kind: type, members: list) -> dict:
    """The records of a table; `members` receives the names in each set, in order."""
    records: dict = {}
    for number, data in connection.execute(f"SELECT number, data FROM {table} ORDER BY number"):
        found = pickle.loads(unseal(data))
        if type(found) is not dict or not set(map(type, found.values())) <= {kind} or number != len(members):
            raise ValueError(f"not build records ({table}, set {number})")
        records.update(found)
        members.append(list(found))
    return records


def _write_sets(connection: sqlite3.Connection, table: str, old: dict, new: dict, members: list,
                by_name: bool = False) -> None:
    """Write the sets whose members are not those of the last build's (`members`) or hold a
    record that is another object than its record. `by_name`: in the order of their names, not
    of `new` (whose order changes from build to build)."""
    names, size = sorted(new) if by_name else list(new), SET_SIZE.value()
    sets = [names[start:start + size] for start in range(0, len(names), size)]
    dumps = partial(pickle.dumps, protocol=pickle.HIGHEST_PROTOCOL)
    connection.execute(f"DELETE FROM {table} WHERE number >= ?", (len(sets),))
    connection.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (
        (number, seal(dumps({name: _stored(new[name]) for name in group}))) for number, group in enumerate(sets)
        if number >= len(members) or members[number] != group or any(old.get(name) is not new[name] for name in group)))


class Records:
    """The last build's records (read as used) and this build's (saved after a successful build)."""

    def __init__(self, folder: Path | None, code: str):
        """`folder`: where the records file lives (see build.state_folder); None: no records."""
        self.path = store.path(folder) if folder is not None else None
        self.code = code
        self.notes: list[str] = []
        self.sources: dict[str, SourceRecord | None] = {}   # None: superseded by this build
        self._units: dict[str, UnitRecord | None] | None = {}   # see units
        self.outputs: dict[str, OutputRecord] = {}
        self.section_keys: dict[str, str] = {}   # source -> key of its report section
        self.new_sources: dict[str, SourceRecord] = {}
        self.new_units: dict[str, UnitRecord] = {}
        self.new_outputs: dict[str, OutputRecord] = {}
        self.new_sections: dict[str, tuple[str, bytes | None]] = {}   # None: the last build's html
        # Where each article's section is in the report the last build wrote (source -> (start,
        # size)), that report's sha256 and the digest of its page around the sections (see
        # compliance.report); this build's, once its report is written.
        self.layout: dict[str, tuple[int, int]] = {}
        self.layout_sha = self.layout_page = ""
        self.new_layout: dict[str, tuple[int, int]] | None = None
        self.new_layout_sha = self.new_layout_page = ""
        self.hits = 0   # records used
        self._connection: sqlite3.Connection | None = None
        self.members: dict[str, list] = {"sources": [], "units": [], "outputs": []}   # see _read_sets
        self._damaged = False
        if self.path is not None and self.path.is_file():
            try:
                self._read()
            except Exception as exc:  # noqa: BLE001 - any damage means: build without them
                self._ignore(exc)

    def _ignore(self, exc: Exception) -> None:
        self.close()
        self.new_sources, self.new_units, self.new_outputs, self.new_sections = {}, {}, {}, {}
        self.layout, self.layout_sha, self.layout_page = {}, "", ""
        self.sources, self._units, self.outputs, self.section_keys = {}, {}, {}, {}
        self.members = {table: [] for table in self.members}
        self._damaged = True
        self.notes.append(f"the build records in {self.path.name} could not be read ({exc}); they are "
                          f"ignored and rebuilt")

    def _read(self) -> None:
        connection = self._connection = store.reading(self.path)
        connection.execute("BEGIN")   # one snapshot for the whole build: rows are read as needed
        if store.meta(connection, META) != FORMAT or store.meta(connection, CODE) != self.code:
            self.close()   # another version's or other code's: not used, replaced on save
            return
        self.sources = _read_sets(connection, "sources", SourceRecord, self.members["sources"])
        self.outputs = _read_sets(connection, "outputs", OutputRecord, self.members["outputs"])
        self.section_keys = dict(connection.execute("SELECT name, key FROM sections"))
        for sha, data in connection.execute("SELECT sha, data FROM layout WHERE name = 'report.html'"):
            self.layout_sha, (self.layout_page, self.layout) = sha, marshal.loads(unseal(data))
        self._units = None   # read when first used (see units)

    @property
    def units(self) -> dict[str, UnitRecord | None]:
        """The unit records (None: superseded by this build; its row is replaced). Read when first
        used, from the snapshot the others were read from: a build uses them after it has forked
        its helpers (see build._run), and memory allocated after a fork is not shared with the
        children, so the parent's use of them (the largest of the records) copies no page."""
        return self.read_units()

    def read_units(self) -> dict[str, UnitRecord | None]:
        """The unit records (see units), read now if they are not yet."""
        if self._units is None:
            self._units = {}
            try:
                with no_collection():   # (see build.run: long-lived, no cycles)
                    self._read_units()
            except Exception as exc:  # noqa: BLE001 - as in __init__
                self._ignore(exc)
        return self._units

    def _read_units(self) -> None:
        units, details = _read_sets(self._connection, "units", UnitRecord, self.members["units"]), self._details
        for name, record in units.items():
            record.__dict__["details"] = partial(details, name)   # (not yet seen by anything)
        self._units = units

    def _details(self, name: str) -> bytes:
        return self._row("SELECT data FROM details WHERE name = ?", name)

    def section(self, name: str) -> bytes:
        """The html of the last build's report section for a source, zlib-compressed (its key:
        section_keys)."""
        return self._row("SELECT html FROM sections WHERE name = ?", name)

    def _row(self, query: str, name: str) -> bytes:
        try:
            row = self._connection.execute(query, (name,)).fetchone() if self._connection is not None else None
            if row is None:
                raise ValueError("missing")
            return unseal(row[0])
        except (ValueError, sqlite3.Error) as exc:
            raise Damaged(f"the row for {name}: {exc}") from None

    def discard(self, exc: Damaged) -> None:
        """Use no record from here on (the build starts again, see build.run); the file is
        replaced when this build's records are saved."""
        self._ignore(exc)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def saving(self) -> store.Part | None:
        """Close the last build's records; what to save of this build's (the rows that changed,
        and deleting those of records no longer made), in the store's save after the build.
        Records this build did not read (damaged, foreign, none) are replaced whole."""
        self.units   # (read, if no build step has: its rows are compared with this build's)
        known = self._connection is not None   # else every row is written afresh
        self.close()
        if self.path is None:
            return None
        return store.Part(tuple(_TABLES) if self._damaged or not known else (), partial(self._write, known=known))

    def _write(self, connection: sqlite3.Connection, known: bool) -> None:
        for table, columns in _TABLES.items():
            connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(META, FORMAT), (CODE, self.code)])
        units, new_units = self.units, self.new_units
        for table, old, new in (("sources", self.sources, self.new_sources), ("units", units, new_units),
                                ("outputs", self.outputs, self.new_outputs)):
            _write_sets(connection, table, old, new, self.members[table] if known else [], by_name=table == "outputs")
        for table, old, new in (("details", units, new_units), ("sections", self.section_keys, self.new_sections)):
            gone = [(name,) for name in old.keys() - new.keys()] if known else []
            connection.executemany(f"DELETE FROM {table} WHERE name = ?", gone)
        connection.executemany("INSERT OR REPLACE INTO details VALUES (?, ?)", (
            (name, seal(record.details)) for name, record in new_units.items() if units.get(name) is not record))
        connection.execute("DELETE FROM layout")
        if self.new_layout is not None and self.new_layout_sha:
            connection.execute("INSERT INTO layout VALUES ('report.html', ?, ?)",
                               (self.new_layout_sha, seal(marshal.dumps((self.new_layout_page, self.new_layout)))))
        connection.executemany("INSERT OR REPLACE INTO sections VALUES (?, ?, ?)", (
            (name, key, seal(html)) for name, (key, html) in self.new_sections.items() if html is not None))
