"""Sources stage: content/posts/**/*.md -> validated Articles, every problem in every file collected."""

from __future__ import annotations

import hashlib
import os
from time import time_ns
from stat import S_ISREG
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath

from pipeline.files import walk
from pipeline.errors import Finding, FindingList, Location, PipelineError, WARNING
from pipeline.frontmatter import SplitSource, split_front_matter
from pipeline.markdown import MarkdownRenderer, MarkupTooComplex, strip_raw_html
from pipeline.incremental import cache
from pipeline.incremental.filestat import RACY_NS, signature
from pipeline.parallel import map_ordered
from pipeline.model import ARTICLE_KINDS, PLATFORMS, Acceptance, Article, Evidence, SiteConfig, Tag, is_light, light
from pipeline.incremental.records import SourceRecord
from pipeline.schema import (BOOLEAN, one_of, DATE, Field, Invalid, Kind, ListOf, Schema, Validator, line, matching,
                             text)
from pipeline.slugs import device_name, reserved_reason, slugify
from pipeline.textfile import decode_text
from pipeline.yamldoc import YamlDoc, parse_yaml

POSTS_DIR = "content/posts"
SUMMARY_LENGTH = 200
MAX_BYTES = 1_000_000   # an article over 1 MB is a mistake (a pasted file), not an article
MAX_INDENT = 64         # 16 levels of nested lists
MAX_QUOTES = 16
_MARKERS = re.compile(r"(?:\s*(?:[-*+>]|\d{1,9}[.)])(?=\s))*")
_NESTING_STARTS = frozenset(">-*+0123456789")


def _image(value) -> str:
    value = text(2000).check(value)
    if re.match(r"https://\S+$", value):
        return value
    if re.match(r"/?[A-Za-z0-9_][A-Za-z0-9_./-]*$", value):
        if ".." in value.split("/"):
            raise Invalid(f"{value!r} may not contain '..'")
        # A path under content/static/, kept relative to the site's root whether written with a
        # leading slash or not: every channel joins it to the site's address (an email's lead
        # image, joined as written, pointed at the domain's root when the blog lives under a path).
        return value.lstrip("/")
    raise Invalid(f"expected an https:// URL or a path inside the site such as images/knee.jpg, got {value!r}")


def _focus(value) -> list:
    if not isinstance(value, list) or len(value) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in value):
        raise Invalid(f"expected two fractions of the image's width and height from 0 to 1, such as "
                      f"[0.5, 0.3], got {value!r}")
    return [float(v) for v in value]


def _citation(value) -> str:
    value = text(500).check(value)
    if re.fullmatch(r"(doi:\s?)?10\.\d{4,9}/\S+|(PMID:?\s?)?\d{1,9}|https?://\S+", value, re.IGNORECASE):
        return value
    raise Invalid(f"expected a DOI (10.xxxx/...), a PMID (PMID: 12345678) or a URL, got {value!r}")


EVIDENCE = Schema((
    Field("citation", Kind("a citation", _citation), "DOI, PMID or URL of the source.", required=True,
          example="citation: 10.2519/jospt.2017.7096"),
    Field("title", text(400), "The source's title, as published.", required=True, example="title: ..."),
    Field("supports", ListOf(text(200), lenient=True), "The claims (phrases) this source supports.",
          default=[]),
), name="an evidence entry (citation, title)")

ACCEPT = Schema((
    Field("rule", matching(r"[a-z0-9]+(-[a-z0-9]+)*", " (use a rule id such as claim-best)"),
          "The id of the rule whose findings this article accepts.", required=True, example="rule: claim-best"),
    Field("reason", text(500), "Why the finding is acceptable here, for the reviewer.", required=True,
          example="reason: ..."),
), name="an acceptance (rule, reason)")

NEWSLETTER = Schema((
    Field("subject", line(150), "Email subject; default: the title."),
    Field("preheader", line(100), "Inbox preview text, at most 100 characters; default: the summary, trimmed."),
), name="newsletter settings (subject, preheader)")

SOCIAL = Schema(tuple(Field(platform, text(5000), f"Your own {platform} post text; the link, hashtags and "
                            f"short disclaimers are added to it.") for platform in PLATFORMS),
                name="social post texts per platform (" + ", ".join(PLATFORMS) + ")")

ARTICLE = Schema((
    Field("title", line(300), "The article's headline.", required=True, example="title: How Dry Needling Works"),
    Field("date", DATE, "Publication date, ISO 8601; the site's timezone when none is given.", required=True,
          example="date: 2026-05-01"),
    Field("slug", matching(r"[a-z0-9]+(-[a-z0-9]+)*", " (use lowercase ASCII letters, digits and single "
          "hyphens, like knee-pain-basics)"), "URL name; default: from the title."),
    Field("author", line(120), "Who wrote it; default: the site's author."),
    Field("summary", text(500), "One or two sentences for listings, feeds and meta description; "
          "default: the first paragraph."),
    Field("tags", ListOf(text(60), lenient=True, max_items=30), "Topics, e.g. [dry needling, back pain].",
          default=[]),
    Field("draft", BOOLEAN, "true keeps the article out of every output unless --drafts.", default=False),
    Field("updated", DATE, "When the article last changed meaningfully."),
    Field("image", Kind("an image", _image), "Lead image: https URL or a path under content/static/."),
    Field("image_alt", text(300), "Description of the image for screen readers; required with image."),
    Field("image_focus", Kind("a focus point", _focus), "Where crops of the lead image centre: [x, y], fractions "
          "of its width and height; default [0.5, 0.5].", example="image_focus: [0.5, 0.3]"),
    Field("lang", matching(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", " (use a language tag like es or es-MX)"),
          "The article's language (BCP 47), e.g. es; default: the site's `language`. Its disclaimers "
          "and claim rules are those of this language."),
    Field("kind", one_of(*ARTICLE_KINDS), "What the article is: article (default) or patient-story (a patient's "
          "own experience: it carries the testimonial disclosure).", default="article"),
    Field("evidence", ListOf(EVIDENCE), "Sources that substantiate the article's health claims.", default=[]),
    Field("reviewed_by", text(120), "The licensed clinician who reviewed the claims."),
    Field("reviewed_on", DATE, "When the review happened."),
    Field("accept", ListOf(ACCEPT), "Compliance findings the author accepts, each with a reason.", default=[]),
    Field("newsletter", NEWSLETTER, "Newsletter subject and preheader for this article.", default={}),
    Field("social", SOCIAL, "Your own text for a platform's post, e.g. {x: ..., linkedin: ...}.", default={}),
), name="front matter fields")


@dataclass(frozen=True)
class _Parsed:
    """An article after its front matter is validated, before Markdown is rendered. A parsed
    source taken from the last build's record has no `split` and `doc` (see _Loader.full)."""

    rel: str
    split: SplitSource | None
    doc: YamlDoc | None
    fields: dict
    slug: str
    date: datetime
    updated: datetime | None
    needs_sources: bool = False   # the body may link to other sources (its HTML depends on their slugs)


def source_files(root: Path) -> list[str]:
    """Every content/posts/**/*.md, in the order of their paths below content/posts (strings:
    5,000 Path objects cost more than the stats that tell whether any file changed)."""
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
    (model.light), and the Hydrator that gives an article back whole. Findings for all files.
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
    # once here, not once per such article (at 5,000 articles that was 200 KB of text each).
    sources_key = cache.digest(sorted(by_source.items()))
    context = (config, MarkdownRenderer(), by_source, sources_key, tag_names, rules, loader)
    hydrator = Hydrator(loader, context)
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


class Hydrator:
    """Gives an article loaded without its body (model.light) back whole, exactly as converted."""

    def __init__(self, loader: _Loader, context):
        self.loader, self.context = loader, context

    def __call__(self, article: Article) -> Article:
        if not is_light(article):
            return article
        record = self.loader.new.get(article.source)
        parsed = self.loader.full(record.parsed)
        build_cache = cache.current()
        counted = build_cache.hits, build_cache.misses
        whole, _ = _convert_whole(self.context, parsed)   # its Markdown was cached when it was loaded
        build_cache.hits, build_cache.misses = counted   # not a result reused from an earlier build
        if whole is None or cache.article_digest(whole) != cache.article_digest(article):
            raise PipelineError(Finding(Location(article.source), "the file changed while the build read it; "
                                        "run the build again"))
        return whole



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


def _parse(rel: str, data: bytes, config: SiteConfig, findings: FindingList) -> _Parsed | None:
    source = decode_text(data, rel, findings)
    if source is None:
        return None
    split = split_front_matter(source, rel, findings)
    if split is None or not _check_nesting(split, rel, findings):
        return None
    before = len(findings.items)
    doc = parse_yaml(split.yaml_text, rel, findings, lines=split.lines, line_offset=split.yaml_line_offset)
    if doc is None:
        return None
    validator = Validator(doc, findings)
    clean = validator.mapping(ARTICLE, doc.data)
    if clean is None:
        return None
    if clean["image"] and not clean["image_alt"]:
        validator.fail(("image",), "image_alt: required when image is set; describe the picture for "
                       "readers who cannot see it, e.g. image_alt: A therapist stretching a runner's calf")
    if clean["reviewed_by"] and not clean["reviewed_on"]:
        validator.fail(("reviewed_by",), "reviewed_on: required with reviewed_by; give the review date")
    slug = clean["slug"] or slugify(clean["title"])
    if not slug:
        validator.fail(("title",), "cannot make a URL name from this title; add a `slug:` line such as "
                       "slug: knee-pain-basics")
    elif reserved_reason(slug):
        key = "slug" if clean["slug"] else "title"
        validator.fail((key,), f"slug: {reserved_reason(slug)}; choose another slug")
    if len(findings.items) > before and findings.has_errors:
        return None
    tz = config.tz
    return _Parsed(rel, split, doc, clean, slug, _aware(clean["date"], tz),
                   _aware(clean["updated"], tz) if clean["updated"] else None,
                   ".md" in split.body or "&" in split.body)


def _check_nesting(split: SplitSource, rel: str, findings: FindingList) -> bool:
    """Refuse lists and quotes nested deeper than anyone reads (and than Markdown renders quickly)."""
    for offset, text_line in enumerate(split.body.split("\n")):
        if not text_line or (text_line[0] not in _NESTING_STARTS and not text_line[0].isspace()):
            continue  # starts like plain text: no indent, quote or list marker to count
        indent = len(text_line) - len(text_line.lstrip(" \t"))
        quotes = len(re.match(r"[>\s]*", text_line).group().replace(" ", "").replace("\t", ""))
        quotes = max(quotes, len(_MARKERS.match(text_line).group().split()))
        if indent > MAX_INDENT or quotes > MAX_QUOTES:
            what = f"indented {indent} columns" if indent > MAX_INDENT else f"nested {quotes} list or quote levels deep"
            findings.add(Location(rel, split.body_line + offset, 1), f"this line is {what}; the limit is "
                         f"{MAX_INDENT} columns and {MAX_QUOTES} quote levels. Flatten the nested lists or quotes",
                         source=text_line[:120])
            return False
    return True


def _aware(value: datetime | date, tz) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    return value if value.tzinfo else value.replace(tzinfo=tz)


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
            spellings[slug][name] += 1   # (setdefault made a Counter for every tag of every article)
    return {slug: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for slug, c in spellings.items()}


def _convert(context, parsed: _Parsed) -> tuple[tuple | None, list]:
    """One article's Markdown conversion (run in a worker process): the article without its body,
    its digest and the ids of the disclaimers that apply to it; and its findings."""
    article, found = _convert_whole(context, context[-1].full(parsed))   # read again here, in a worker
    if article is None:
        return None, found
    rules = context[-2]
    applying = rules.applying(article) if rules is not None else ()
    return (light(article), cache.article_digest(article), applying), found


def _convert_whole(context, parsed: _Parsed) -> tuple[Article | None, list]:
    config, renderer, by_source, sources_key, tag_names, _, _ = context
    findings = FindingList()
    try:
        return _article(parsed, config, renderer, by_source, sources_key, tag_names, findings), findings.items
    except MarkupTooComplex as exc:
        findings.add(Location(parsed.rel, parsed.split.body_line), f"cannot convert the article's Markdown: {exc}")
        return None, findings.items


def _article(p: _Parsed, config: SiteConfig, renderer: MarkdownRenderer, by_source: dict[str, str],
             sources_key: str, tag_names: dict[str, str], findings: FindingList) -> Article:
    here = PurePosixPath(p.rel).relative_to(POSTS_DIR).parent

    def resolve(href: str) -> str:
        target = href.split("#", 1)[0]
        if not target.endswith(".md") or "://" in target or target.startswith("/"):
            return href
        key = (here / target).as_posix()
        key = _normalise(key)
        slug = by_source.get(key) if key is not None else None
        return f"{config.base_path}{slug}/" + (("#" + href.split("#", 1)[1]) if "#" in href else "") \
            if slug else href

    body, removed = strip_raw_html(p.split.body)
    if not body.strip():
        findings.add(Location(p.rel, min(p.split.body_line, len(p.split.lines)) or None),
                     "the article has no text after its front matter: its page, newsletter and posts show only "
                     "the title; write the article below the closing ---", severity=WARNING)
    # One warning per line (its first tag, and how many more): each warning holds its line, so one
    # per tag would hold a long line once per tag on it.
    at = 0
    while at < len(removed):
        offset, col, tag = removed[at]
        more = at
        while more + 1 < len(removed) and removed[more + 1][0] == offset:
            more += 1
        also = f" (and {more - at} more raw HTML tag{'s' if more - at > 1 else ''} on this line)" if more > at else ""
        findings.add(Location(p.rel, p.split.body_line + offset, col), f"raw HTML {tag[:40]!r}{also} is left out "
                     f"of the output; write it in Markdown instead", severity=WARNING,
                     source=p.split.lines[p.split.body_line + offset - 1])
        at = more + 1
    build_cache = cache.current()
    key = cache.digest(build_cache.keys.get("markdown"), config.base_path, body,
                       sources_key if (".md" in body or "&" in body) else None, here.as_posix())
    rendered = build_cache.memo("markdown", key, lambda: renderer.render(body, resolve))
    summary = p.fields["summary"] or trim(rendered.first_paragraph or p.fields["title"])
    seen_tags: dict[str, Tag] = {}
    for name in p.fields["tags"]:
        slug = slugify(name)
        if slug in tag_names and slug not in seen_tags:   # (a tag refused by tag_names is reported)
            seen_tags[slug] = Tag(tag_names[slug], slug)
    return Article(
        source=p.rel, slug=p.slug, title=p.fields["title"], date=p.date, updated=p.updated,
        author=p.fields["author"] or config.author, summary=summary, tags=tuple(seen_tags.values()),
        draft=p.fields["draft"], image=p.fields["image"], image_alt=p.fields["image_alt"],
        body_line=p.split.body_line, html=rendered.html, text=rendered.text,
        word_count=len(rendered.text.split()), front=p.doc.slim(), lines=p.split.lines,
        evidence=tuple(Evidence(e["citation"], e["title"], tuple(e["supports"])) for e in p.fields["evidence"]),
        reviewed_by=p.fields["reviewed_by"],
        reviewed_on=_aware(p.fields["reviewed_on"], config.tz) if p.fields["reviewed_on"] else None,
        accept=tuple(Acceptance(a["rule"], a["reason"]) for a in p.fields["accept"]),
        links=rendered.links,
        newsletter_subject=(p.fields["newsletter"] or {}).get("subject"),
        newsletter_preheader=(p.fields["newsletter"] or {}).get("preheader"),
        social=tuple((k, v) for k, v in (p.fields["social"] or {}).items() if v),
        image_focus=tuple(p.fields["image_focus"]) if p.fields["image_focus"] else None,
        lang=p.fields["lang"] or config.language, kind=p.fields["kind"],
    )


def _normalise(path: str) -> str | None:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def trim(text_: str, limit: int = SUMMARY_LENGTH) -> str:
    """`text_` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text_) <= limit:
        return text_
    cut = text_[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-\u2014 ")
    return cut + "\u2026"
