"""The compliance report (output/report.html): per article and channel, which disclaimers were
required and found, the health claims with their evidence, and every finding, accepted ones too."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from markupsafe import Markup

from pipeline import cache
from pipeline.compliance.checker import Check, Claim
from pipeline.errors import Finding
from pipeline.model import Artifact, Site
from pipeline.templating import make_environment, render

NAME = "report"


def render_report(site: Site, findings: list[Finding], claims: list[Claim], checks: list[Check],
                  sections: tuple[dict, dict, dict] | None = None) -> Artifact:
    """`sections`: the last build's article sections (source -> (key, html)), where this build's
    go (see pipeline.records), and per source a key for everything its checks and claims depend
    on; without, sections come from the build cache."""
    env = make_environment(Path(site.root), NAME)
    by_article = defaultdict(lambda: defaultdict(list))
    sitewide = defaultdict(list)
    for check in checks:
        if check.article:
            by_article[check.article][check.channel].append(check)
        else:
            sitewide[check.channel].append(check)
    claims_by_source, findings_by_source = defaultdict(list), defaultdict(list)
    for claim in claims:
        claims_by_source[claim.article].append(claim)
    for finding in findings:
        findings_by_source[finding.location.path].append(finding)
    articles = []
    build_cache = cache.current()
    for article in site.articles:
        entry = {
            "article": article,
            "url": site.config.url(article.path),
            "channels": dict(sorted(by_article[article.slug].items())),
            "claims": claims_by_source[article.source],
            "findings": findings_by_source[article.source],
        }
        # Each article's section depends on nothing else: a rebuild renders only the changed ones.
        if sections is None:
            key = cache.digest(build_cache.keys.get(NAME), cache.article_digest(article), entry["url"],
                               entry["channels"], entry["claims"], entry["findings"])
            html = build_cache.memo(NAME, key, lambda e=entry: render(env, "article.html", entry=e))
        else:
            old, new, basis = sections
            key = cache.digest(build_cache.keys.get(NAME), cache.article_digest(article), entry["url"],
                               basis[article.source], entry["findings"])
            known = old.get(article.source)
            html = known[1] if known is not None and known[0] == key else render(env, "article.html", entry=entry)
            new[article.source] = (key, html)
        entry["html"] = Markup(html)
        articles.append(entry)
    sources = {a.source for a in site.articles}
    other = [f for f in findings if f.location.path not in sources]
    totals = {
        "checks": len(checks),
        "found": sum(1 for c in checks if c.found),
        "errors": sum(1 for f in findings if f.is_error),
        "warnings": sum(1 for f in findings if f.severity == "warning" and f.accepted is None),
        "accepted": sum(1 for f in findings if f.accepted is not None),
        "claims": len(claims),
        "substantiated": sum(1 for c in claims if c.substantiated),
    }
    html = render(env, "report.html", site=site.config, built=site.build_time, articles=articles,
                  sitewide=dict(sorted(sitewide.items())), other=other, totals=totals, rules=site.rules)
    return Artifact("report.html", html.encode("utf-8"), NAME, "text/html", for_readers=False)
