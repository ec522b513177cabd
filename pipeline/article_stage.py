"""Per-article stage: everything one article makes on its own (its page and preview card, its
three newsletter files, its social posts, the disclaimer checks of those outputs and its health
claims), computed in a worker process from the article read whole, or, when nothing it depends on
changed, taken from the last build's record (pipeline.incremental.records) without reading it again."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.incremental import cache
from pipeline.channels import blog, newsletter, social
from pipeline.compliance.checker import artifact_lookup, artifact_reads, check_made, check_source, source_reads
from pipeline.errors import PipelineError
from pipeline.model import Artifact, Site

KINDS = (blog.page_kind("article.html"), newsletter.NAME, social.NAME, "check")   # base keys of its outputs


@dataclass(frozen=True)
class Made:
    """What one article made: artifacts (with content when rendered by this build), findings,
    disclaimer checks, claims, and its posts per platform before they are scheduled."""

    artifacts: tuple[Artifact, ...]
    findings: tuple
    checks: tuple
    claims: tuple
    posts: dict
    failed: bool = False   # rendering stopped: `findings` say why
    cache_keys: tuple[str, ...] = ()   # the build cache entries it used (kept while its record is)


@dataclass(frozen=True)
class ArticleContext:
    """What rendering and checking any article's own outputs needs, made once in the parent;
    worker processes inherit it."""

    site: Site
    blog: blog.PageContext
    newsletter: newsletter.EmailContext
    social: social.PostContext
    check: tuple   # (site, artifact_lookup(site)): see compliance.checker.check_artifact


def context(site: Site, lookup: tuple | None = None) -> ArticleContext:
    """`lookup`: artifact_lookup(site), when the caller has it (two dicts over every article)."""
    return ArticleContext(site, blog.context(site), newsletter.context(site), social.context(site),
                          (site, lookup if lookup is not None else artifact_lookup(site)))


def keys(context: ArticleContext) -> list[str]:
    """Per article of the site, everything its own outputs depend on, computed without reading it
    (every build keys all of them: one pass, each article's digest taken once): the article,
    the articles before and after it (its page shows them), the tags and its images' files."""
    site = context.site
    base = [cache.current().keys.get(kind) for kind in KINDS]
    tags = cache.current().site_keys["tags"]
    digests = [cache.article_digest(article) for article in site.articles]
    return [cache.digest(base, own, [cache.neighbours(site.articles, index, digests), tags,
                                     site.images.digest(site.articles[index]) if site.images is not None else None])
            for index, own in enumerate(digests)]


def _declared(context: ArticleContext, index: int, article) -> list:
    """What each of the article's own outputs shows, as its channel declares it."""
    site = context.site
    return [blog.page_reads(site, index, article), newsletter.reads(site, article), social.posts_reads(site, article)]


def cached(context: ArticleContext, index: int) -> bool:
    """Are the article's page, emails and posts in the build cache? (Known without reading it.)"""
    return all(cache.has_reads(reads) for reads in _declared(context, index, context.site.articles[index]))


def make(context: ArticleContext, index: int) -> Made:
    """Render and check one article's outputs (run in a worker process). Problems come back as
    findings, so every article's result arrives in order."""
    site = context.site
    used = cache.current().used
    start = len(used)
    try:
        if cache.current().probing and not cached(context, index):
            # Probed (see parallel.imap_ordered) for outputs not in the cache (a template edit
            # renders them for every article): a worker makes them, so the article is not read here.
            raise cache.Miss(blog.NAME)
        article = site.whole(site.articles[index])
        page, emails, posts = _declared(context, index, article)
        preview, card_at = blog.link_preview(site, article)
        artifacts = []
        if card_at is not None:
            png = cache.memo_reads(blog.card_reads(site, article), lambda: blog.draw_card(site, article),
                                   article.source)
            artifacts.append(blog.card_artifact(card_at, png))
        artifacts.append(cache.memo_reads(page, lambda: blog.render_page(context.blog, index, article, preview)))
        artifacts += cache.memo_reads(emails, lambda: newsletter.article_outputs(context.newsletter, article))
        posts, findings = cache.memo_reads(posts, lambda: social.compose_posts(context.social, article))
        findings = list(findings)
        checks = []
        # The social JSON's posts are checked here; the site stage only adds their time slots.
        for artifact in artifacts + [social.document_artifact(site, article, posts, {})]:
            if artifact.for_readers:
                found, checked = cache.memo_reads(artifact_reads(context.check, artifact),
                                                  lambda: check_made(context.check, artifact))
                findings += found
                checks += checked
        found, claims = cache.memo_reads(source_reads(article), lambda: check_source(site, article))
        return Made(tuple(artifacts), tuple(findings + found), tuple(checks), tuple(claims), posts,
                    cache_keys=tuple(used[start:]))
    except PipelineError as exc:
        return Made((), tuple(exc.findings), (), (), {}, failed=True)
