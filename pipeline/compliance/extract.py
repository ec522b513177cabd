"""What a reader sees of each artifact: its visible text, split into units (a page, a feed item,
an email part, a social post), each tied to the article it presents.

Extractors are chosen by media type, so a new channel's artifacts are checked with no extra
wiring as long as they use a media type registered here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Callable

import lxml.etree
import lxml.html

from pipeline.model import Artifact
from pipeline.text import readable_text

_HIDDEN_TAGS = {"script", "style", "template", "noscript", "head", "title", "meta", "link"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|"
                           r"opacity\s*:\s*0(?![.\d]*[1-9])|max-height\s*:\s*0(?![.\d]*[1-9])", re.I)


@dataclass(frozen=True)
class Unit:
    """One piece of an artifact a reader takes in as a whole."""

    label: str                 # "page", "item <url>", "text part" ...
    text: str
    article_url: str | None    # canonical URL of the article it presents, if any
    articles: tuple[str, ...] = ()   # slugs of the articles it presents (when not found by URL)
    links: tuple[str, ...] = ()      # hrefs of the links a reader can see and follow
    headers: tuple[tuple[str, str], ...] = ()  # for email messages


Extractor = Callable[[Artifact], list[Unit]]
EXTRACTORS: dict[str, Extractor] = {}


def extractor(*media_types: str):
    def register(function: Extractor) -> Extractor:
        for media_type in media_types:
            EXTRACTORS[media_type] = function
        return function
    return register


def units(artifact: Artifact) -> list[Unit]:
    function = EXTRACTORS.get(artifact.media_type)
    return function(artifact) if function else []


def visible_text(html: str | bytes) -> str:
    """The text a reader sees: no comments, scripts, styles, head, or hidden elements."""
    return visible(html)[0]


def visible(html: str | bytes) -> tuple[str, tuple[str, ...]]:
    """(visible text, hrefs of visible links). The last document's are kept: an article's
    email.html is checked, then the same HTML again as its message's HTML part."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if not html.strip():
        return "", ()
    known = _LAST_SEEN.get(html)
    if known is None:
        known = _visible(html)
        _LAST_SEEN.clear()
        _LAST_SEEN[html] = known
    return known


_LAST_SEEN: dict[str, tuple[str, tuple[str, ...]]] = {}


def _visible(html: str) -> tuple[str, tuple[str, ...]]:
    document = lxml.html.document_fromstring(html)
    for element in list(document.iter()):
        if not isinstance(element.tag, str):  # comments and processing instructions
            _drop(element)
            continue
        if (element.tag in _HIDDEN_TAGS or element.get("hidden") is not None
                or element.get("aria-hidden") == "true" or _HIDDEN_STYLE.search(element.get("style") or "")):
            _drop(element)
    links = tuple(a.get("href") for a in document.iter("a") if a.get("href") and a.text_content().strip())
    return readable_text(document, copy_first=False), links


def _drop(element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + " " + tail
        else:
            parent.text = (parent.text or "") + " " + tail
    parent.remove(element)


@extractor("text/html")
def _html_page(artifact: Artifact) -> list[Unit]:
    text, links = visible(artifact.content)
    return [Unit("page", text, None, artifact.articles, links)]


@extractor("text/plain")
def _plain(artifact: Artifact) -> list[Unit]:
    return [Unit("text", artifact.content.decode("utf-8", "replace"), None, artifact.articles)]


@extractor("message/rfc822")
def _email(artifact: Artifact) -> list[Unit]:
    """Each part of a message separately, as the reader's client shows one or the other."""
    message = BytesParser(policy=policy.compat32).parsebytes(artifact.content)  # raw headers: fast
    headers = tuple((k, str(v)) for k, v in message.items())
    out = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
        if part.get_content_type() == "text/html":
            # CRLF read as LF, as an HTML parser's input stream does (and then it is the
            # email.html the build just checked: see visible)
            text, links = visible(content.replace("\r\n", "\n"))
            out.append(Unit("html part", text, None, artifact.articles, links, headers))
        elif part.get_content_type() == "text/plain":
            out.append(Unit("text part", content, None, artifact.articles, (), headers))
    return out


_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def _xml(artifact: Artifact):
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True)
    return lxml.etree.fromstring(artifact.content, parser)


@extractor("application/rss+xml")
def _rss(artifact: Artifact) -> list[Unit]:
    out = []
    for item in _xml(artifact).iter("item"):
        url = (item.findtext("link") or item.findtext("guid") or "").strip()
        content = item.findtext(_CONTENT)
        if content is None:
            content = item.findtext("description") or ""
        out.append(Unit(f"item {url}", visible_text(content), url))
    return out


@extractor("application/atom+xml")
def _atom(artifact: Artifact) -> list[Unit]:
    out = []
    for entry in _xml(artifact).iter(_ATOM + "entry"):
        url = (entry.findtext(_ATOM + "id") or "").strip()
        content = entry.find(_ATOM + "content")
        text = ""
        if content is not None:
            text = visible_text(content.text or "") if content.get("type") in ("html", None) else \
                " ".join(content.itertext())
        out.append(Unit(f"entry {url}", text, url))
    return out


@extractor("application/json")
def _social_posts(artifact: Artifact) -> list[Unit]:
    """Each platform's post of a social JSON file."""
    data = json.loads(artifact.content)
    return [Unit(f"{platform} post", post.get("text", ""), data.get("article", {}).get("url"), artifact.articles)
            for platform, post in data.get("posts", {}).items()]
