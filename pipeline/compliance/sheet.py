"""An article's part of the compliance report as a review sheet: each finding once (one problem
seen in several outputs names them all), health claims with the finding each raised, missing
disclaimers by disclaimer, and the front matter that would clear what the author can clear there,
as example YAML. Made from the article's checks, claims and findings alone (its report section is
cached on exactly those)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.citations import Source, source
from pipeline.compliance.checker import MISSING, Check, Claim
from pipeline.errors import ERROR, WARNING, Finding

READY, REVIEW, FIX = "ready", "review", "fix"
_PLACE = re.compile(r"(?P<channel>[a-z]+) output/(?P<output>\S+?)(?: \((?P<unit>[^)]*)\))? (?P<rest>.+)", re.S)


@dataclass(frozen=True)
class Row:
    """One finding as a reviewer reads it: where in the source, how bad, what it says, and the
    outputs it was seen in (empty: the source itself)."""

    line: int | None
    col: int | None
    rule: str | None
    severity: str
    message: str
    accepted: str | None
    places: tuple[str, ...]


@dataclass(frozen=True)
class ClaimRow:
    claim: Claim
    finding: Finding | None   # the warning it raised (None when substantiated and reviewed)
    sources: tuple[Source, ...]   # of the evidence cited for it


def status(findings: list[Finding]) -> str:
    """FIX: an error stands; REVIEW: a warning no one has accepted; else READY."""
    if any(f.is_error for f in findings):
        return FIX
    if any(f.is_warning for f in findings):
        return REVIEW
    return READY


def sheet(checks: list[Check], claims: list[Claim], findings: list[Finding], article, claim_rules: set[str]) -> dict:
    """What an article's section shows (see templates/report/article.html). `claim_rules`: the
    ids of the claim rules, whose warnings front matter may accept."""
    raised = {(f.location.line, f.location.col, f.rule): f for f in findings if f.rule}
    claim_rows = [ClaimRow(c, raised.get((c.location.line, c.location.col, c.rule)), tuple(map(source, c.evidence)))
                  for c in claims]
    shown = {id(row.finding) for row in claim_rows if row.finding is not None}
    rows = _missing(checks) + _grouped([f for f in findings if id(f) not in shown and f.rule != MISSING])
    unsubstantiated = sorted({row.claim.rule for row in claim_rows
                              if row.finding is not None and row.finding.accepted is None})
    to_accept = sorted({r.rule for r in rows if r.rule in claim_rules and r.severity == WARNING
                        and r.accepted is None})
    return {
        "status": status(findings),
        "claims": claim_rows,
        "rows": rows,
        "found": sum(1 for c in checks if c.found),
        "evidence_example": evidence_example(unsubstantiated, has_reviewer=bool(article.reviewed_by))
        if unsubstantiated else None,
        "accept_example": accept_example(to_accept) if to_accept else None,
    }


def _missing(checks: list[Check]) -> list[Row]:
    """A row per required disclaimer missing from any output, naming every place it is missing."""
    places: dict[str, list[str]] = {}
    for check in checks:
        if not check.found:
            where = f"{check.channel}: {check.artifact}" + ("" if check.unit in ("page", "text") else f" ({check.unit})")
            places.setdefault(check.disclaimer, [])
            if where not in places[check.disclaimer]:
                places[check.disclaimer].append(where)
    return [Row(None, None, MISSING, ERROR, f"The required disclaimer “{disclaimer}” is missing. Check that each "
                f"channel's templates still show the disclaimers (templates/<channel>/).", None, tuple(where))
            for disclaimer, where in places.items()]


def _grouped(findings: list[Finding]) -> list[Row]:
    """Findings that say the same thing about the same place in the source, once, with the
    outputs each was seen in."""
    groups: dict[tuple, list[str]] = {}
    for finding in findings:
        message, place = finding.message, None
        match = _PLACE.fullmatch(message) if finding.artifact else None
        if match and match.group("channel") == finding.channel:
            message = match.group("rest")
            place = f"{finding.channel}: {match.group('output')}" + \
                (f" ({match.group('unit')})" if match.group("unit") else "")
        where = finding.location
        if place is None and finding.channel and finding.artifact:
            place = f"{finding.channel}: {finding.artifact.removeprefix('output/')}"
        key = (where.line, where.col, finding.rule, finding.severity, plain(message), finding.accepted)
        seen = groups.setdefault(key, [])
        if place and place not in seen:
            seen.append(place)
    return [Row(line, col, rule, severity, message, accepted, tuple(places))
            for (line, col, rule, severity, message, accepted), places in groups.items()]


def plain(message: str) -> str:
    """A finding's message as a sentence: starts with a capital letter."""
    return message[:1].upper() + message[1:]


def evidence_example(rules: list[str], has_reviewer: bool) -> str:
    """Front matter that substantiates claims of these rules: a source that supports them and,
    unless the article names one, the clinician who reviewed them."""
    lines = ["evidence:",
             "  - citation: 10.xxxx/xxxxx      # the source's DOI, PMID (PMID: 12345678) or URL",
             "    title: Title of the source, as published",
             "    supports: [" + ", ".join(rules) + "]"]
    if not has_reviewer:
        lines += ["reviewed_by: Name, credentials   # the licensed clinician who checked the claims",
                  "reviewed_on: YYYY-MM-DD"]
    return "\n".join(lines)


def accept_example(rules: list[str]) -> str:
    """Front matter that accepts the findings of these rules, each with its reason."""
    lines = ["accept:"]
    for rule in rules:
        lines += [f"  - rule: {rule}", "    reason: Why this wording is accurate here, for the reviewer"]
    return "\n".join(lines)
