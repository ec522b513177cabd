"""Link check stage: every link from an article to this site must reach a page the build writes.

Runs after the channels render, against the real set of output paths, so it can never disagree
with what is published. A broken link is an error at the file:line:col where it was written."""

from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import unquote, urljoin, urlsplit

from pipeline.errors import Finding, Location, WARNING
from pipeline.model import Article, Site, SiteConfig

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_links(site: Site, paths: list[str]) -> list[Finding]:
    """`paths`: of every output of the build."""
    config = site.config
    pages = {path[len("site/"):] for path in paths if path.startswith("site/")}
    findings = []
    for article in site.articles:
        if article.image and "://" not in article.image and article.image not in pages:
            article = site.whole(article)
            location = article.front.location(("image",))
            near = similar_file(article.image, pages)
            hint = f"the site has content/static/{near}: write image: {near}" if near else \
                "add the picture there or fix the path"
            findings.append(Finding(location, f"image: no file content/static/{article.image}; {hint}",
                                    source=article.front.source(location)))
        for href in dict.fromkeys(article.links):
            problem = _problem(href, article, config, pages)
            if problem:
                severity, message = problem
                location, source = _locate(site.whole(article), href)
                findings.append(Finding(location, message, severity, source=source))
    return findings


def _problem(href: str, article: Article, config: SiteConfig, pages: set[str]) -> tuple[str, str] | None:
    href = html.unescape(href).strip()
    if not href or href.startswith("#"):
        return None
    if _SCHEME.match(href):
        scheme = href.split(":", 1)[0].lower()
        if scheme in ("mailto", "tel"):
            return None
        if scheme not in ("http", "https"):
            return WARNING, f"link {href[:60]!r} uses a {scheme}: address, which is removed from the output"
        if not href.startswith(config.base_url):
            return None
        path = "/" + href[len(config.base_url):]
        path = config.base_path.rstrip("/") + path
    elif href.startswith("//"):
        return None
    elif href.endswith(".md") or ".md#" in href:
        return "error", (f"link to {href!r}: no published article has that file; check the file name "
                         f"(drafts and future articles are not published)")
    else:
        path = posixpath.join(config.base_path + article.path, href)
    target = posixpath.normpath(unquote(urlsplit(path).path))
    base = config.base_path.rstrip("/")
    if target != base and not target.startswith(base + "/"):
        written, exists = _from_root(href, config, pages)
        if exists:
            return "error", (f"link {href!r} points outside the site ({config.base_url}); the site has that "
                             f"{exists} at {written!r}: write that")
        full = urljoin(config.url(article.path), href)
        if "." in posixpath.basename(target):
            return "error", (f"link {href!r} points outside the site ({config.base_url}): write a file of "
                             f"content/static/ as {written!r} (there is none now), or a file elsewhere by its "
                             f"full address, {full!r}")
        return "error", (f"link {href!r} points outside the site ({config.base_url}): write a page elsewhere "
                         f"by its full address, {full!r}")
    rel = target[len(base):].lstrip("/")
    if _exists(rel, pages):
        return None
    written, exists = _from_root(href, config, pages)   # only for a link that fails: most do not
    if exists:
        return "error", (f"broken link {href!r}: read from the article's page ({config.base_path}{article.path}) "
                         f"it leads nowhere; the site has that {exists} at {written!r}: write that")
    near = similar_file(rel, pages)
    if near:
        instead = posixpath.join(posixpath.dirname(href), posixpath.basename(near))
        return "error", (f"broken link {href!r}: the site has no file at that address, but has "
                         f"content/static/{near}; write {instead!r}")
    return "error", (f"broken link {href!r}: the site has no page at that address; check it (drafts and "
                     f"future articles are not published)")


def similar_file(rel: str, pages: set[str]) -> str | None:
    """A file of the site whose path differs from `rel` only in letter case or extension
    (images/Ankle.jpg for images/ankle.JPG or images/ankle.png), as a web server is strict
    about both and a laptop's file system often about neither."""
    if not rel or "." not in posixpath.basename(rel):
        return None
    stem = posixpath.splitext(rel)[0].casefold()
    same_case = [p for p in pages if p.casefold() == rel.casefold()]
    if same_case:
        return sorted(same_case)[0]
    other = [p for p in pages if "." in posixpath.basename(p) and posixpath.splitext(p)[0].casefold() == stem]
    return sorted(other)[0] if other else None


def _from_root(href: str, config: SiteConfig, pages: set[str]) -> tuple[str, str | None]:
    """The link's path read from the site's root, as a link to write ('/images/x.png' on a blog
    under /blog/, or 'images/x.png' written on an article's page, one folder down: both
    '/blog/images/x.png'), and whether the site has a "file" or a "page" there (None)."""
    parts = urlsplit(href)
    rel = posixpath.normpath("/" + unquote(parts.path)).lstrip("/")
    written = config.base_path + rel + ("/" if rel and parts.path.endswith("/") else "")
    written += ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
    exists = ("file" if rel in pages else "page") if rel and _exists(rel, pages) else None
    return written, exists


def _exists(rel: str, pages: set[str]) -> bool:
    if rel in ("", "."):
        return "index.html" in pages
    return rel in pages or f"{rel.rstrip('/')}/index.html" in pages


def _locate(article: Article, href: str) -> tuple[Location, str | None]:
    """Where the link was written; a link rewritten from `x.md` is searched for by its file name."""
    lines = article.lines
    for number in range(article.body_line, len(lines) + 1):
        col = lines[number - 1].find(href)
        if col >= 0:
            return Location(article.source, number, col + 1), lines[number - 1]
    return Location(article.source, article.body_line), None
