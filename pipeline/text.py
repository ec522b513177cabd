"""Plain text of HTML as a reader reads it: block elements separate words, inline ones do not."""

from __future__ import annotations

import copy

BLOCKS = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
          "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
          "section", "table", "td", "th", "tr", "ul", "body", "title", "center", "tbody", "thead", "tfoot"}


def collapse(text: str) -> str:
    """Runs of whitespace made one space, none at the ends: as re.sub(r"\\s+", " ", text).strip()
    (str.split and the regex agree on what whitespace is), without the regex's cost."""
    return " ".join(text.split())


def readable_text(element, *, copy_first: bool = True) -> str:
    """Whitespace-collapsed text of an lxml element."""
    if copy_first:
        element = copy.deepcopy(element)
    for child in element.iter():
        if isinstance(child.tag, str) and child.tag in BLOCKS:
            child.tail = "\n" + (child.tail or "")
            child.text = "\n" + (child.text or "") if child.tag != "br" else child.text
    return collapse("".join(element.itertext()))
