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
tree, as the manifest and a stat say), so a record never stands for a file that is gone. Records
are written after a successful build; a damaged or foreign file is ignored with a note."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from pipeline.model import Article, Artifact

FORMAT = 5


@dataclass(frozen=True)
class SourceRecord:
    key: str                       # the file's bytes and what parsing depends on
    parsed: object                 # sources.Parsed without its text and YAML nodes
    findings: tuple                # what parsing reported (warnings only: errors stop the build)
    convert_key: str = ""          # + what Markdown conversion depends on
    article: Article | None = None  # without its body (sources.light)
    digest: str = ""               # cache.article_digest of the whole article
    applying: tuple[str, ...] = ()  # ids of the disclaimers that apply to it
    convert_findings: tuple = ()
    stat: tuple | None = None      # (size, mtime, ctime, inode) when it was read
    content: str = ""              # sha256 of its bytes


# An artifact as written, without its content: (path, sha256, channel, media type, articles,
# for readers). A plain tuple: a record of 5,000 articles holds 30,000 of them, read on every build.
Output = tuple


def output(artifact: Artifact) -> Output:
    return (artifact.path, artifact.sha256, artifact.channel, artifact.media_type, artifact.articles,
            artifact.for_readers)


def described(out: Output) -> Artifact:
    """The artifact an Output describes, without its content."""
    path, _, channel, media_type, articles, for_readers = out
    return Artifact(path, b"", channel, media_type, articles, for_readers)


@dataclass(frozen=True)
class UnitRecord:
    """What one article made on its own. Its disclaimer checks, claims and posts are kept pickled
    (`details`): a build reads them only for an article whose report section or social JSON it
    makes again, or whose posts go into the scheduling exports; the report's totals use `counts`."""

    key: str
    outputs: tuple[Output, ...]
    findings: tuple
    details: bytes                 # pickled (checks, claims, posts); posts: platform -> post, unscheduled
    counts: tuple[int, int, int, int]  # checks, checks found, claims, claims substantiated
    platforms: tuple[str, ...]     # the platforms it has a post for

    @classmethod
    def of(cls, key: str, outputs: tuple[Output, ...], findings: tuple, checks: tuple, claims: tuple,
           posts: dict) -> UnitRecord:
        counts = (len(checks), sum(1 for c in checks if c.found), len(claims), sum(1 for c in claims if c.substantiated))
        return cls(key, outputs, findings, pickle.dumps((checks, claims, posts), protocol=pickle.HIGHEST_PROTOCOL),
                   counts, tuple(posts))

    def unpack(self) -> tuple[tuple, tuple, dict]:
        """(checks, claims, posts)."""
        return pickle.loads(self.details)


@dataclass(frozen=True)
class OutputRecord:
    key: str
    output: Output
    findings: tuple
    checks: tuple


class Records:
    """The last build's records (read once) and this build's (saved after a successful build)."""

    def __init__(self, root: Path | None, code: str):
        self.path = root / ".pipeline" / "records.pickle" if root is not None else None
        self.code = code
        self.notes: list[str] = []
        self.sources: dict[str, SourceRecord] = {}
        self.units: dict[str, UnitRecord] = {}
        self.outputs: dict[str, OutputRecord] = {}
        self.sections: dict[str, tuple[str, str]] = {}   # source -> (key, report section html)
        self.new_sources: dict[str, SourceRecord] = {}
        self.new_units: dict[str, UnitRecord] = {}
        self.new_outputs: dict[str, OutputRecord] = {}
        self.new_sections: dict[str, tuple[str, str]] = {}
        self.hits = 0   # records used
        if self.path is not None and self.path.is_file():
            try:
                with self.path.open("rb") as handle:
                    header = pickle.load(handle)
                    if not (isinstance(header, tuple) and len(header) == 2 and isinstance(header[0], int)):
                        raise ValueError("not a build records file")
                    if header == (FORMAT, code):   # else another version's or other code's: not read
                        self.sources, self.units, self.outputs, self.sections = pickle.load(handle)
            except Exception as exc:  # noqa: BLE001 - any damage means: build without them
                self.notes.append(f"the build records {self.path.name} could not be read ({exc}); they are "
                                  f"ignored and rebuilt")

    def save(self) -> None:
        if self.path is None:
            return
        data = (self.new_sources, self.new_units, self.new_outputs, self.new_sections)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                pickle.dump((FORMAT, self.code), handle, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            self.notes.append(f"the build records could not be written ({exc.strerror or exc}); the next build "
                              f"renders every article")
