"""The stage sequence: config -> rules -> articles -> channels -> links and compliance -> writer."""

from __future__ import annotations

import os
from functools import partial
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline.incremental import cache, store
from pipeline import article_stage
from pipeline.channels import CHANNELS, blog, feed, newsletter, schedule, social
from pipeline.compliance.exports import RECENT
from pipeline.compliance.report import NAME as REPORT, PAGES as REPORT_PAGES, report as report_of
from pipeline.incremental.report_sections import assemble
from pipeline.incremental.sink import Sink
from pipeline.compliance.rules import load_rules
from pipeline.config import load_config
from pipeline.errors import Finding, FindingList, PipelineError
from pipeline.incremental.saves import Later, take_notes, wait
from pipeline.images import prepare_images
from pipeline.links import check_links
from pipeline.incremental.memory import give_back, no_collection, quieter_collector
from pipeline.model import Site, SiteConfig, Tag
from pipeline.options import Options
from pipeline.parallel import Background, jobs, set_jobs
from pipeline.incremental.records import Artifacts, Damaged, Records
from pipeline.incremental.work import Work
from pipeline.limits import check_limits
from pipeline.sources import load_articles
from pipeline.templating import page_digests
from pipeline.writer.lastoutput import LastOutput
from pipeline.writer.staging import Changes, Staging


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
                                             # inode] (updated by the saves: see writer.spare._catch_up)
    written_folders: dict | None = None      # and every folder ("" the tree) -> (mtime_ns, ctime_ns), or
                                             # None where the writer did not stamp it (see pipeline.incremental.survey)
    repeated: tuple = ()                     # those of `findings` taken from the last build's records (of
                                             # articles it did not render again), as opposed to made by it
    work: Work = Work()                      # what it did, and what it took from earlier builds instead


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
    artifacts are kept without their content (a check never holds the whole site's content in
    memory, as a build without `out` otherwise would). `last`: LastOutput(out, root) made by the
    caller, its survey started (after waiting for the saves of the build before); else made here."""
    try:
        check_limits()
    except PipelineError:
        if last is not None:   # (the caller's survey, started: closed whichever way the build ends)
            last.close()
        raise
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
            parts = [part for part in (build_cache.saving(), None if checking else records.saving()) if part]
            if parts:   # the store's parts in one transaction
                saves.add(partial(store.save, store.path(state), parts, build_cache.notes), notes=build_cache.notes)
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
    sink = Sink(site, records, writing=out is not None, checking=checking)
    # The publishing clock's events (every article's date, post slots and first week: linear in
    # the site) depend on nothing else: made in a forked process while this one builds.
    clock = Background(lambda: clock_events(site, dates), fork=jobs() > 1)
    try:
        report(STAGES[1], 1, len(STAGES))
        context = article_stage.context(site, sink.lookup)
        keys = article_stage.keys(context)
        records.read_units()
        if out is not None:
            # Only now: the staging folder needs the survey of the output trees (a forked process
            # started with the build, see LastOutput), which can outlast reading the sources;
            # keying the articles and reading their records first gives it that time. (Its sets,
            # made after the helpers were forked, are not shared with them either: see
            # records.Records.units.)
            with no_collection():
                sink.staging = Staging(out, root, last, later)
        made = sink.articles(context, keys)
        give_back()
        report(STAGES[2], 2, len(STAGES))
        sink.planned(blog.site_pages(site))
        sink.planned(blog.static_outputs(statics))
        sink.planned(images.outputs(derived))
        sink.planned([([(path, feed.reads(site)) for path in feed.PATHS],
                      lambda: feed.render(site, [site.whole(a) for a in feed.items(site)]))])
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
            # The last report is kept, not written again, when this build's is the same bytes (it
            # grows with the site: writing it would be a noticeable part of a one-article rebuild).
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
        if sink.staging is not None:
            sink.staging.abort()
        raise
    distinct = len({item.key for item in derived})
    made = [f"images: {images.made} files made, {max(0, distinct - images.made)} reused"] if derived else []
    work = Work.of(cache.current().done, articles=len(site.articles), articles_rendered=tuple(sink.rendered),
                   sources=len(records.new_sources), sources_parsed=tuple(
                       name for name in records.new_sources if records.sources.get(name) is None),
                   site_files_made=tuple(sink.made), site_files_reused=sink.reused, report_written=sink.streamed,
                   files_linked=len(sink.staging.linked) if sink.staging is not None else 0)
    return BuildResult(site, sink.artifacts, ordered, made, clock_events=clock.result(), schedule=schedule_notes,
                       changes=changes, written=written, written_folders=folders, repeated=tuple(sink.repeated),
                       work=work)


def clock_events(site: Site, dates: list[datetime]) -> tuple[float, ...]:
    """Every reading of the publishing clock (POSIX time, sorted) at which some output would
    change: an article's date (it gets published), a post's slot minus the lead time (it leaves
    the exports) and the end of an article's first week (the social-past warning stops)."""
    events = {moment.timestamp() for moment in dates}
    events.update(schedule.clock_events(site))
    events.update((article.date + RECENT).timestamp() for article in site.articles)
    return tuple(sorted(events))


def digest(site: Site, since: datetime, until: datetime | None) -> list:
    tz = site.config.tz
    since = since if since.tzinfo else since.replace(tzinfo=tz)
    until = site.now if until is None else (until if until.tzinfo else until.replace(tzinfo=tz))
    until = min(until, site.now)
    chosen = [site.whole(a) for a in newsletter.digest_articles(site, since, until)]
    return newsletter.render_digest(site, chosen, until, until.astimezone(tz).date().isoformat())


def _strict(finding: Finding) -> Finding:
    if finding.is_warning:
        return finding.replace(severity="error")
    return finding

