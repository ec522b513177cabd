"""Sources stage: content/posts/**/*.md -> validated Articles, every problem in every file collected.
Each file is read here, parsed and validated by article_fields and converted by conversion."""

from __future__ import annotations

import hashlib
import os
from time import time_ns
from stat import S_ISREG
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

from pipeline.article_fields import POSTS_DIR, _Parsed, _parse
from pipeline.conversion import ConversionContext, _convert, reconvert
from pipeline.incremental.bodies import Hydrator
from pipeline.files import walk
from pipeline.errors import Finding, FindingList, Location, PipelineError
from pipeline.markdown import MarkdownRenderer
from pipeline.incremental import cache
from pipeline.incremental.filestat import RACY_NS, signature
from pipeline.parallel import map_ordered
from pipeline.model import Article, SiteConfig
from pipeline.incremental.records import SourceRecord
from pipeline.slugs import device_name, slugify

MAX_BYTES = 1_000_000   # an article over 1 MB is a mistake (a pasted file), not an article


def source_files(root: Path) -> list[str]:
    """Every content/posts/**/*.md, in the order of their paths below content/posts (strings, not
    Path objects: making those costs more than the stats that tell whether any file changed)."""
    posts = root / POSTS_DIR
    if not posts.is_dir():
        return []
    found = [(rel, entry.path) for rel, entry in walk(str(posts), skip=PermissionError)   # as rglob("*.md")
             if rel.endswith(".md") and (entry.is_file() or entry.is_symlink())]
    return [path for _, path in sorted(found)]


def load_articles(root: Path, config: SiteConfig, findings: FindingList, *, now: datetime,
                  drafts: bool = False, future: bool = False, dates: list | None = None, rules=None,
                  records=None) -> tuple[list[Article], "Hydrator"]:
    """Validate every source; return the published articles, newest first, without their bodies
    (incremental.bodies.light), and the Hydrator that gives an article back whole. Findings for all files.
    `dates` receives the date of every valid source, published or not (see uptodate). With
    `records` (pipeline.incremental.records.Records), a file whose bytes are unchanged is not parsed or
    converted again."""
    loader = _Loader(root, config, records)
    parsed = [p for p in (loader.parse(path, findings) for path in source_files(root)) if p]
    if dates is not None:
        dates.extend(p.date for p in parsed)
    published = [p for p in parsed if (drafts or not p.fields["draft"]) and (future or p.date <= now)]
    _check_slugs(published, findings, loader.full)
    by_source = {p.rel[len(POSTS_DIR) + 1:]: p.slug for p in published}   # rel: POSTS_DIR/...
    tag_names = _canonical_tags(published, findings, loader.full)
    # Every article that links to another by its file name depends on all of their URLs: hashed
    # once here, not once per such article.
    sources_key = cache.digest(sorted(by_source.items()))
    context = ConversionContext(config, MarkdownRenderer(), by_source, sources_key, tag_names, rules, loader)
    hydrator = Hydrator(partial(reconvert, context))
    articles: list[Article | None] = []
    todo = []
    for p in published:
        record = loader.new[p.rel]   # this build's: the last build's, or a new one if the file changed
        key = cache.digest(loader.source_keys[p.rel], sources_key if p.needs_sources else None,
                           [(slug, tag_names.get(slug)) for slug in map(slugify, p.fields["tags"])])
        if record.convert_key == key and record.article is not None:
            findings.extend(record.convert_findings)
            articles.append(_remember(record.article, record.digest, record.applying, rules))
        else:
            articles.append(None)
            todo.append((len(articles) - 1, key, p))
    for (index, key, p), (article, found) in zip(todo, map_ordered(_convert, [p for _, _, p in todo], context)):
        findings.extend(found)
        if article is not None:
            body, digest, applying = article
            articles[index] = _remember(body, digest, applying, rules)
            loader.new[p.rel] = replace(loader.new[p.rel], convert_key=key, article=body, digest=digest,
                                        applying=applying, convert_findings=tuple(found))
    if records is not None:
        records.hits += loader.hits
    result = [a for a in articles if a is not None]
    # By instant (a float compares in one step; two aware datetimes ask their zones each time).
    result.sort(key=lambda a: (a.date.timestamp(), a.slug), reverse=True)
    return result, hydrator


def _remember(article: Article, digest: str, applying: tuple[str, ...], rules) -> Article:
    cache.remember_digest(article, digest)
    if rules is not None:
        rules.remember(article, applying)
    return article


class _Loader:
    """Reads and validates source files, or takes them from the last build's records."""

    def __init__(self, root: Path, config: SiteConfig, records):
        self.root, self.config = root, config
        self.inside = _Inside((root / "content").resolve())
        self.records = records.sources if records is not None else {}
        self.new = records.new_sources if records is not None else {}
        self.context = cache.digest(cache.current().keys.get("markdown"), cache.current().keys.get("check"))
        self.source_keys: dict[str, str] = {}
        self.hits = 0
        self.posts_prefix = len(str(root / POSTS_DIR)) + 1
        # A file modified within a second before this build started may change again within the
        # same clock tick: its metadata is not recorded for the next build (git's "racy" rule).
        self.trust_before = time_ns() - RACY_NS

    def parse(self, path: str, findings: FindingList) -> _Parsed | None:
        rel = POSTS_DIR + "/" + path[self.posts_prefix:]
        record = self.records.get(rel)
        stat = _signature(path)
        if stat is not None and stat[1] >= self.trust_before:
            stat = None   # not to be trusted by the next build
        # Unchanged since the last build read it (like git, make and Hugo): its bytes' hash is known.
        known = record is not None and stat is not None and record.stat == stat
        key = None
        if known:   # digest(its bytes' hash, what parsing depends on): the record's own key if the latter is unchanged
            key = record.key if record.context == self.context else cache.digest(record.content, self.context)
        if key is None or key != record.key:   # changed, or what parsing depends on did: read it
            data = _read(Path(path), rel, findings, self.inside)
            if data is None:
                return None
            content = hashlib.sha256(data).hexdigest()
            key = cache.digest(content, self.context)
        self.source_keys[rel] = key
        if record is not None and record.key == key:
            self.hits += 1
            findings.extend(record.findings)
            self.new[rel] = replace(record, stat=stat) if record.stat != stat else record
            return record.parsed
        if record is not None:   # superseded: not held beside its successor (a settings edit replaces them all)
            self.records[rel] = None
        before = len(findings.items)
        parsed = _parse(rel, data, self.config, findings)
        if parsed is None:
            return None
        bare = replace(parsed, split=None, doc=None)   # the text is read again where it is converted,
        self.new[rel] = SourceRecord(key, bare, tuple(findings.items[before:]), stat=stat, content=content,
                                     context=self.context)
        return bare

    def full(self, parsed: _Parsed) -> _Parsed:
        """The parsed source with its text and YAML nodes (read again when it came from a record)."""
        if parsed.doc is not None:
            return parsed
        findings = FindingList()
        data = _read(self.root / parsed.rel, parsed.rel, findings, self.inside)
        again = _parse(parsed.rel, data, self.config, findings) if data is not None else None
        if again is None or replace(again, split=None, doc=None) != parsed:
            raise PipelineError(Finding(Location(parsed.rel), "the file changed while the build read it; run "
                                        "the build again"))
        return again


def _signature(path: str) -> tuple | None:
    """(size, mtime, ctime, inode): a file whose bytes change gets another (its ctime at least).
    None for a link (always read: where it leads is checked then)."""
    try:
        stat = os.lstat(path)
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return signature(stat)


def _read(path: Path, rel: str, findings: FindingList, inside: "_Inside") -> bytes | None:
    if not inside(path):
        findings.add(Location(rel), "this file is a link to a place outside content/; copy the article "
                     "into content/posts instead")
        return None
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            findings.add(Location(rel), f"the article is {size / 1e6:.1f} MB; the limit is {MAX_BYTES // 1_000_000} "
                         f"MB. Split it into several articles, and keep images in content/static/")
            return None
        cache.did(cache.READ, rel)
        return path.read_bytes()
    except OSError as exc:
        findings.add(Location(rel), f"cannot read the file: {exc.strerror or exc}")
        return None


class _Inside:
    """Does a file really live inside a folder, links followed? Resolves each directory once."""

    def __init__(self, folder: Path):
        self.folder = str(folder)
        self.resolved: dict[str, str] = {}

    def __call__(self, path: Path) -> bool:
        name = str(path)
        if os.path.islink(name):
            real = os.path.realpath(name)
        else:
            parent = os.path.dirname(name)
            if parent not in self.resolved:
                self.resolved[parent] = os.path.realpath(parent)
            real = os.path.join(self.resolved[parent], os.path.basename(name))
        return real == self.folder or real.startswith(self.folder + os.sep)


def _check_slugs(published: list[_Parsed], findings: FindingList, full) -> None:
    seen: dict[str, _Parsed] = {}
    for p in published:
        key = p.slug.casefold()
        if key in seen:
            first = seen[key]
            where = ("slug",) if p.fields["slug"] else ("title",)
            p = full(p)
            location = p.doc.location(where)
            findings.add(location, f"slug: '{p.slug}' is also the URL of {first.rel}; both would be written to "
                         f"site/{p.slug}/index.html. Give one of them a different `slug:`",
                         source=p.doc.source(location))
        else:
            seen[key] = p


def _canonical_tags(published: list[_Parsed], findings: FindingList, full) -> dict[str, str]:
    """tag slug -> the display name used most often (ties: alphabetical)."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    for p in published:
        for index, name in enumerate(p.fields["tags"]):
            slug = slugify(name)
            if not slug or device_name(slug):
                doc = full(p).doc
                location = doc.location(("tags", index))
                why = "use letters or digits" if not slug else \
                    f"'{slug}' is a device name on Windows, where a folder of that name cannot be checked out; rename the tag"
                findings.add(location, f"tags[{index}]: cannot make a URL name from tag {name!r}; {why}",
                             source=doc.source(location))
                continue
            spellings[slug][name] += 1   # (a Counter made once per tag slug, not per tag of every article)
    return {slug: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for slug, c in spellings.items()}
