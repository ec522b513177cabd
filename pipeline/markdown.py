"""The one Markdown -> HTML conversion: Python-Markdown with raw HTML disabled (it shows as text),
then nh3 so no script, handler or javascript: URL from an article ever reaches an output.
Also yields the reader's plain text, the first paragraph and every link target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from xml.etree.ElementTree import Element

import lxml.html
import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from pipeline.text import readable_text

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"}, "ol": {"start"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
    "code": {"class"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id"}, "sup": {"id"}, "div": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str               # visible text, whitespace collapsed
    first_paragraph: str
    links: tuple[str, ...]  # every href and img src, as written


class _Collect(Treeprocessor):
    """Records links and the first paragraph; rewrites hrefs through the site's resolver."""

    def __init__(self, md, state):
        super().__init__(md)
        self.state = state

    def run(self, root: Element) -> None:
        resolve = self.state["resolve"]
        for element in root.iter():
            attr = "href" if element.tag == "a" else "src" if element.tag == "img" else None
            if attr and element.get(attr) is not None:
                target = element.get(attr)
                if resolve is not None:
                    target = resolve(target)
                    element.set(attr, target)
                self.state["links"].append(target)


class _CollectExtension(Extension):
    def __init__(self, state):
        super().__init__()
        self.state = state

    def extendMarkdown(self, md):
        md.treeprocessors.register(_Collect(md, self.state), "pipeline_collect", 1)


class MarkdownRenderer:
    """Reusable converter (one Python-Markdown instance, reset between articles)."""

    def __init__(self):
        self.state: dict = {}
        self.md = markdown.Markdown(
            extensions=["extra", "sane_lists", "toc", _CollectExtension(self.state)],
            extension_configs={"toc": {"permalink": False}},
            output_format="html",
        )
        # Raw HTML in an article is shown as text, never passed through as markup.
        self.md.preprocessors.deregister("html_block")
        self.md.inlinePatterns.deregister("html")

    def render(self, source: str, resolve: Callable[[str], str] | None = None) -> Rendered:
        self.state.update(links=[], resolve=resolve)
        self.md.reset()
        html = sanitise(self.md.convert(source))
        if not html.strip():
            return Rendered("", "", "", tuple(self.state["links"]))
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
        first = next((el for el in fragment if el.tag == "p"), None)
        return Rendered(html, _collapse(fragment), _collapse(first) if first is not None else "",
                        tuple(self.state["links"]))


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel=None, strip_comments=True)


def html_text(html: str) -> str:
    """Plain text of an HTML fragment (tags dropped, entities decoded, whitespace collapsed)."""
    if not html.strip():
        return ""
    return _collapse(lxml.html.fragment_fromstring(html, create_parent="div"))


def _collapse(element) -> str:
    return readable_text(element)
