"""Image markup for the blog's pages: a <picture> with WebP and the source's own format at every
width, sized (width and height: no layout shift) and, but for the lead image, loaded lazily."""

from __future__ import annotations

import html
import re

from pipeline.images import Images, Picture
from pipeline.model import Article

SIZES = "(max-width: 46rem) calc(100vw - 2rem), 44rem"   # the article column (templates/blog/static)
DEFAULT_WIDTH = 960   # the <img src> for browsers without srcset
_IMG = re.compile(r"<img\s[^>]*>")
_ATTRIBUTE = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?')


def picture_html(picture: Picture, base: str, alt: str, *, lead: bool, attributes: dict | None = None) -> str:
    """`attributes`: more of the <img>'s (title, class), as text; `alt` too."""
    fallback = min(picture.fallback, key=lambda d: abs(d.width - DEFAULT_WIDTH))
    esc = html.escape

    def srcset(files):
        return ", ".join(f"{base}{d.path} {d.width}w" for d in files)

    extra = {"alt": alt, **(attributes or {})}
    img = {"src": base + fallback.path, "srcset": srcset(picture.fallback), "sizes": SIZES,
           "width": str(fallback.width), "height": str(fallback.height)}
    img.update(extra)
    if not lead:   # the lead image is in the first screen: loaded at once
        img.update({"loading": "lazy", "decoding": "async"})
    shown = " ".join(f'{name}="{esc(value)}"' for name, value in img.items())
    return (f'<picture><source type="image/webp" srcset="{esc(srcset(picture.web))}" sizes="{SIZES}">'
            f'<img {shown}></picture>')


def lead_picture(images: Images, article: Article, base: str) -> str | None:
    """The lead image's markup, or None when the site made no files for it."""
    picture = images.lead(article)
    if picture is None:
        return None
    return picture_html(picture, base, article.image_alt or "", lead=True, attributes={"class": "lead-image"})


def body_pictures(images: Images, article: Article, base: str) -> str:
    """The article's sanitised HTML with each image of the site as a sized, lazy <picture>."""
    def replace(match: re.Match) -> str:
        attributes = {name: html.unescape(value or "") for name, value in _ATTRIBUTE.findall(match.group()[5:-1])}
        picture = images.body(article, attributes.get("src", ""))
        if picture is None:
            return match.group()
        kept = {name: value for name, value in attributes.items() if name == "title"}
        return picture_html(picture, base, attributes.get("alt", ""), lead=False, attributes=kept)

    return _IMG.sub(replace, article.html) if "<img" in article.html else article.html
