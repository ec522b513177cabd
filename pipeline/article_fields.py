"""Sources stage: the fields an article's front matter may hold, each with its validator and
docstring, and one source file parsed and validated against them (_Parsed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from pipeline.errors import FindingList, Location
from pipeline.frontmatter import SplitSource, split_front_matter
from pipeline.model import ARTICLE_KINDS, PLATFORMS, SiteConfig
from pipeline.schema import (BOOLEAN, one_of, DATE, Field, Invalid, Kind, ListOf, Schema, Validator, line, matching,
                             text)
from pipeline.slugs import reserved_reason, slugify
from pipeline.textfile import decode_text
from pipeline.yamldoc import YamlDoc, parse_yaml

POSTS_DIR = "content/posts"   # where the articles are: every _Parsed.rel starts with it
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
        # leading slash or not: every channel joins it to the site's address, which may end in a
        # path (an email's lead image too, never the domain's root).
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
