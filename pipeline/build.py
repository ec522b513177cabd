"""The stage sequence: config -> rules -> articles -> channels -> links and compliance -> writer."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from pipeline import cache
from pipeline.channels import CHANNELS, newsletter, social
from pipeline.compliance.checker import Check, Claim, artifact_lookup, check_artifacts, check_sources
from pipeline.compliance.exports import RECENT, check_exports
from pipeline.compliance.report import render_report
from pipeline.compliance.rules import load_rules
from pipeline.config import load_config
from pipeline.errors import Finding, FindingList, PipelineError
from pipeline.links import check_links
from pipeline.model import Artifact, Site, SiteConfig, Tag
from pipeline.options import Options
from pipeline.parallel import set_jobs
from pipeline.sources import load_articles
from pipeline.writer import Changes, Staging


@dataclass(frozen=True)
class BuildResult:
    site: Site
    artifacts: list[Artifact]
    findings: list[Finding] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reused: int = 0      # cached results used
    computed: int = 0    # results computed afresh
    clock_events: tuple[datetime, ...] = ()  # publishing-clock readings at which the output changes
    changes: Changes | None = None           # what the swap changed in the output folder, when written


def load_site(root: Path, options: Options, findings: FindingList, dates: list | None = None) -> Site:
    """Config, rules and articles, with every problem of all three reported together. `dates`
    receives every source's date, published or not."""
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
    now = options.now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=config.tz)
    articles = load_articles(root, config, findings, now=now, drafts=options.drafts, future=options.future,
                             dates=dates)
    findings.raise_if_errors()
    return Site(str(root), config, tuple(articles), group_tags(articles), rules, build_time(articles), now)


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


def run(root: Path, options: Options = Options(), out: Path | None = None) -> BuildResult:
    """The build. With `out`, each artifact is written to a staging folder as soon as it is
    rendered and checked (result.artifacts then hold no content) and the folder is swapped in
    for `out` when the whole build is good; without, artifacts stay in memory and nothing is
    written. Raises PipelineError with all errors found (and then writes nothing)."""
    build_cache = cache.BuildCache(root if options.cache else None)
    cache.use(build_cache)
    build_cache.keys = base_keys(root)
    try:
        result = _run(root, options, out)
    finally:
        build_cache.save()
        cache.use(cache.BuildCache(None))
    return replace(result, notes=build_cache.notes, reused=build_cache.hits, computed=build_cache.misses)


def base_keys(root: Path) -> dict[str, str]:
    """What every cached result of a kind depends on besides its article."""
    code = cache.code_digest()
    settings = [(root / name).read_bytes() if (root / name).is_file() else b"" for name in
                ("content/site.yaml", "content/compliance.yaml")]
    keys = {"check": cache.digest("check", code, *settings), "markdown": cache.digest("markdown", code, settings[0])}
    for name in [channel.NAME for channel in CHANNELS] + ["report"]:
        keys[name] = cache.digest(name, code, *settings, cache.folder_digest(root / "templates" / name))
    return keys


BATCH = 1024  # artifacts checked (in parallel) and written together; bounds what is held in memory


def _run(root: Path, options: Options, out: Path | None) -> BuildResult:
    stages = ["Reading articles"] + [f"Rendering {channel.NAME}" for channel in CHANNELS] + ["Checking compliance"]
    report = options.progress or (lambda stage, done, total: None)
    set_jobs(options.jobs)
    findings = FindingList()
    report(stages[0], 0, len(stages))
    dates: list[datetime] = []
    site = load_site(root, options, findings, dates)
    sink = _Sink(site, Staging(out, root) if out is not None else None)
    try:
        for index, channel in enumerate(CHANNELS, start=1):
            report(stages[index], index, len(stages))
            sink.take(channel.render(site))
        if options.digest_since is not None:
            sink.take(digest(site, options.digest_since, options.digest_until))
        report(stages[-1], len(stages) - 1, len(stages))
        findings.extend(check_links(site.articles, sink.artifacts, site.config))
        source_findings, claims = check_sources(site)
        findings.extend(source_findings + sink.findings)
        report("Done", len(stages), len(stages))
        if options.strict:
            findings.items = [_strict(f) for f in findings.items]
        findings.raise_if_errors()
        ordered = sorted(findings.items, key=Finding.sort_key)
        sink.take([render_report(site, ordered, claims, sink.checks)], check=False)
        changes = sink.staging.commit() if sink.staging is not None else None
    except BaseException:
        if sink.staging is not None:
            sink.staging.abort()
        raise
    return BuildResult(site, sink.artifacts, ordered, claims, sink.checks, clock_events=clock_events(site, dates),
                       changes=changes)


class _Sink:
    """Where rendered artifacts go: checked for disclaimers and export rules in batches (in
    parallel), then written to the staging folder and kept without their content; or, with no
    staging folder, kept whole in memory."""

    def __init__(self, site: Site, staging: Staging | None):
        self.site, self.staging = site, staging
        self.lookup = artifact_lookup(site)
        self.artifacts: list[Artifact] = []
        self.findings: list[Finding] = []
        self.checks: list[Check] = []

    def take(self, artifacts: Iterable[Artifact], check: bool = True) -> None:
        for batch in _batches(artifacts, BATCH):
            if check:
                found, checks = check_artifacts(self.site, batch, self.lookup)
                self.findings += found + check_exports(self.site, batch)
                self.checks += checks
            for artifact in batch:
                if self.staging is not None:
                    self.staging.add(artifact)
                    artifact = artifact.without_content()
                self.artifacts.append(artifact)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def clock_events(site: Site, dates: list[datetime]) -> tuple[datetime, ...]:
    """Every reading of the publishing clock at which some output would change: an article's date
    (it gets published), a post's slot minus the lead time (it leaves the exports) and the end of
    an article's first week (the social-past warning stops)."""
    events = set(dates) | set(social.clock_events(site)) | {a.date + RECENT for a in site.articles}
    return tuple(sorted(events))


def digest(site: Site, since: datetime, until: datetime | None) -> list:
    tz = site.config.tz
    since = since if since.tzinfo else since.replace(tzinfo=tz)
    until = site.now if until is None else (until if until.tzinfo else until.replace(tzinfo=tz))
    until = min(until, site.now)
    return newsletter.render_digest(site, since, until, until.astimezone(tz).date().isoformat())


def _strict(finding: Finding) -> Finding:
    if finding.severity == "warning" and finding.accepted is None:
        return replace(finding, severity="error")
    return finding

