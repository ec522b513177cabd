"""Sources stage, in worker processes: a validated source converted into its Article, its Markdown
rendered once and its links to other articles resolved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pipeline.article_fields import POSTS_DIR, _Parsed, _aware
from pipeline.errors import Finding, FindingList, Location, PipelineError, WARNING
from pipeline.markdown import MarkdownRenderer, MarkupTooComplex, strip_raw_html
from pipeline.incremental import cache
from pipeline.model import Acceptance, Article, Evidence, SiteConfig, Tag
from pipeline.incremental.bodies import light
from pipeline.slugs import slugify

if TYPE_CHECKING:
    from pipeline.compliance.rules import Rules
    from pipeline.sources import _Loader

SUMMARY_LENGTH = 200


@dataclass(frozen=True)
class ConversionContext:
    """What converting a parsed source into its Article needs besides the source: the same for
    every article of a build. Worker processes inherit it (see parallel.map_ordered: forked with
    it, so it is never pickled on the way in)."""

    config: SiteConfig
    renderer: MarkdownRenderer
    by_source: dict[str, str]   # file name below content/posts -> slug, to resolve links between articles
    sources_key: str            # digest of by_source
    tag_names: dict[str, str]   # tag slug -> display name
    rules: Rules | None         # which disclaimers apply to an article
    loader: _Loader             # reads a source again where it is converted


def reconvert(context: ConversionContext, article: Article) -> Article:
    """The whole article of one this build loaded without its body (incremental.bodies.light), its
    source converted again: the very article it loaded (the same digest), else a PipelineError."""
    loader, build_cache = context.loader, cache.current()
    counted = build_cache.hits, build_cache.misses
    whole, _ = _convert_whole(context, loader.full(loader.new[article.source].parsed))   # its Markdown is cached
    build_cache.hits, build_cache.misses = counted   # not a result reused from an earlier build
    if whole is None or cache.article_digest(whole) != cache.article_digest(article):
        raise PipelineError(Finding(Location(article.source), "the file changed while the build read it; "
                                    "run the build again"))
    return whole


def _convert(context: ConversionContext, parsed: _Parsed) -> tuple[tuple | None, list]:
    """One article's Markdown conversion (run in a worker process): the article without its body,
    its digest and the ids of the disclaimers that apply to it; and its findings."""
    article, found = _convert_whole(context, context.loader.full(parsed))   # read again here, in a worker
    if article is None:
        return None, found
    rules = context.rules
    applying = rules.applying(article) if rules is not None else ()
    return (light(article), cache.article_digest(article), applying), found


def _convert_whole(context: ConversionContext, parsed: _Parsed) -> tuple[Article | None, list]:
    findings = FindingList()
    try:
        return _article(parsed, context, findings), findings.items
    except MarkupTooComplex as exc:
        findings.add(Location(parsed.rel, parsed.split.body_line), f"cannot convert the article's Markdown: {exc}")
        return None, findings.items


def _article(p: _Parsed, context: ConversionContext, findings: FindingList) -> Article:
    config, by_source, tag_names = context.config, context.by_source, context.tag_names
    here = PurePosixPath(p.rel).relative_to(POSTS_DIR).parent

    def resolve(href: str) -> str:
        target = href.split("#", 1)[0]
        if not target.endswith(".md") or "://" in target or target.startswith("/"):
            return href
        key = (here / target).as_posix()
        key = _normalise(key)
        slug = by_source.get(key) if key is not None else None
        return f"{config.base_path}{slug}/" + (("#" + href.split("#", 1)[1]) if "#" in href else "") \
            if slug else href

    body, removed = strip_raw_html(p.split.body)
    if not body.strip():
        findings.add(Location(p.rel, min(p.split.body_line, len(p.split.lines)) or None),
                     "the article has no text after its front matter: its page, newsletter and posts show only "
                     "the title; write the article below the closing ---", severity=WARNING)
    # One warning per line (its first tag, and how many more): each warning holds its line, so one
    # per tag would hold a long line once per tag on it.
    at = 0
    while at < len(removed):
        offset, col, tag = removed[at]
        more = at
        while more + 1 < len(removed) and removed[more + 1][0] == offset:
            more += 1
        also = f" (and {more - at} more raw HTML tag{'s' if more - at > 1 else ''} on this line)" if more > at else ""
        findings.add(Location(p.rel, p.split.body_line + offset, col), f"raw HTML {tag[:40]!r}{also} is left out "
                     f"of the output; write it in Markdown instead", severity=WARNING,
                     source=p.split.lines[p.split.body_line + offset - 1])
        at = more + 1
    build_cache = cache.current()
    key = cache.digest(build_cache.keys.get("markdown"), config.base_path, body,
                       context.sources_key if (".md" in body or "&" in body) else None, here.as_posix())
    rendered = build_cache.memo("markdown", key, lambda: context.renderer.render(body, resolve))
    summary = p.fields["summary"] or trim(rendered.first_paragraph or p.fields["title"])
    seen_tags: dict[str, Tag] = {}
    for name in p.fields["tags"]:
        slug = slugify(name)
        if slug in tag_names and slug not in seen_tags:   # (a tag refused by tag_names is reported)
            seen_tags[slug] = Tag(tag_names[slug], slug)
    return Article(
        source=p.rel, slug=p.slug, title=p.fields["title"], date=p.date, updated=p.updated,
        author=p.fields["author"] or config.author, summary=summary, tags=tuple(seen_tags.values()),
        draft=p.fields["draft"], image=p.fields["image"], image_alt=p.fields["image_alt"],
        body_line=p.split.body_line, html=rendered.html, text=rendered.text,
        word_count=len(rendered.text.split()), front=p.doc.slim(), lines=p.split.lines,
        evidence=tuple(Evidence(e["citation"], e["title"], tuple(e["supports"])) for e in p.fields["evidence"]),
        reviewed_by=p.fields["reviewed_by"],
        reviewed_on=_aware(p.fields["reviewed_on"], config.tz) if p.fields["reviewed_on"] else None,
        accept=tuple(Acceptance(a["rule"], a["reason"]) for a in p.fields["accept"]),
        links=rendered.links,
        newsletter_subject=(p.fields["newsletter"] or {}).get("subject"),
        newsletter_preheader=(p.fields["newsletter"] or {}).get("preheader"),
        social=tuple((k, v) for k, v in (p.fields["social"] or {}).items() if v),
        image_focus=tuple(p.fields["image_focus"]) if p.fields["image_focus"] else None,
        lang=p.fields["lang"] or config.language, kind=p.fields["kind"],
    )


def _normalise(path: str) -> str | None:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def trim(text_: str, limit: int = SUMMARY_LENGTH) -> str:
    """`text_` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text_) <= limit:
        return text_
    cut = text_[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-\u2014 ")
    return cut + "\u2026"
