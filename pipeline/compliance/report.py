"""The compliance report (output/report.html), a review sheet a clinician signs: per article, its
status, the health claims with their evidence, each finding once with the outputs it affects and
the front matter that would clear it, and (folded) every required disclaimer found, per channel.

Pure: what each article's section shows (Section), a section rendered, and the page rendered
around a numbered marker per section; which sections an earlier build's report already holds is
for the incremental build to say (pipeline.incremental.report_sections)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from markupsafe import Markup

from pipeline.compliance.checker import Check
from pipeline.compliance.sheet import sheet, status
from pipeline.errors import Finding, count_findings
from pipeline.model import Article, Site
from pipeline.templating import make_environment, render

NAME = "report"
PAGES = ("report.html", "article.html")   # the page, and each article's section
SECTION = f"{NAME}:article.html"          # the kind of output of a section (its template)
MARKER = re.compile("\x00([0-9]+)\x00")   # where the page takes section number N: \x00N\x00


@dataclass(frozen=True)
class Section:
    """An article's section: the article, its address, its findings and the checks of site-wide
    outputs about it; `record` is the article's records.UnitRecord (its own outputs' checks, its
    claims), unpacked only when the section is rendered."""

    article: Article
    url: str
    findings: list
    extra: list
    record: object = field(repr=False)
    claim_rules: frozenset = frozenset()

    def entry(self) -> dict:
        """What the section's template is given."""
        checks, claims, _ = self.record.unpack()
        checks = list(checks) + self.extra
        channels = defaultdict(list)
        for check in checks:
            channels[check.channel].append(check)
        return {"article": self.article, "url": self.url, "channels": dict(sorted(channels.items())),
                "checks": len(checks), "claims": list(claims), "findings": self.findings,
                "sheet": sheet(checks, list(claims), self.findings, self.article, self.claim_rules)}


@dataclass(frozen=True)
class Report:
    """Everything the report shows: its sections, in the order of site.articles, and how to
    render one and the page around them."""

    site: Site
    sections: list[Section]
    render_section: Callable[[dict], str]   # a section from its Section.entry()
    page: str   # the page, with MARKER where each section goes


def report(site: Site, findings: list[Finding], made: list, site_checks: list[Check]) -> Report:
    """`made`: per article of site.articles, its records.UnitRecord; `site_checks`: the checks of
    the site-wide outputs."""
    env = make_environment(Path(site.root), NAME)
    extra, sitewide = defaultdict(list), defaultdict(list)
    for check in site_checks:
        if check.article:
            extra[check.article].append(check)
        else:
            sitewide[check.channel].append(check)
    findings_by_source = defaultdict(list)
    for finding in findings:
        findings_by_source[finding.path].append(finding)
    claim_rules = frozenset(rule.id for rule in site.rules.claims)
    counts = [len(site_checks), sum(1 for c in site_checks if c.found), 0, 0]
    sections, articles = [], []
    for article, record in zip(site.articles, made):
        counts = [total + own for total, own in zip(counts, record.counts)]
        found_here = findings_by_source[article.source]
        sections.append(Section(article, site.config.url(article.path), found_here, extra[article.slug], record,
                                claim_rules))
        # The page is rendered around a numbered marker per section; sections are spliced in as
        # bytes (a report of thousands of articles is never held twice as text).
        articles.append({"article": article, "html": Markup(f"\x00{len(articles)}\x00"), "status": status(found_here),
                         "slug": article.slug, "title": article.title, "date": article.date.strftime("%Y-%m-%d")})
    sources = {a.source for a in site.articles}
    counted = count_findings(findings)
    totals = {
        "checks": counts[0],
        "found": counts[1],
        "errors": counted.errors,
        "warnings": counted.warnings,
        "accepted": counted.accepted,
        "claims": counts[2],
        "substantiated": counts[3],
    }
    page = render(env, "report.html", site=site.config, built=site.build_time, articles=articles,
                  sitewide=dict(sorted(sitewide.items())), other=[f for f in findings if f.path not in sources],
                  totals=totals, rules=site.rules)
    return Report(site, sections, lambda entry: render(env, "article.html", entry=entry), page)
