"""The stage sequence: config -> rules -> articles -> channels -> links and compliance -> writer."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline import cache
from pipeline.channels import CHANNELS, newsletter, social
from pipeline.compliance.checker import Check, Claim, check_artifacts, check_sources
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


def run(root: Path, options: Options = Options()) -> BuildResult:
    """Everything `build` does except writing. Raises PipelineError with all errors found."""
    build_cache = cache.BuildCache(root if options.cache else None)
    cache.use(build_cache)
    build_cache.keys = base_keys(root)
    try:
        result = _run(root, options)
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


def _run(root: Path, options: Options) -> BuildResult:
    stages = ["Reading articles"] + [f"Rendering {channel.NAME}" for channel in CHANNELS] + ["Checking compliance"]
    report = options.progress or (lambda stage, done, total: None)
    set_jobs(options.jobs)
    findings = FindingList()
    report(stages[0], 0, len(stages))
    dates: list[datetime] = []
    site = load_site(root, options, findings, dates)
    artifacts = []
    for index, channel in enumerate(CHANNELS, start=1):
        report(stages[index], index, len(stages))
        artifacts += channel.render(site)
    if options.digest_since is not None:
        artifacts += digest(site, options.digest_since, options.digest_until)
    report(stages[-1], len(stages) - 1, len(stages))
    findings.extend(check_links(site.articles, artifacts, site.config))
    source_findings, claims = check_sources(site)
    artifact_findings, checks = check_artifacts(site, artifacts)
    findings.extend(source_findings + artifact_findings + check_exports(site, artifacts))
    report("Done", len(stages), len(stages))
    if options.strict:
        findings.items = [_strict(f) for f in findings.items]
    findings.raise_if_errors()
    ordered = sorted(findings.items, key=Finding.sort_key)
    artifacts.append(render_report(site, ordered, claims, checks))
    return BuildResult(site, artifacts, ordered, claims, checks, clock_events=clock_events(site, dates))


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

