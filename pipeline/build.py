"""The stage sequence: config -> rules -> articles -> channels -> links and compliance -> writer."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from pipeline.incremental import cache
from pipeline import article_stage
from pipeline.channels import CHANNELS, blog, feed, newsletter, social
from pipeline.compliance.checker import Check, artifact_lookup, check_made
from pipeline.compliance.exports import RECENT, check_exports
from pipeline.compliance.report import NAME as REPORT, PAGES as REPORT_PAGES, report as report_of
from pipeline.incremental.report_sections import assemble
from pipeline.compliance.rules import load_rules
from pipeline.config import load_config
from pipeline.errors import Finding, FindingList, PipelineError
from pipeline.incremental.saves import Later, take_notes, wait
from pipeline.images import prepare_images
from pipeline.links import check_links
from pipeline.incremental.memory import give_back, no_collection, quieter_collector
from pipeline.model import Artifact, Reads, Site, SiteConfig, Tag
from pipeline.options import Options
from pipeline.incremental.pages_ahead import pages_ahead, pages_from
from pipeline.parallel import Background, imap_ordered, jobs, map_ordered, set_jobs
from pipeline.incremental.records import Artifacts, Damaged, OutputRecord, Records, UnitRecord, output
from pipeline.sources import load_articles
from pipeline.templating import page_digests
from pipeline.writer import Changes, LastOutput, PathCheck, Staging


@dataclass(frozen=True)
class BuildResult:
    site: Site
    artifacts: Artifacts   # (a sequence of Artifact)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reused: int = 0      # cached results used
    computed: int = 0    # results computed afresh
    clock_events: tuple[float, ...] = ()     # publishing-clock readings (POSIX time) at which the output changes
    schedule: tuple[str, ...] = ()           # what the summary line says of social posts left out (and why)
    changes: Changes | None = None           # what the swap changed in the output folder, when written
    written: dict | None = None              # then every file it holds (the marker aside) with its hash and
                                             # stat as left: path -> [sha256, size, mtime_ns, ctime_ns,
                                             # inode] (updated by the saves: see writer._catch_up)
    written_folders: dict | None = None      # and every folder ("" the tree) -> (mtime_ns, ctime_ns), or
                                             # None where the writer did not stamp it (see pipeline.incremental.survey)
    repeated: tuple = ()                     # those of `findings` taken from the last build's records (of
                                             # articles it did not render again), as opposed to made by it


def load_site(root: Path, options: Options, findings: FindingList, dates: list | None = None,
              records: Records | None = None) -> Site:
    """Config, rules and articles, with every problem of all three reported together. `dates`
    receives every source's date, published or not. Articles are loaded without their bodies
    (Site.whole gives them back)."""
    config = rules = None
    for load in (load_config, load_rules):
        try:
            value = load(root)
        except PipelineError as exc:
            findings.extend(exc.findings)
            continue
        config, rules = (value, rules) if isinstance(value, SiteConfig) else (config, value)
    if config is None or rules is None:
        findings.raise_if_errors()
    rules = rules.for_site(config.language)
    now = options.now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=config.tz)
    articles, hydrator = load_articles(root, config, findings, now=now, drafts=options.drafts,
                                       future=options.future, dates=dates, rules=rules, records=records)
    findings.raise_if_errors()
    return Site(str(root), config, tuple(articles), group_tags(articles), rules, build_time(articles), now, hydrator)


def build_time(articles) -> datetime:
    """SOURCE_DATE_EPOCH when set, else the newest article's date: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    if articles:
        return max(a.modified for a in articles).astimezone(timezone.utc)
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


def group_tags(articles) -> tuple[tuple[Tag, tuple], ...]:
    groups: dict[str, list] = {}
    tags: dict[str, Tag] = {}
    for article in articles:
        for tag in article.tags:
            tags[tag.slug] = tag
            groups.setdefault(tag.slug, []).append(article)
    return tuple((tags[slug], tuple(groups[slug])) for slug in sorted(groups))


def run(root: Path, options: Options = Options(), out: Path | None = None, later: Later | None = None,
        checking: bool = False, last: LastOutput | None = None) -> BuildResult:
    """The build. With `out`, each artifact is written to a staging folder as soon as it is
    rendered and checked (result.artifacts then hold no content), an article whose outputs the
    last build already made is taken from its record, and the folder is swapped in for `out` when
    the whole build is good; without, artifacts stay in memory and nothing is written. Raises
    PipelineError with all errors found (and then writes nothing). With `later`, what only the
    next build reads (records, cache, the spare tree's catch-up and the manifest) is added to it
    to be saved, else saved here. `checking` (pipeline check; no `out`): what matters is the
    findings, so an article or site-wide output whose record's key matches is taken from the
    last build's records (read, never written) whether or not its files are still on disk, and
    artifacts are kept without their content (at 5,000 articles: 29 s and 550 MB before, as a
    cold build held in memory). `last`: LastOutput(out, root) made by the caller, its survey
    started (after waiting for the saves of the build before); else made here."""
    wait(root)   # for the saves of the build before
    earlier = take_notes(root)   # what they had to say
    set_jobs(options.jobs)
    with quieter_collector():
        with no_collection():
            # Which outputs of the last build are still on disk is surveyed first, in a forked
            # process when there are cores to spare, while the sources and records are read.
            given, last = last, None
            if out is not None:
                last = given if given is not None and given.out == out.resolve() else \
                    LastOutput(out, root, background=jobs() > 1)
            if given is not None and given is not last:
                given.close()
        try:
            state = state_folder(root, options)
            published = state_folder(root, Options())
            build_cache = cache.BuildCache(state if options.cache else None,
                                           fallback=published if state != published else None)
            cache.use(build_cache)
            build_cache.code = cache.code_digest()
            build_cache.keys = base_keys(root, build_cache.code)
            with no_collection():
                records = Records(state if options.cache and (out is not None or checking) else None,
                                  build_cache.code)
            give_back()   # what reading the records freed
            saves = later if later is not None else Later(root, detached=False)
            try:
                try:
                    result = _run(root, options, out, records, last, saves, checking)
                except Damaged as exc:   # (its staging folder is gone: the build starts again)
                    records.discard(exc)
                    result = _run(root, options, out, records, last, saves, checking)
            except BaseException:
                records.close()
                build_cache.save()   # what it computed, for the build that follows
                raise
            finally:
                cache.use(cache.BuildCache(None))
            if checking:
                records.close()   # they describe output/, which a check does not write
            else:
                saves.add(records.saving(), notes=records.notes)
            saves.add(build_cache.saving(), notes=build_cache.notes)
            if later is None:
                saves.run()
        finally:
            if last is not None:
                last.close()
    return replace(result, notes=earlier + build_cache.notes + records.notes + result.notes, reused=build_cache.hits + records.hits,
                   computed=build_cache.misses)


def state_folder(root: Path, options: Options) -> Path:
    """Where the build cache, the build records and the compiled templates live: .pipeline/, or a
    folder of its own in it for builds that include drafts or future articles (the preview
    server's). Those builds have other articles, neighbours and tags, and each build keeps only
    the cache entries and records it used: sharing them, every preview would undo what the next
    `pipeline build` needs, and the other way round."""
    variant = "-".join(name for name, wanted in (("drafts", options.drafts), ("future", options.future)) if wanted)
    return root / ".pipeline" / variant if variant else root / ".pipeline"


def base_keys(root: Path, code: str) -> dict[str, str]:
    """What every cached result of a kind depends on besides its article."""
    settings = [(root / name).read_bytes() if (root / name).is_file() else b"" for name in
                ("content/site.yaml", "content/compliance.yaml")]
    keys = {"check": cache.digest("check", code, *settings), "markdown": cache.digest("markdown", code, settings[0]),
            blog.CARD: cache.digest(blog.CARD, code)}
    for name in [channel.NAME for channel in CHANNELS if channel is not blog]:
        keys[name] = cache.digest(name, code, *settings, cache.folder_digest(root / "templates" / name))
    # The blog's pages and the report's page and sections each by the templates they can use
    # (see templating.page_digests).
    for name, pages in ((blog.NAME, blog.PAGES), (REPORT, REPORT_PAGES)):
        for page, folder_key in page_digests(root / "templates" / name, pages).items():
            keys[f"{name}:{page}"] = cache.digest(name, page, code, *settings, folder_key)
    return keys


UNIT_WINDOW = 64  # articles per window of workers: two windows' outputs are held until written
BATCH = 1024  # site-wide artifacts checked (in parallel) and written together; bounds what is held in memory
STAGES = ("Reading articles", "Rendering articles", "Rendering site pages", "Checking compliance")


def _run(root: Path, options: Options, out: Path | None, records: Records, last: LastOutput | None,
         later: Later, checking: bool = False) -> BuildResult:
    report = options.progress or (lambda stage, done, total: None)
    findings = FindingList()
    report(STAGES[0], 0, len(STAGES))
    dates: list[datetime] = []
    site = load_site(root, options, findings, dates, records)
    # Images before the channels: their pages show each image's files and sizes.
    # (A build with drafts or future articles, the preview's, leaves the store's other files be.)
    images, statics, derived = prepare_images(site, blog.static_files(root),
                                              root / ".pipeline" / "images" if options.cache else None,
                                              prune=not (options.drafts or options.future))
    site = replace(site, images=images)
    cache.use_site(site)
    findings.extend(images.findings)
    sink = _Sink(site, records, writing=out is not None, checking=checking)
    # The publishing clock's events (every article's date, post slots and first week: 0.1 s at
    # 5,000 articles) depend on nothing else: made in a forked process while this one builds.
    clock = Background(lambda: clock_events(site, dates), fork=jobs() > 1)
    # Likewise the blog's listing pages, sitemap and robots.txt: keyed, and those whose keys
    # moved rendered, while this process renders the articles (0.2 s at 5,000 articles).
    known = records.outputs
    ahead = Background(lambda: pages_ahead(site, {path: record.key for path, record in known.items()}),
                       fork=jobs() > 1)
    try:
        report(STAGES[1], 1, len(STAGES))
        context = article_stage.context(site, sink.lookup)
        keys = article_stage.keys(context)
        records.read_units()
        if out is not None:
            # Only now: the staging folder needs the survey of the output trees (a forked process
            # started with the build, see LastOutput), which on a slow machine outlasted reading
            # the sources (0.1-0.3 s of waiting at 5,000 articles); keying the articles and
            # reading their records first gives it that time. (Its sets, made after the helpers
            # were forked, are not shared with them either: see records.Records.units.)
            with no_collection():
                sink.staging = Staging(out, root, last, later)
        made = sink.articles(context, keys)
        give_back()
        report(STAGES[2], 2, len(STAGES))
        sink.planned(pages_from(site, ahead.result()))
        sink.planned(blog.static_outputs(statics))
        sink.planned(images.outputs(derived))
        sink.planned([([(path, feed.reads(site)) for path in feed.PATHS], lambda: feed.render(site))])
        social_outputs, past, schedule_notes = social.site_outputs(site, [(a, r.posts_digest, r.platforms, lambda r=r: r.unpack()[2])
                                                          for a, r in zip(site.articles, made)])
        sink.planned(social_outputs, check=False)  # their posts were checked with their article
        sink.findings += past
        if options.digest_since is not None:
            sink.planned([([], lambda: digest(site, options.digest_since, options.digest_until))])
        sink.site_results()
        give_back()
        report(STAGES[3], 3, len(STAGES))
        findings.extend(check_links(site, sink.artifacts.field("path")) + sink.findings)
        report("Done", len(STAGES), len(STAGES))
        if options.strict:
            findings.items = [_strict(f) for f in findings.items]
        findings.raise_if_errors()
        ordered = sorted(findings.items, key=Finding.sort_key)
        kept = records if records.path is not None else None
        last_report = sink.staging.open_last("report.html", records.layout_sha) \
            if sink.staging is not None and kept is not None else None
        try:
            report, pieces, same = assemble(report_of(site, ordered, made, sink.checks), kept, last_report)
            # The last report is kept, not written again, when this build's is the same bytes (at
            # 5,000 articles 20 MB: 0.06-0.08 s of a one-article rebuild).
            report_sha = sink.stream(report, pieces, written=records.layout_sha if same else "")
        finally:
            if last_report is not None:
                last_report.close()
        give_back()
        changes = written = folders = None
        if sink.staging is not None:
            records.new_layout_sha = report_sha
            changes = sink.staging.commit()
            written = sink.staging.staged
            folders = sink.staging.folders_left
    except BaseException:
        clock.close()
        ahead.close()
        if sink.staging is not None:
            sink.staging.abort()
        raise
    distinct = len({item.key for item in derived})
    made = [f"images: {images.made} files made, {max(0, distinct - images.made)} reused"] if derived else []
    return BuildResult(site, sink.artifacts, ordered, made, clock_events=clock.result(), schedule=schedule_notes,
                       changes=changes, written=written, written_folders=folders, repeated=tuple(sink.repeated))


class _Sink:
    """Where rendered artifacts go: checked for disclaimers and export rules, then written to the
    staging folder and kept without their content; or, with no staging folder, kept whole in
    memory. With a staging folder, an output whose record matches (same key, bytes still on disk)
    is adopted by hash with its recorded findings and checks instead of being made again."""

    def __init__(self, site: Site, records: Records, writing: bool, checking: bool = False):
        """`writing`: the build has an output folder, whose Staging is set as `staging` before
        the articles are made (see _run)."""
        self.site, self.records = site, records
        self.staging: Staging | None = None
        self.checking = checking   # see run: records taken without their files, artifacts kept without content
        self.paths = PathCheck() if not writing else None   # else the staging folder's
        self.lookup = artifact_lookup(site)
        self.artifacts = Artifacts()
        self.findings: list[Finding] = []
        self.repeated: list[Finding] = []   # the findings of articles adopted from their records
        self.checks: list[Check] = []   # of the site-wide outputs (an article's own are in its record)
        self._batch: list = []   # (artifact, key, slot, check) made and not yet checked
        self._slots: list = []   # per site-wide group: its [(findings, checks)]

    def _adopted(self, outputs) -> bool:
        """Stage outputs an earlier build wrote, if their bytes are all still on disk (when
        checking, nothing is staged: a record stands for its outputs' findings on its own)."""
        if self.checking:
            self._refuse(self.paths.known_problems(outputs))
        elif self.staging is None or not self.staging.adopt_all(outputs):
            return False
        self.artifacts.adopt(outputs)
        return True

    def articles(self, context, keys: list[str]) -> list[UnitRecord]:
        """Every article's own outputs, in the order of site.articles; their records. `keys`:
        article_stage.keys(context)."""
        site, records = self.site, self.records
        made: list = [None] * len(site.articles)
        todo = []
        for index, article in enumerate(site.articles):
            record = records.units.get(article.source)
            if record is not None and record.key == keys[index] and self._adopted(record.outputs):
                made[index] = record
                records.hits += 1
                cache.current().used.extend(record.cache_keys)   # the cache keeps what the record stands for
            else:
                todo.append(index)
                if record is not None:   # superseded: not held beside its successor (a template edit
                    records.units[article.source] = None   # renders them all: 40 MB at 5,000)
                    cache.current().dropped += record.cache_keys   # and the cache keeps them only if used
        failed = []
        for index, result in zip(todo, imap_ordered(article_stage.make, todo, context, window=UNIT_WINDOW)):
            if result.failed:
                failed += result.findings
                continue
            outputs = []
            for artifact in result.artifacts:
                outputs.append(output(artifact))
                self._put(artifact)
            made[index] = UnitRecord.of(keys[index], tuple(outputs), result.findings, result.checks, result.claims,
                                        result.posts, result.cache_keys)
        if failed:
            raise PipelineError(sorted(failed, key=Finding.sort_key))
        rendered = set(todo)
        for index, (article, record) in enumerate(zip(site.articles, made)):
            records.new_units[article.source] = record
            self.findings += record.findings
            if index not in rendered:
                self.repeated += record.findings
        return made

    def planned(self, groups, check: bool = True) -> None:
        """Site-wide outputs: ([(path, what it shows)], make) pairs, what it shows declared
        (model.Reads) or already a key; adopted when every path's record has that key and its
        bytes are on disk, else made and checked. Findings and checks are kept in the order of
        the groups, however each was had."""
        for declared, make in groups:
            pairs = [(path, cache.key(shown) if isinstance(shown, Reads) else shown) for path, shown in declared]
            slot: list = []
            self._slots.append(slot)
            old = [self.records.outputs.get(path) for path, _ in pairs]
            if pairs and all(r is not None and k is not None and r.key == k for r, (_, k) in zip(old, pairs)) \
                    and self._adopted([r.output for r in old]):
                self.records.hits += 1
                for record in old:
                    slot.append((record.findings, record.checks))
                    self.records.new_outputs[record.output[0]] = record
                continue
            keys = dict(pairs)
            for artifact in make():
                self._batch.append((artifact, keys.get(artifact.path), slot, check))
            if len(self._batch) >= BATCH:
                self.flush()

    def flush(self) -> None:
        """Check the made site-wide artifacts (in parallel) and write them. Findings are kept with
        each artifact's record, so an adopted output brings them back: its disclaimer checks (when
        `check`) and, for a scheduling export, Hootsuite's rules."""
        batch, self._batch = self._batch, []
        readable = [artifact for artifact, _, _, check in batch if artifact.for_readers and check]
        results = dict(zip((a.path for a in readable), map_ordered(check_made, readable, (self.site, self.lookup),
                                                                       probe=False)))
        for artifact, key, slot, _ in batch:
            found, checked = results.get(artifact.path, ((), ()))
            found = tuple(found) + tuple(check_exports(self.site, [artifact]))
            slot.append((found, checked))
            if key is not None:
                self.records.new_outputs[artifact.path] = OutputRecord(key, output(artifact), found, tuple(checked))
            self._put(artifact)

    def site_results(self) -> None:
        """Add the site-wide outputs' findings and checks, in order."""
        self.flush()
        for slot in self._slots:
            for found, checked in slot:
                self.findings += found
                self.checks += checked
        self._slots = []

    def stream(self, artifact: Artifact, pieces: Iterable[bytes], written: str = "") -> str:
        """Write an artifact that needs no check (the report) from its content in pieces; or,
        given the hash of those bytes as an earlier build `written` them, adopt its file if that
        is still on disk. Returns the hash of its content."""
        if not (written and self._adopted([output(artifact.without_content(written))])):
            self._stream(artifact, pieces)
        return self.artifacts[-1].sha256

    def _stream(self, artifact: Artifact, pieces: Iterable[bytes]) -> None:
        if self.staging is not None:
            self.staging.add_pieces(artifact, pieces)
            self.artifacts.append(artifact.without_content(self.staging.staged[artifact.path][0]))
        elif self.checking:   # rendered (a template error shows), hashed, not held
            self._refuse(self.paths.problems(artifact))
            digest = hashlib.sha256()
            for piece in pieces:
                digest.update(piece)
            self.artifacts.append(artifact.without_content(digest.hexdigest()))
        else:
            self._put(replace(artifact, content=b"".join(pieces)))

    def _put(self, artifact: Artifact) -> None:
        if self.staging is not None:
            self.staging.add(artifact)
            artifact = artifact.without_content()
        else:   # the paths a build would refuse, refused here too
            self._refuse(self.paths.problems(artifact))
            if self.checking:
                artifact = artifact.without_content()
        self.artifacts.append(artifact)

    @staticmethod
    def _refuse(problems) -> None:
        problems = list(problems)
        if problems:
            raise PipelineError(problems)


def clock_events(site: Site, dates: list[datetime]) -> tuple[float, ...]:
    """Every reading of the publishing clock (POSIX time, sorted) at which some output would
    change: an article's date (it gets published), a post's slot minus the lead time (it leaves
    the exports) and the end of an article's first week (the social-past warning stops)."""
    events = {moment.timestamp() for moment in dates}
    events.update(social.clock_events(site))
    events.update((article.date + RECENT).timestamp() for article in site.articles)
    return tuple(sorted(events))


def digest(site: Site, since: datetime, until: datetime | None) -> list:
    tz = site.config.tz
    since = since if since.tzinfo else since.replace(tzinfo=tz)
    until = site.now if until is None else (until if until.tzinfo else until.replace(tzinfo=tz))
    until = min(until, site.now)
    return newsletter.render_digest(site, since, until, until.astimezone(tz).date().isoformat())


def _strict(finding: Finding) -> Finding:
    if finding.is_warning:
        return finding.replace(severity="error")
    return finding

