"""Blog channel: article pages, paginated index, tag pages, sitemap, robots.txt (for a site at its
domain's root) and static assets under output/site/."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from jinja2 import Environment

from pipeline.citations import sources
from pipeline.images.markup import body_pictures, lead_picture
from pipeline.errors import Finding, Location, PipelineError
from pipeline.model import Article, Artifact, Reads, Site
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


def context(site: Site) -> PageContext:
    return PageContext(site, *_common(site))


def static_outputs(statics: list[Artifact]) -> Iterator[tuple[list[tuple[str, Reads]], object]]:
    """The static files as site-wide outputs (see site_pages): each shows its bytes."""
    for artifact in statics:
        yield [(artifact.path, Reads("static", values=(artifact.sha256,)))], (lambda artifact=artifact: [artifact])


def site_pages(site: Site) -> Iterator[tuple[list[tuple[str, Reads]], object]]:
    """The listing pages, sitemap and robots.txt as (path, what it shows) pairs with a function
    that renders them."""
    env, common = _common(site)
    config = site.config

    def page(path: str, heading, chunk, pager, number):
        def make():
            html = render_template(env, "list.html", **common, heading=heading, articles=chunk, pager=pager,
                                   canonical=config.url(path), page_number=number)
            return [Artifact(f"site/{path}index.html", html.encode("utf-8"), NAME, HTML)]
        # a template may show any field of the articles it lists
        reads = Reads(page_kind("list.html"), tuple(chunk), (path, heading, pager, number), tags=True)
        return [(f"site/{path}index.html", reads)], make

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
        yield [(f"site/{path}", Reads(page_kind(template), site.articles, (path, listing)))], make


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


CARD = "card"


def card_reads(site: Site, article: Article) -> Reads:
    """A link-preview card shows the title and two settings alone: editing a template or an
    article's body draws no card again."""
    return Reads(CARD, values=(PIL_VERSION, article.title, site.config.organization.name, site.config.title))


def draw_card(site: Site, article: Article) -> bytes:
    """The PNG of the article's link-preview card."""
    return render_card(article.title, site.config.organization.name, site.config.title)


def card_artifact(path: str, png: bytes) -> Artifact:
    return Artifact(f"site/{path}", png, NAME, "image/png", for_readers=False)


def page_reads(site: Site, index: int, article: Article) -> Reads:
    """An article's page shows the article, the articles before and after it (a template may
    show any of their fields), the tags and its images' files (known without its body)."""
    images = site.images.digest(article) if site.images is not None else None
    return Reads(page_kind("article.html"), (article,), (images,), tags=True, neighbours=index)


def render_page(context: PageContext, index: int, article: Article, preview: dict) -> Artifact:
    """One article's page (`article` is site.articles[index] whole); `preview`: link_preview's."""
    site, env, common = context.site, context.env, context.common
    articles = site.articles
    newer = articles[index - 1] if index > 0 else None
    older = articles[index + 1] if index + 1 < len(articles) else None
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
