"""The one Markdown -> HTML conversion: raw HTML left out (as Hugo does), Python-Markdown with its
HTML passthrough disabled, then nh3 so no script, handler or javascript: URL from an article ever reaches an output.
Also yields the reader's plain text, the first paragraph and every link target."""

from __future__ import annotations

import ctypes
import signal
import threading
from contextlib import contextmanager
import re
from dataclasses import dataclass
from functools import partial
from typing import Callable
from xml.etree.ElementTree import Element

import lxml.html
import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor
from markdown.treeprocessors import Treeprocessor

from pipeline.limits import Limit
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


TIME_LIMIT = Limit("PIPELINE_MARKDOWN_TIME_LIMIT", 10.0, "seconds one article's Markdown conversion may take",
                   least=0.001)


class MarkupTooComplex(Exception):
    """The Markdown cannot be converted in bounded time or depth."""


def _too_slow(seconds: float) -> MarkupTooComplex:
    return MarkupTooComplex(f"converting it took longer than {seconds:g} s; look for long runs of unbalanced "
                            f"brackets such as '[x](' or deeply nested markup")


class _Expired(BaseException):
    """Raised inside the converting thread when its time is up (see _deadline); a BaseException,
    so that no `except Exception` in a Markdown extension swallows it."""


@contextmanager
def _deadline(seconds: float):
    """Raise MarkupTooComplex when the block runs longer than `seconds`, in any thread: on the main
    thread by a timer signal; on any other (the preview server rebuilds on one), a timer thread
    has the interpreter raise _Expired in the converting thread at its next bytecode (Python-
    Markdown's slow cases are Python loops, each step short)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def expired(signum, frame):
            raise _too_slow(seconds)

        previous = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire():
        with lock:
            if not state["done"]:
                state["fired"] = True
                _set_async_exc(target, _Expired)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except _Expired:
        raise _too_slow(seconds) from None
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["fired"]:
                _set_async_exc(target, None)   # not yet raised: never raised outside this block


def _set_async_exc(thread_id: int, exc) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None)


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

    def __init__(self, time_limit: float | None = None):
        """`time_limit`: seconds one article's conversion may take, in whatever thread it runs
        (default: TIME_LIMIT's value)."""
        self.time_limit = time_limit if time_limit is not None else TIME_LIMIT.value()
        self.state: dict = {}
        self._md = None   # made on first use: a rebuild that converts nothing never pays for it

    @property
    def md(self) -> markdown.Markdown:
        if self._md is None:
            self._md = self._make()
        return self._md

    def _make(self) -> markdown.Markdown:
        md = markdown.Markdown(
            extensions=["extra", "sane_lists", "toc", _CollectExtension(self.state)],
            extension_configs={"toc": {"permalink": False}},
            output_format="html",
        )
        # Raw HTML in an article is shown as text, never passed through as markup.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        for processor in md.inlinePatterns:
            if isinstance(processor, LinkInlineProcessor):
                processor.getText = partial(_link_text, processor.getText)
        return md

    def render(self, source: str, resolve: Callable[[str], str] | None = None) -> Rendered:
        """Convert `source`; raises MarkupTooComplex for input that nests too deeply or would take
        longer than its time limit (Python-Markdown is quadratic on some unbalanced brackets)."""
        self.state.update(links=[], resolve=resolve)
        self.md.reset()
        try:
            with _deadline(self.time_limit):
                converted = self.md.convert(source)
        except RecursionError:
            raise MarkupTooComplex("lists, quotes or emphasis are nested too deeply to convert") from None
        html = sanitise(converted)
        if not html.strip():
            return Rendered("", "", "", tuple(self.state["links"]))
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
        first = next((el for el in fragment if el.tag == "p"), None)
        return Rendered(html, readable_text(fragment), readable_text(first) if first is not None else "",
                        tuple(self.state["links"]))


_NEAR = 4096   # characters scanned for a link's closing bracket before the whole text is


def _link_text(whole, data: str, index: int) -> tuple[str, int, bool]:
    """LinkInlineProcessor.getText (the text between a link's '[', just before `index`, and its
    closing ']'), found by scanning forward from `index` with str.find and str.count (bounded
    work per link); past _NEAR characters, `whole` (Python-Markdown's own, which maps the end of
    every bracket in `data` at once: each link made changes `data`, so a paragraph of n links
    would make n such maps, quadratic in the paragraph's length)."""
    depth, at, limit = 1, index, min(len(data), index + _NEAR)
    while True:
        close = data.find("]", at, limit)
        if close < 0:
            return whole(data, index)
        depth += data.count("[", at, close) - 1
        if depth == 0:
            return data[index:close], close + 1, True
        at = close + 1


def sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel=None, strip_comments=True)


_RAW_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"`+[^`]*`+")


def strip_raw_html(body: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Remove raw HTML tags and comments from Markdown, outside code; like Hugo's default, raw HTML
    is left out of the output. Returns the cleaned body and (line offset, column, tag) of each."""
    if "<" not in body:
        return body, []  # every raw tag and comment starts with "<"
    removed: list[tuple[int, int, str]] = []
    out = []
    in_fence = False
    for offset, line in enumerate(body.split("\n")):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or _FENCE.match(line) or line.startswith(("    ", "\t")):
            out.append(line)
            continue
        masked = _CODE_SPAN.sub(lambda m: "\0" * len(m.group()), line)
        pieces, last = [], 0
        for match in _RAW_TAG.finditer(masked):
            removed.append((offset, match.start() + 1, line[match.start():match.end()]))
            pieces.append(line[last:match.start()])
            last = match.end()
        out.append("".join(pieces) + line[last:])
    return "\n".join(out), removed
