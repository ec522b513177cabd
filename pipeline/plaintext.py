"""HTML -> plain text written for people: headings set apart, lists with markers, links as readable
URLs after their text, quotes marked, paragraphs wrapped near 72 columns."""

from __future__ import annotations

import lxml.html

from pipeline.text import collapse

WIDTH = 72


def html_to_text(html: str, width: int = WIDTH) -> str:
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    blocks = _blocks(root, width)
    return "\n\n".join(b for b in blocks if b.strip()).strip() + "\n"


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> str:
    """`text` with its whitespace collapsed, filled into lines of at most `width` characters
    (indents included), a word longer than that alone on its line: exactly textwrap.fill(...,
    break_long_words=False, break_on_hyphens=False). Collapsed text has one space between words
    and no other whitespace, so the fill is a greedy pass over the words (textwrap's general
    chunking is work this text never needs)."""
    lines: list[str] = []
    line: list[str] = []
    size = 0
    for word in text.split():   # the words of collapse(text)
        if line and size + 1 + len(word) <= width:
            line.append(word)
            size += 1 + len(word)
            continue
        if line:
            lines.append(" ".join(line))
        lead = indent if lines else (first if first is not None else indent)
        line, size = [lead + word], len(lead) + len(word)
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines)


def _inline(element) -> str:
    """Text of an inline run, with each link's URL after its text."""
    parts = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):
            parts.append(child.tail or "")
            continue
        if child.tag == "br":
            parts.append("\n")
        elif child.tag == "img":
            alt = child.get("alt") or ""
            parts.append(f"[{alt}]" if alt else "")
        elif child.tag == "a" and child.get("href"):
            label = _inline(child).strip()
            href = child.get("href")
            parts.append(label if label == href or href.startswith("#") else f"{label} ({href.removeprefix('mailto:')})")
        elif child.tag in ("ul", "ol"):
            parts.append("")
        else:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _blocks(element, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    text = (element.text or "").strip()
    if text:
        out.append(wrap(text, width, indent))
    for child in element:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag
        if tag in ("h1", "h2"):
            title = collapse(_inline(child))
            out.append(f"{title}\n{('=' if tag == 'h1' else '-') * min(len(title), width)}")
        elif tag in ("h3", "h4", "h5", "h6"):
            out.append(collapse(_inline(child)).upper())
        elif tag in ("ul", "ol"):
            out.append(_list(child, width, indent))
        elif tag == "blockquote":
            inner = _blocks(child, width - 2)
            out.append("\n".join("> " + line if line else ">" for line in "\n\n".join(inner).split("\n")))
        elif tag == "pre":
            out.append("\n".join("    " + line for line in child.text_content().rstrip("\n").split("\n")))
        elif tag == "hr":
            out.append("-" * 20)
        elif tag == "table":
            out.append(_table(child))
        elif tag in ("div", "section", "article", "figure", "dl"):
            out.extend(_blocks(child, width, indent))
        else:
            out.append("\n".join(wrap(part, width, indent) for part in _inline(child).split("\n") if part.strip()))
        tail = (child.tail or "").strip()
        if tail:
            out.append(wrap(tail, width, indent))
    return out


def _list(element, width: int, indent: str) -> str:
    lines = []
    start = int(element.get("start", "1")) if (element.get("start") or "1").isdigit() else 1
    for number, item in enumerate((li for li in element if li.tag == "li"), start=start):
        marker = f"{number}. " if element.tag == "ol" else "- "
        nested = [child for child in item if isinstance(child.tag, str) and child.tag in ("ul", "ol")]
        text = collapse(_inline(item))
        lines.append(wrap(text, width, indent + " " * len(marker), first=indent + marker))
        for sub in nested:
            lines.append(_list(sub, width, indent + " " * len(marker)))
    return "\n".join(lines)


def _table(element) -> str:
    rows = []
    for row in element.iter("tr"):
        cells = [collapse(c.text_content()) for c in row if c.tag in ("td", "th")]
        rows.append(" | ".join(cells))
    return "\n".join(rows)
