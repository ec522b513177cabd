"""Feed channel: RSS 2.0 (site/feed.xml) and Atom (site/atom.xml) with feedgen.

Ids are canonical article URLs, so they never change on rebuild; dates come from the content."""

from __future__ import annotations

import html
import re
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING


from pipeline.citations import sources
from pipeline.model import Article, Artifact, Reads, Site
from pipeline.textfile import strip_controls
from pipeline.templating import make_environment, render as render_template

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

NAME = "feed"
PATHS = ("site/feed.xml", "site/atom.xml")
_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def items(site: Site) -> tuple[Article, ...]:
    """The articles the feeds present: the newest."""
    return site.articles[: site.config.feed_items]


def reads(site: Site) -> Reads:
    """Everything the feeds show: the newest articles, their disclaimers and the build's time."""
    items_ = items(site)
    return Reads(NAME, tuple(items_), (site.build_time, [[d.id for d in site.rules.disclaimers_for(a, NAME)]
                                                         for a in items_]))


def render(site: Site, items: list[Article]) -> list[Artifact]:
    """The RSS and Atom feeds of `items` (those of items(site), whole)."""
    env = make_environment(Path(site.root), NAME)
    contents = {a.slug: render_template(env, "item.html", content=absolute_links(site, a.html), article=a,
                                        sources=sources(a.evidence), disclaimers=site.rules.disclaimers_for(a, NAME))
                for a in items}
    slugs = tuple(a.slug for a in items)
    rss = _generator(site, items, contents, "feed.xml").rss_str(pretty=True)
    atom = _generator(site, items, contents, "atom.xml").atom_str(pretty=True)
    return [
        Artifact("site/feed.xml", rss, NAME, "application/rss+xml", slugs),
        Artifact("site/atom.xml", atom, NAME, "application/atom+xml", slugs),
    ]


def absolute_links(site: Site, html: str) -> str:
    """Feed readers resolve links against the feed, not the page: make root-relative links absolute."""
    origin = site.config.base_url[: len(site.config.base_url) - len(site.config.base_path)]
    return _ROOT_RELATIVE.sub(lambda m: m.group(1) + origin + "/", html)


def clean(text: str) -> str:
    """XML 1.0 cannot carry control characters or lone surrogates; drop them (defence in depth)."""
    return strip_controls(text)


def _generator(site: Site, items: tuple[Article, ...], contents: dict[str, str], self_path: str) -> FeedGenerator:
    from feedgen.feed import FeedGenerator   # here: a rebuild that keeps the feeds never imports it
    config = site.config
    fg = FeedGenerator()
    fg.id(config.base_url)
    fg.title(clean(config.title))
    fg.subtitle(clean(config.description or config.title))
    fg.description(clean(config.description or config.title))
    fg.author({"name": clean(config.author)})
    fg.link(href=config.url(self_path), rel="self")   # feedgen's RSS <link> is the last link set:
    fg.link(href=config.base_url, rel="alternate")    # keep the home page last
    fg.language(config.language)
    fg.updated(site.build_time)
    fg.lastBuildDate(site.build_time)
    fg.generator("clinic-pipeline")
    fg.load_extension("dc", atom=False, rss=True)   # RSS <author> must be an email address: dc:creator names
    for article in items:
        url = config.url(article.path)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(clean(article.title))
        entry.link(href=url, rel="alternate")
        entry.author({"name": clean(article.author)})   # Atom's <author>; RSS has no author without an email
        entry.dc.dc_creator(clean(article.author))
        entry.published(article.date.astimezone(timezone.utc))
        entry.updated(article.modified.astimezone(timezone.utc))
        entry.pubDate(article.date.astimezone(timezone.utc))
        entry.summary(clean(article.summary))   # Atom: type="text", shown as written
        # RSS readers take <description> as HTML: the plain-text summary is escaped as HTML once
        # before XML escapes it again, so "a < b" or "<b>" show as written.
        entry.description(html.escape(clean(article.summary), quote=False))
        entry.content(clean(contents[article.slug]), type="html")
        for tag in article.tags:
            entry.category(term=tag.slug, label=clean(tag.name))
    return fg
