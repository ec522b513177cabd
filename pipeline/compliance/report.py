"""The compliance report (output/report.html), a review sheet a clinician signs: per article, its
status, the health claims with their evidence, each finding once with the outputs it affects and
the front matter that would clear it, and (folded) every required disclaimer found, per channel."""

from __future__ import annotations

import os
import re
import zlib
from collections import defaultdict
from operator import is_
from pathlib import Path
from typing import Iterator

from markupsafe import Markup

from pipeline.incremental import cache
from pipeline.compliance.checker import Check
from pipeline.compliance.sheet import sheet, status
from pipeline.errors import Finding
from pipeline.model import Artifact, Site
from pipeline.incremental.records import findings_digest
from pipeline.templating import make_environment, render

NAME = "report"
PAGES = ("report.html", "article.html")   # the page, and each article's section
SECTION = f"{NAME}:article.html"          # the build cache's base key of the sections


def render_report(site: Site, findings: list[Finding], made: list, site_checks: list[Check],
                  records=None, last=None) -> tuple[Artifact, Iterator[bytes], bool]:
    """`made`: per article of site.articles, its records.UnitRecord (its own outputs' checks and
    its claims); `site_checks`: the checks of the site-wide outputs. `records` (pipeline.incremental.records.
    Records): the last build's article sections and where this build's go, so a section whose
    article and findings are unchanged is neither unpacked nor rendered, only copied into place
    (from `last`, the last build's report.html opened for reading, at the place the records'
    layout says, when given; else from the records); without, sections come from the build cache.
    Returns the artifact without its content, the content in pieces, to be written (or joined)
    one piece at a time (the report of 5,000 articles is about 20 MB), and whether those bytes
    are the last report's (`last`), page and sections alike, in the same order: then the file can
    be kept as it is, unwritten. records.new_layout gets where each section is in them."""
    env = make_environment(Path(site.root), NAME)
    extra = defaultdict(list)
    sitewide = defaultdict(list)
    for check in site_checks:
        if check.article:
            extra[check.article].append(check)
        else:
            sitewide[check.channel].append(check)
    findings_by_source = defaultdict(list)
    for finding in findings:
        findings_by_source[finding.path].append(finding)
    articles = []
    # Per article: its html (UTF-8, compressed: sections repeat, and a report of 5,000 articles
    # holds about 20 MB of them), or (its source,) when the last build's is kept.
    sections: list = []
    build_cache = cache.current()
    counts = [len(site_checks), sum(1 for c in site_checks if c.found), 0, 0]
    claim_rules = {rule.id for rule in site.rules.claims}
    for article, record in zip(site.articles, made):
        counts = [total + own for total, own in zip(counts, record.counts)]
        url = site.config.url(article.path)
        found_here = findings_by_source[article.source]

        def entry(article=article, record=record, url=url, found_here=found_here) -> dict:
            checks, claims, _ = record.unpack()
            checks = list(checks) + extra[article.slug]
            channels = defaultdict(list)
            for check in checks:
                channels[check.channel].append(check)
            return {"article": article, "url": url, "channels": dict(sorted(channels.items())),
                    "checks": len(checks), "claims": list(claims), "findings": found_here,
                    "sheet": sheet(checks, list(claims), found_here, article, claim_rules)}

        # Each article's section depends on nothing else: a rebuild renders only the changed ones.
        if records is None:
            shown = entry()
            key = cache.digest(build_cache.keys.get(SECTION), cache.article_digest(article), url, shown["channels"],
                               shown["claims"], found_here)
            html = build_cache.memo(NAME, key, lambda e=shown: render(env, "article.html", entry=e))
            sections.append((article.source, zlib.compress(html.encode("utf-8"), 1)))
        else:
            # everything the section shows: the article, its checks and claims, its findings.
            # Those are most often the very findings of its record (the same objects, in the
            # same order), whose digest the record holds; else they are hashed here.
            own = record.findings
            shown = record.findings_digest if len(own) == len(found_here) and all(map(is_, own, found_here)) \
                else findings_digest(found_here)
            key = cache.digest(build_cache.keys.get(SECTION), cache.article_digest(article), url, record.checks_digest,
                               extra[article.slug], shown)
            if records.section_keys.get(article.source) == key:
                records.new_sections[article.source] = (key, None)
                sections.append((article.source, None))
            else:
                html = zlib.compress(render(env, "article.html", entry=entry()).encode("utf-8"), 1)
                records.new_sections[article.source] = (key, html)
                sections.append((article.source, html))
        # The page is rendered around a numbered marker per section; sections are spliced in as
        # bytes (a report of thousands of articles is never held twice as text).
        articles.append({"article": article, "html": Markup(f"\x00{len(articles)}\x00"), "status": status(found_here)})
    sources = {a.source for a in site.articles}
    other = [f for f in findings if f.path not in sources]
    totals = {
        "checks": counts[0],
        "found": counts[1],
        "errors": sum(1 for f in findings if f.is_error),
        "warnings": sum(1 for f in findings if f.is_warning),
        "accepted": sum(1 for f in findings if f.accepted is not None),
        "claims": counts[2],
        "substantiated": counts[3],
    }
    page = render(env, "report.html", site=site.config, built=site.build_time, articles=articles,
                  sitewide=dict(sorted(sitewide.items())), other=other, totals=totals, rules=site.rules)

    layout = records.layout if records is not None and last is not None else {}
    placed: dict = {}

    def kept(source: str) -> bytes:
        """A section the last build made: read from its report where the layout places it (a
        read of a few KB), else unpacked from the records."""
        where = layout.get(source)
        if where is not None:
            data = os.pread(last.fileno(), where[1], where[0])
            if len(data) == where[1]:
                return data
        return zlib.decompress(records.section(source))

    def pieces() -> Iterator[bytes]:
        at = 0
        for index, piece in enumerate(_MARKER.split(page)):   # text, section number, text, ...
            if index % 2 == 0:
                data = piece.encode("utf-8")
            else:
                source, html = sections[int(piece)]
                data = kept(source) if html is None else zlib.decompress(html)
                placed[source] = (at, len(data))
            at += len(data)
            yield data
        if records is not None:
            records.new_layout = placed

    same = False
    if records is not None:
        records.new_layout_page = cache.digest(page)
        same = last is not None and records.new_layout_page == records.layout_page and \
            _as_written(sections, layout, kept)
        if same:
            records.new_layout = layout
    return Artifact("report.html", b"", NAME, "text/html", for_readers=False), pieces(), same


def _as_written(sections: list, layout: dict, kept) -> bool:
    """Are these sections ((source, html compressed, or None: kept) in order) the last report's,
    in its order and byte for byte? (A section rendered again often is: an edit to an article's
    body that moves none of its findings.)"""
    if len(layout) != len(sections) or sorted(layout, key=layout.__getitem__) != [s for s, _ in sections]:
        return False
    return all(html is None or zlib.decompress(html) == kept(source) for source, html in sections)


_MARKER = re.compile("\x00([0-9]+)\x00")
