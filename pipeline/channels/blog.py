"""Blog channel: article pages, paginated index, tag pages, sitemap, robots.txt (for a site at its
domain's root) and static assets under output/site/."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from jinja2 import Environment

from pipeline import cache
from pipeline.citations import sources
from pipeline.images.markup import body_pictures, lead_picture
from pipeline.errors import Finding, Location, PipelineError
from pipeline.model import Article, Artifact, Site
from pipeline.ogimage import HEIGHT as CARD_HEIGHT, PIL_VERSION, WIDTH as CARD_WIDTH, render_card
from pipeline.templating import make_environment, render as render_template

NAME = "blog"
HTML = "text/html"
PAGES = ("article.html", "list.html", "sitemap.xml", "robots.txt")   # a template per kind of page


def page_kind(template: str) -> str:
    """The build cache's base key of the pages rendered from one template (see build.base_keys)."""
    return f"{NAME}:{template}"


def _common(site: Site) -> tuple:
    """The template environment and what every blog page is rendered with."""
    config = site.config
    return make_environment(Path(site.root), NAME), {"site": config, "base": config.base_path, "tags": site.tags,
                                                     "sitewide_disclaimers": site.rules.sitewide(NAME)}


@dataclass(frozen=True)
class PageContext:
    """What every article page is rendered with, made once (worker processes inherit it)."""

    site: Site
    env: Environment
    common: dict      # what every blog page's template is given (see _common)
    tags_key: str     # the digest of the tags and their counts, which every page shows


def context(site: Site) -> PageContext:
    env, common = _common(site)
    return PageContext(site, env, common, cache.digest(_tag_counts(site)))


def unit_inputs(context: PageContext, index: int, digests: list[str] | None = None) -> list:
    """What an article's page shows besides the article: its neighbours (whole: a template may
    show any of their fields), the tags and its images' files. `digests`: every article's
    cache.article_digest, when the caller has them."""
    site, tags_key = context.site, context.tags_key
    articles = site.articles
    digest_at = digests.__getitem__ if digests is not None else (lambda i: cache.article_digest(articles[i]))
    newer = digest_at(index - 1) if index > 0 else None
    older = digest_at(index + 1) if index + 1 < len(articles) else None
    return [[newer, older], tags_key, site.images.digest(articles[index]) if site.images is not None else None]


def _tag_counts(site: Site) -> list:
    return [(tag.slug, tag.name, len(tagged)) for tag, tagged in site.tags]


def static_outputs(statics: list[Artifact]) -> Iterator[tuple[list[tuple[str, str]], object]]:
    """The static files as site-wide outputs (see site_pages), each keyed by its bytes."""
    for artifact in statics:
        yield [(artifact.path, artifact.sha256)], (lambda artifact=artifact: [artifact])


RENDER_AHEAD = 8_000_000   # bytes of pages that pages_ahead renders at most (what it hands back is held)


def pages_ahead(site: Site, known: dict[str, str]) -> list:
    """site_pages as (pairs, rendered), made ahead (in a forked process while the articles are
    rendered): `rendered` holds the fields of the artifacts of a page whose key is not the one the
    last build recorded (`known`: path -> key), up to RENDER_AHEAD bytes; else None. Plain values,
    to be handed back; see pages_from."""
    result, spent = [], 0
    for pairs, make in site_pages(site):
        rendered = None
        if spent < RENDER_AHEAD and not all(known.get(path) == key for path, key in pairs):
            artifacts = make()
            rendered = [(a.path, a.content, a.channel, a.media_type, a.articles, a.for_readers) for a in artifacts]
            spent += sum(len(a.content) for a in artifacts)
        result.append((pairs, rendered))
    return result


def pages_from(site: Site, ahead: list) -> Iterator[tuple[list[tuple[str, str]], object]]:
    """The groups of site_pages from pages_ahead: a page rendered ahead is taken as it is; one
    that was not (its bytes were known, or the budget was spent) is rendered when asked for
    (site_pages is gone through again, once, if any is)."""
    again: list = []

    def made_here(index: int) -> list[Artifact]:
        if not again:
            again.append([make for _, make in site_pages(site)])
        return again[0][index]()

    for index, (pairs, rendered) in enumerate(ahead):
        if rendered is not None:
            yield pairs, (lambda rendered=rendered: [Artifact(*fields) for fields in rendered])
        else:
            yield pairs, (lambda index=index: made_here(index))


def site_pages(site: Site) -> Iterator[tuple[list[tuple[str, str]], object]]:
    """The listing pages, sitemap and robots.txt as (path, key) pairs with a function that renders
    them (the key is everything the page shows)."""
    env, common = _common(site)
    config = site.config
    keys = cache.current().keys
    tags_key = cache.digest(_tag_counts(site))   # every page shows the tags: hashed once

    def page(path: str, heading, chunk, pager, number):
        def make():
            html = render_template(env, "list.html", **common, heading=heading, articles=chunk, pager=pager,
                                   canonical=config.url(path), page_number=number)
            return [Artifact(f"site/{path}index.html", html.encode("utf-8"), NAME, HTML)]
        shown = [cache.article_digest(a) for a in chunk]   # a template may show any field of them
        key = cache.digest(keys.get(page_kind("list.html")), path, heading, shown, pager, number, tags_key)
        return [(f"site/{path}index.html", key)], make

    for number, chunk, path, pager in paginate(site.articles, config.posts_per_page, ""):
        yield page(path, None, chunk, pager, number)
    for tag, tagged in site.tags:
        for number, chunk, path, pager in paginate(tagged, config.posts_per_page, tag.path):
            yield page(path, tag.name, chunk, pager, number)

    listing = _listing_paths(site)
    text_files = {"sitemap.xml": ("sitemap.xml", "application/xml")}
    if config.base_path == "/":   # crawlers read robots.txt at the domain's root only, never under a path
        text_files["robots.txt"] = ("robots.txt", "text/plain")
    for path, (template, media_type) in text_files.items():
        def make(path=path, template=template, media_type=media_type):
            body = render_template(env, template, **common, articles=site.articles, pages=listing)
            return [Artifact(f"site/{path}", body.encode("utf-8"), NAME, media_type, for_readers=False)]
        key = cache.digest(keys.get(page_kind(template)), path, [cache.article_digest(a) for a in site.articles],
                           listing)
        yield [(f"site/{path}", key)], make


def card_path(article: Article) -> str:
    return f"og/{article.slug}.png"


def preview_path(site: Site, article: Article) -> str:
    """Site path of the article's link-preview image: a crop of its lead image when the site has
    that image, else the card drawn for it."""
    crop = site.images.preview(article) if site.images is not None else None
    return crop.path if crop is not None else card_path(article)


def link_preview(site: Site, article: Article) -> tuple[dict, str | None]:
    """og:image and twitter:image for the article: a 1200x630 crop of its lead image, or a card
    drawn for it (then also the card's site path)."""
    config = site.config
    crop = site.images.preview(article) if site.images is not None else None
    if crop is not None:
        return {"url": config.url(crop.path), "width": crop.width, "height": crop.height,
                "alt": article.image_alt}, None
    path = card_path(article)
    alt = f"{article.title} — {config.organization.name}"
    return {"url": config.url(path), "width": CARD_WIDTH, "height": CARD_HEIGHT, "alt": alt}, path


def card(site: Site, article: Article, path: str) -> Artifact:
    """The article's link-preview card (site/<path>). Drawn from the title and two settings alone,
    so it is cached on those: editing a template or an article's body draws no card again."""
    title, organization, site_title = article.title, site.config.organization.name, site.config.title
    key = cache.digest("card", cache.current().code, PIL_VERSION, title, organization, site_title)
    png = cache.current().memo("card", key, lambda: render_card(title, organization, site_title))
    return Artifact(f"site/{path}", png, NAME, "image/png", for_readers=False)


def article_outputs(context: PageContext, index: int, article: Article) -> list[Artifact]:
    """One article's page and, when it needs one, its preview card (run in a worker process);
    `article` is site.articles[index] whole."""
    site, env, common = context.site, context.env, context.common
    articles = site.articles
    newer = articles[index - 1] if index > 0 else None
    older = articles[index + 1] if index + 1 < len(articles) else None
    preview, card_at = link_preview(site, article)
    page = cache.current().memo(NAME, page_key(context, index, article),
                                lambda: _render_page(site, env, common, preview, article, newer, older))
    return [page] if card_at is None else [card(site, article, card_at), page]


def page_key(context: PageContext, index: int, article: Article) -> str:
    """What the article's page depends on (known without its body: see cache.article_digest)."""
    return cache.digest(cache.current().keys.get(page_kind("article.html")), cache.article_digest(article),
                        unit_inputs(context, index))


def _render_page(site, env, common, preview, article, newer, older) -> Artifact:
    config = site.config
    lead = None
    if site.images is not None:   # its images as srcset pictures of the files made for them
        lead = lead_picture(site.images, article, config.base_path)
        article = replace(article, html=body_pictures(site.images, article, config.base_path))
    html = render_template(env, "article.html", **common, article=article, lead_image=lead, newer=newer, older=older,
                           canonical=config.url(article.path), disclaimers=site.rules.disclaimers_for(article, NAME),
                           structured=structured_data(site, article), preview=preview,
                           sources=sources(article.evidence))
    return Artifact(f"site/{article.path}index.html", html.encode("utf-8"), NAME, HTML, (article.slug,))


def paginate(articles, per_page: int, prefix: str):
    """Yield (number, articles, path, pager) for page 1 (`prefix`) and page N (`prefix/page/N/`)."""
    chunks = [articles[i:i + per_page] for i in range(0, len(articles), per_page)] or [()]
    paths = [prefix] + [f"{prefix}page/{n}/" for n in range(2, len(chunks) + 1)]
    for number, chunk in enumerate(chunks, start=1):
        pager = {"number": number, "count": len(chunks),
                 "newer": paths[number - 2] if number > 1 else None,
                 "older": paths[number] if number < len(chunks) else None}
        yield number, tuple(chunk), paths[number - 1], pager


def _listing_paths(site: Site) -> list[str]:
    paths = [path for _, _, path, _ in paginate(site.articles, site.config.posts_per_page, "")]
    for tag, tagged in site.tags:
        paths += [path for _, _, path, _ in paginate(tagged, site.config.posts_per_page, tag.path)]
    return paths


def structured_data(site: Site, article: Article) -> dict:
    """schema.org BlogPosting for the article page; a MedicalWebPage, with its citations and
    who reviewed it when, for an article that cites evidence or names a reviewer."""
    config = site.config
    medical = bool(article.evidence or article.reviewed_by)
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage" if medical else "BlogPosting",
        "headline": article.title,
        "description": article.summary,
        "datePublished": article.date.isoformat(),
        "dateModified": article.modified.isoformat(),
        "author": {"@type": "Person",
                   "name": article.author},
        "publisher": {"@type": "Organization", "name": config.organization.name},
        "mainEntityOfPage": {"@type": "WebPage", "@id": config.url(article.path)},
        "url": config.url(article.path),
        "inLanguage": config.language,
    }
    if medical:   # the page itself, so not the main entity of another page; wordCount is an Article's
        del data["mainEntityOfPage"]
        data = {"@context": data.pop("@context"), "@type": data.pop("@type"), "@id": data["url"], **data}
    else:
        data["wordCount"] = article.word_count
    if article.tags:
        data["keywords"] = [t.name for t in article.tags]
    if article.image:
        data["image"] = article.image if "://" in article.image else site.config.url(article.image)
    if article.reviewed_by:
        data["reviewedBy"] = {"@type": "Person", "name": article.reviewed_by}
        if article.reviewed_on:
            data["lastReviewed"] = article.reviewed_on.date().isoformat()
    if article.evidence:
        data["citation"] = [{"@type": "ScholarlyArticle" if s.kind != "url" else "CreativeWork", "name": s.title,
                             "url": s.href} for s in sources(article.evidence)]
    return data


def static_files(root: Path) -> list[Artifact]:
    """Theme assets (templates/blog/static -> site/static/) and content/static -> site/.
    A link that leads out of its folder is refused: it could publish any file on the machine."""
    out = []
    outside = []
    for folder, prefix in ((root / "templates" / NAME / "static", "site/static/"),
                           (root / "content" / "static", "site/")):
        if not folder.is_dir():
            continue
        base = folder.resolve()
        if not (base.is_relative_to(root.resolve()) or base.is_relative_to(folder.parent.resolve())):
            outside.append(Finding(Location(folder.relative_to(root).as_posix()), "this folder is a link to "
                                   f"{base}, outside the project; make it a real folder and copy the files in"))
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if not path.resolve().is_relative_to(folder.resolve()):
                outside.append(Finding(Location(path.relative_to(root).as_posix()), "this file is a link to a place "
                                       f"outside {folder.relative_to(root).as_posix()}/; copy the file in instead"))
                continue
            out.append(Artifact(prefix + rel, path.read_bytes(), NAME, "application/octet-stream",
                                for_readers=False))
    if outside:
        raise PipelineError(outside)
    return out
