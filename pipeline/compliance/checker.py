"""The compliance checks: claim rules over every article's source text, and required disclaimers
over what a reader sees of every rendered artifact."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from pipeline.compliance.extract import Unit, units
from pipeline.compliance.matching import Haystack
from pipeline.compliance.rules import ANY, KINDS, Disclaimer
from pipeline.errors import ERROR, WARNING, Finding, Location
from pipeline.model import Article, Artifact, Reads, Site

MISSING = "disclaimer-missing"
UNKNOWN_ACCEPT = "accept-unknown-rule"
UNKNOWN_RULE = "evidence-unknown-rule"
FOOTER_ADDRESS = "footer-address"
FOOTER_UNSUBSCRIBE = "footer-unsubscribe"
EMAIL_HEADERS = "email-headers"
UNTRANSLATED = "disclaimer-language"
UNDECLARED_STORY = "patient-story-undeclared"
STORY_KIND = KINDS[1]


CHECK = "check"   # the kind of the checks' results: the rules and settings are its base key


@dataclass(frozen=True)
class Claim:
    """A health-benefit claim found in an article, and the evidence that substantiates it (if any)."""

    article: str
    rule: str
    phrase: str
    location: Location
    evidence: tuple
    substantiated: bool


@dataclass(frozen=True)
class Check:
    """Disclaimer verification of one unit of one artifact, for the report."""

    artifact: str
    channel: str
    unit: str
    article: str | None
    disclaimer: str
    found: bool


def source_reads(article: Article) -> Reads:
    """What the claim rules read of an article: all of it (with the rules and settings: the
    kind's base key)."""
    return Reads(CHECK, (article,), ("claims",))


def check_source(site: Site, article: Article) -> tuple[list[Finding], list[Claim]]:
    """Claim rules over the article's title, summary, body and every field that ships (`article`
    whole), with exact positions; and its acceptances and evidence checked against the rules."""
    findings: list[Finding] = []
    claims: list[Claim] = []
    known = site.rules.rule_ids()
    accepted = {a.rule: a.reason for a in article.accept}
    for index, acceptance in enumerate(article.accept):
        if acceptance.rule not in known:
            location = article.front.location(("accept", index, "rule"))
            findings.append(Finding(location, f"accept[{index}].rule: no claim rule '{acceptance.rule}' "
                                    f"exists (see `pipeline rules`); disclaimers cannot be accepted away",
                                    ERROR, UNKNOWN_ACCEPT, article.front.source(location)))
    for index, evidence in enumerate(article.evidence):
        for position, rule_id in enumerate(evidence.supports):
            if rule_id not in known:
                keys = ("evidence", index, "supports", position)
                location = article.front.location(keys)
                close = difflib.get_close_matches(rule_id, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else " (see `pipeline rules`)"
                findings.append(Finding(location, f"evidence[{index}].supports: no claim rule '{rule_id}'"
                                        f"{hint}", ERROR, UNKNOWN_RULE, article.front.source(location)))
    for disclaimer in site.rules.untranslated(article):
        lang = site.rules.lang(article)
        location = article.front.location(("lang",)) if article.front.node(("lang",)) else Location(article.source, 1)
        findings.append(Finding(location, f"disclaimer '{disclaimer.id}' applies to this article but has no text in "
                                f"its language '{lang}' (it has {', '.join(_named(disclaimer.languages()))}); add "
                                f"`{lang}:` to its `text:` and `short:` in content/compliance.yaml",
                                ERROR, UNTRANSLATED, article.front.source(location)))
    story_tags = {t for d in site.rules.disclaimers if STORY_KIND in d.kinds for t in d.tags}
    if article.kind != STORY_KIND and not story_tags & {t.slug for t in article.tags}:
        story = site.rules.engine.story(article)
        if story is not None:
            location = Location(article.source, story.line, story.col)
            findings.append(Finding(location, f"this reads like a patient story (\"{story.text}\"); if it is one, "
                                    f"declare it with `kind: {STORY_KIND}` in the front matter so it carries the "
                                    f"testimonial disclosure", WARNING, UNDECLARED_STORY,
                                    article.lines[story.line - 1]))
    rules = {r.id: r for r in site.rules.claims}
    for hit in site.rules.engine.claims(article):
        rule, phrase = rules[hit.rule], hit.text
        location, line = Location(article.source, hit.line, hit.col), article.lines[hit.line - 1]
        if rule.substantiate:
            evidence = tuple(e for e in article.evidence if rule.id in e.supports)
            substantiated = bool(evidence and article.reviewed_by)
            claims.append(Claim(article.source, rule.id, phrase, location, evidence, substantiated))
            if substantiated:
                continue
        message = rule.message.replace("{match}", phrase)
        if rule.suggest:
            message += f"; say \"{rule.suggest}\""
        if rule.substantiate:
            message += (" (cite evidence with `evidence: [{citation, title, supports: [" + rule.id
                        + "]}]` and name `reviewed_by`)")
        findings.append(Finding(location, message, rule.level, rule.id, line, accepted=accepted.get(rule.id)))
    return findings, claims


def artifact_lookup(site: Site) -> tuple[dict, dict]:
    """The site's articles by URL and by slug, as artifact_reads and check_made need them."""
    return {site.config.url(a.path): a for a in site.articles}, {a.slug: a for a in site.articles}


def artifact_reads(context, artifact: Artifact) -> Reads:
    """What checking an artifact reads: its bytes and the articles it presents (their
    disclaimers), with the rules and settings (the kind's base key)."""
    _, (_, by_slug) = context
    return Reads(CHECK, tuple(by_slug[s] for s in artifact.articles if s in by_slug),
                 (artifact.path, artifact.media_type, artifact.channel, artifact.sha256))


def check_made(context, artifact: Artifact) -> tuple[list[Finding], list[Check]]:
    """Every required disclaimer must be visible in every unit of the artifact (a reader's one);
    every newsletter part must carry the postal address and a working unsubscribe. `context` is
    (site, artifact_lookup(site))."""
    site, (by_url, by_slug) = context
    findings: list[Finding] = []
    checks: list[Check] = []
    for unit in units(artifact):
        seen = Haystack(unit.text)
        presented = [by_slug[s] for s in unit.articles if s in by_slug]
        if unit.article_url in by_url:
            presented = [by_url[unit.article_url]]
        article = presented[0] if len(presented) == 1 else None
        where = Location(article.source) if article else Location(f"output/{artifact.path}")
        for disclaimer in _required(site, artifact.channel, presented):
            expected = disclaimer.short if artifact.channel == "social" else disclaimer.text
            found = expected in seen
            checks.append(Check(artifact.path, artifact.channel, unit.label,
                                article.slug if article else None, disclaimer.id, found))
            if not found:
                findings.append(Finding(
                    where, f"{artifact.channel} {_describe(artifact, unit)} lacks disclaimer "
                    f"'{disclaimer.id}'; check templates/{artifact.channel}/ still renders the disclaimers",
                    ERROR, MISSING, channel=artifact.channel, artifact=f"output/{artifact.path}"))
        if artifact.channel == "newsletter":
            for rule, problem in email_problems(site, artifact, unit, seen):
                findings.append(Finding(where, f"newsletter {_describe(artifact, unit)} {problem}", ERROR, rule,
                                        channel=artifact.channel, artifact=f"output/{artifact.path}"))
    return findings, checks


def email_problems(site: Site, artifact: Artifact, unit: Unit, seen: Haystack) -> list[tuple[str, str]]:
    """CAN-SPAM and bulk-sender rules for one part of a newsletter (STANDARDS E1, E2, E10, E13, E16).
    `seen`: the unit's text as a Haystack."""
    news = site.config.newsletter
    problems = []
    if site.config.organization.postal_address not in seen:
        problems.append((FOOTER_ADDRESS, "lacks the clinic's postal address (CAN-SPAM); check the footer of "
                         "templates/newsletter/"))
    html_part = artifact.media_type == "text/html" or unit.label == "html part"
    link_ok = news.unsubscribe_url in unit.links if html_part else news.unsubscribe_url in unit.text
    if not link_ok or not re.search(r"\bunsubscribe\b", unit.text, re.I):
        problems.append((FOOTER_UNSUBSCRIBE, "lacks a visible unsubscribe link with a plain-words sentence; check "
                         "the footer of templates/newsletter/"))
    if unit.headers:
        headers: dict[str, list[str]] = {}
        for key, value in unit.headers:
            headers.setdefault(key.lower(), []).append(value)
        for single in ("from", "date", "subject", "message-id"):
            if len(headers.get(single, [])) != 1:
                problems.append((EMAIL_HEADERS, f"must have exactly one {single.title()} header"))
        listed = " ".join(headers.get("list-unsubscribe", []))
        if f"<{news.unsubscribe_url}>" not in listed:
            problems.append((EMAIL_HEADERS, "lacks List-Unsubscribe with the unsubscribe URL"))
        if headers.get("list-unsubscribe-post") != ["List-Unsubscribe=One-Click"]:
            problems.append((EMAIL_HEADERS, "lacks List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
    return problems


def _required(site: Site, channel: str, articles: list[Article]) -> tuple[Disclaimer, ...]:
    if not articles:
        return site.rules.sitewide(channel)
    required: list[Disclaimer] = []
    for article in articles:
        required += [d for d in site.rules.disclaimers_for(article, channel) if d not in required]
    return tuple(required)


def _named(languages: list[str]) -> list[str]:
    return ["the site's language" if lang == ANY else lang for lang in languages]


def _describe(artifact: Artifact, unit: Unit) -> str:
    return f"output/{artifact.path}" + ("" if unit.label in ("page", "text") else f" ({unit.label})")
