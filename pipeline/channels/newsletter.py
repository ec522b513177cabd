"""Newsletter channel: per article, output/newsletter/<slug>/ holds email.html (inlined CSS, table
layout), email.txt (written for people) and message.eml (multipart/alternative, RFC 5322, one-click
unsubscribe headers). A digest presents every article of a date window in one email."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import css_inline
import lxml.html
from jinja2 import Environment

from pipeline.channels.mime import alternative_message
from pipeline.config import mailbox_parts
from pipeline.errors import Finding, Location, PipelineError
from pipeline.model import Article, Artifact, Reads, Site
from pipeline.plaintext import html_to_text, wrap
from pipeline.conversion import trim
from pipeline.templating import make_environment, render as render_template
from pipeline.urls import absolute, is_site_url, with_utm

NAME = "newsletter"
PREHEADER_LIMIT = 100  # inbox previews show 40-140 characters (STANDARDS H8)
CONTENT_WIDTH = 536  # 600 px container minus 2 x 32 px padding
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class EmailContext:
    """What every article's emails are rendered with, made once (worker processes inherit it)."""

    site: Site
    env: Environment        # email.html: HTML, autoescaped
    text_env: Environment   # email.txt: plain text


def context(site: Site) -> EmailContext:
    return EmailContext(site, make_environment(Path(site.root), NAME),
                        make_environment(Path(site.root), NAME, autoescape=False))


def reads(site: Site, article: Article) -> Reads:
    """What the article's emails show: the article and its images' files (known without its body)."""
    return Reads(NAME, (article,), (site.images.digest(article) if site.images is not None else None,))


def article_outputs(context: EmailContext, article: Article) -> list[Artifact]:
    """The article's email.html, email.txt and message.eml (`article` whole)."""
    site, env, text_env = context.site, context.env, context.text_env
    issue = _issue(site, [article], article.slug, subject=article.newsletter_subject or article.title,
                   preheader=article.newsletter_preheader or trim(article.summary, PREHEADER_LIMIT))
    return _artifacts(site, env, text_env, f"newsletter/{article.slug}", issue, (article.slug,), article.date,
                      article.source)


def digest_articles(site: Site, since: datetime, until: datetime) -> list[Article]:
    """The articles a digest of [since, until] presents: every published article dated in it."""
    return [a for a in site.articles if since <= a.date <= until]


def render_digest(site: Site, chosen: list[Article], until: datetime, label: str) -> list[Artifact]:
    """One email presenting `chosen` (digest_articles, whole), sent as of `until` when it is empty."""
    made = context(site)
    env, text_env = made.env, made.text_env
    campaign = f"digest-{label}"
    titles = ", ".join(a.title for a in chosen[:3]) + (" and more" if len(chosen) > 3 else "")
    subject = f"{site.config.title}: {len(chosen)} new article{'s' if len(chosen) != 1 else ''}"
    issue = _issue(site, chosen, campaign, subject=subject,
                   preheader=trim(titles or "No new articles this time.", PREHEADER_LIMIT), digest=True)
    when = until if not chosen else max(a.date for a in chosen)
    return _artifacts(site, env, text_env, f"newsletter/{campaign}", issue, tuple(a.slug for a in chosen), when,
                      "content/posts")


def _issue(site: Site, articles: list[Article], campaign: str, *, subject: str, preheader: str,
           digest: bool = False) -> dict:
    config = site.config
    entries = []
    for article in articles:
        page = config.url(article.path)
        text, html = body_versions(site, article, campaign)
        entries.append({
            "article": article,
            "url": with_utm(page, "newsletter", "email", campaign),
            "html": html,
            "text": html_to_text(text),
            "image": _image(site, article),
            "disclaimers": site.rules.disclaimers_for(article, NAME),
        })
    disclaimers = []
    for entry in entries:
        disclaimers += [d for d in entry["disclaimers"] if d not in disclaimers]
    shown = {d.id for d in disclaimers}   # a disclaimer once, in its article's language when it has one
    disclaimers += [d for d in site.rules.sitewide(NAME) if d.id not in shown]
    # A single article's email is its page; a digest's are the blog's newest articles.
    browser = ({"url": with_utm(config.base_url, "newsletter", "email", campaign, "view-in-browser"),
                "label": "Read these articles on our blog"} if digest else
               {"url": with_utm(config.url(articles[0].path), "newsletter", "email", campaign, "view-in-browser"),
                "label": "View in your browser"})
    return {"site": config, "subject": subject, "preheader": preheader, "entries": entries, "digest": digest,
            "browser": browser,
            "disclaimers": disclaimers, "home": with_utm(config.base_url, "newsletter", "email", campaign),
            "unsubscribe": config.newsletter.unsubscribe_url, "wrap": wrap}


def _artifacts(site, env, text_env, folder: str, issue: dict, slugs: tuple[str, ...], date: datetime,
               source: str) -> list[Artifact]:
    html = _INLINER.inline(render_template(env, "email.html", **issue)).rstrip("\n") + "\n"
    text = render_template(text_env, "email.txt", **issue)
    message = build_message(site, issue["subject"], html, text, date, folder.rsplit("/", 1)[-1], source)
    return [
        Artifact(f"{folder}/email.html", html.encode("utf-8"), NAME, "text/html", slugs),
        Artifact(f"{folder}/email.txt", text.encode("utf-8"), NAME, "text/plain", slugs),
        Artifact(f"{folder}/message.eml", message, NAME, "message/rfc822", slugs),
    ]


def build_message(site: Site, subject: str, html: str, text: str, date: datetime, key: str, source: str) -> bytes:
    """multipart/alternative (text first, HTML last), UTF-8, with a deterministic Message-ID."""
    news = site.config.newsletter
    digest = hashlib.sha256((html + "\0" + text).encode("utf-8")).hexdigest()[:16]
    unsubscribe = [news.unsubscribe_url] + ([news.unsubscribe_mailto] if news.unsubscribe_mailto else [])
    try:
        sender = mailbox_parts(news.sender)   # (parseaddr reads 'Name:' as a group)
        return alternative_message(
            sender=sender, reply_to=mailbox_parts(news.reply_to), subject=subject, date=date,
            message_id=f"<newsletter.{key}.{digest}@{sender[1].rsplit('@', 1)[1]}>", unsubscribe=unsubscribe,
            boundary=f"=_alternative_{digest}", text=text, html=html)
    except ValueError as exc:  # defence in depth: front matter and config are validated to one line
        raise PipelineError(Finding(Location(source), f"cannot build the email headers: {exc}")) from None


def _image(site: Site, article: Article) -> dict | None:
    """The lead image: its email file (JPEG or PNG, at most 1200 px: 2x the column) when the site
    made one, else the image as written."""
    if not article.image:
        return None
    picture = site.images.lead(article) if site.images is not None else None
    if picture is None:
        return {"src": absolute(site.config, article.image), "alt": article.image_alt or "", "width": CONTENT_WIDTH,
                "height": None}   # a remote image's size is unknown: it keeps its proportions by height:auto
    email = picture.email
    return {"src": site.config.url(email.path), "alt": article.image_alt or "", "width": CONTENT_WIDTH,
            "height": _column_height(email)}


def _column_height(image) -> int:
    """The height of a derived image shown at the column's width."""
    return max(1, round(image.height * CONTENT_WIDTH / image.width))


def _rewrite_links(site: Site, article: Article, campaign: str, html: str):
    page = site.config.url(article.path)
    root = lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div")
    for link in root.iter("a"):
        href = link.get("href")
        if not href or href.startswith(("#", "mailto:", "tel:")):
            continue
        url = absolute(site.config, href, page)
        link.set("href", with_utm(url, "newsletter", "email", campaign) if is_site_url(site.config, url) else url)
    for image in root.iter("img"):
        src = image.get("src", "")
        picture = site.images.body(article, src) if site.images is not None else None
        image.set("src", site.config.url(picture.email.path) if picture else absolute(site.config, src, page))
        image.set("alt", image.get("alt") or "")
        if picture is not None:   # the site's own image: its height at the column's width is known
            image.set("height", str(_column_height(picture.email)))
    return root


def body_versions(site: Site, article: Article, campaign: str) -> tuple[str, str]:
    """The article body for email, as HTML for the text part (absolute links, UTM on links back
    to the site) and for the HTML part (the same, with images sized to the column: their height
    too when they are the site's own images). The body is parsed once for both."""
    root = _rewrite_links(site, article, campaign, article.html)
    text = _serialise(root)
    for image in root.iter("img"):
        image.set("width", str(CONTENT_WIDTH))
        image.set("style", f"display:block;width:100%;max-width:{CONTENT_WIDTH}px;height:auto;border:0;")
    return text, _serialise(root)


def _serialise(root) -> str:
    return "".join(lxml.html.tostring(child, encoding="unicode") for child in root) if len(root) else ""
