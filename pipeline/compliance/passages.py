"""What a reader reads of an article's source, as passages with source positions: the text of
every Markdown block (heading, paragraph with its soft-wrapped lines joined, list item, table
cell, blockquote; link texts and image alt texts kept, URLs, code and markup left out), and the
value of every shipped front-matter field. Each character of a passage maps back to the line
and column where it was written.

Python-Markdown's tree has no source positions, so blocks are found here in the source itself,
with the block rules Python-Markdown applies to it.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass
class Passage:
    """One block's text. `field` names where it ships (body, title, social.x ...). `starts`
    holds, per piece of the text, (offset in text, line, column), in order."""

    field: str
    text: str = ""
    starts: list = field(default_factory=list)
    offsets: list = field(default_factory=list)   # starts' text offsets, for bisect
    breaks: list = field(default_factory=list)    # offsets where a joined passage starts (see join)
    fields: list = field(default_factory=list)    # (offset, field) of each joined passage

    def add(self, piece: str, line: int, col: int) -> None:
        if not piece:
            return
        if self.text and not self.text.endswith(" "):
            self.text += " "   # a wrapped line continues the block after a space
        self.offsets.append(len(self.text))
        self.starts.append((line, col))
        self.text += piece

    def field_at(self, offset: int) -> str:
        if not self.fields:
            return self.field
        return self.fields[max(bisect_right([o for o, _ in self.fields], offset) - 1, 0)][1]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, where the character at `offset` was written."""
        index = max(bisect_right(self.offsets, offset) - 1, 0)
        line, col = self.starts[index]
        return line, col + offset - self.offsets[index]


_FENCE = re.compile(r"^\s*(```|~~~)")
_REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)")
_RULE = re.compile(r"^\s{0,3}(?:(?:[-*_]\s*){3,}|=+\s*)$")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")
_CELL = re.compile(r"[^|]+")
_INLINE = re.compile(r"""
  (?P<code>`+[^`]*`+)
| (?P<close>\]\((?:[^()\s]|\([^)]*\))*(?:\s+"[^"]*")?\))
| (?P<ref>\]\[[^\]]*\])
| (?P<drop>!\[|\[|\]|\*\*|__|~~)
| (?P<url><https?://[^>]*>|<[^>\s]+@[^>\s]+>|https?://\S+|<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)
| (?P<ent>&(?:\#\d+|\#x[0-9a-fA-F]+|[A-Za-z]+);)
| (?P<em>(?<![\w*])[*_](?=\S)|(?<=\S)[*_](?![\w*]))
| (?P<esc>\\[\\`*_{}\[\]()#+\-.!>|])
""", re.X)


# Where inline markup may start, or the "://" of a bare URL (one character class scans quicker
# than an alternation with "https?://"; see _start).
_MARKUP = re.compile(r"[`\]\[!*_~<&\\:]")


def _start(text: str, at: int) -> int:
    """Where the markup found at `at` starts: a bare URL's "http" or "https" before its "://";
    -1 for any other colon."""
    if text[at] != ":":
        return at
    if text.startswith("://", at):
        if at >= 5 and text.startswith("https", at - 5):
            return at - 5
        if at >= 4 and text.startswith("http", at - 4):
            return at - 4
    return -1


def _inline(passage: Passage, text: str, line: int, col: int) -> None:
    """Add `text` (written at line, col) to `passage` without its inline markup. Emphasis
    becomes a straight quote: an italic title reads like a quoted one."""
    last = 0
    pieces = []
    for candidate in _MARKUP.finditer(text):
        start = _start(text, candidate.start())
        if start < last:
            continue
        match = _INLINE.match(text, start)
        if match is None:
            continue
        kind = match.lastgroup
        pieces.append((text[last:match.start()], last))
        if kind == "ent":
            pieces.append((html.unescape(match.group()), match.start()))
        elif kind == "em":
            pieces.append(('"', match.start()))
        elif kind == "esc":
            pieces.append((match.group()[1], match.start() + 1))
        elif kind in ("code", "url"):
            pieces.append((" ", match.start()))
        last = match.end()
    pieces.append((text[last:], last))
    first = True
    for piece, at in pieces:
        if not piece:
            continue
        if first:
            passage.add(piece, line, col + at)
            first = False
        else:   # same line: continue without the joining space
            passage.offsets.append(len(passage.text))
            passage.starts.append((line, col + at))
            passage.text += piece


def body_passages(lines, first_line: int) -> list[Passage]:
    """Passages of a Markdown body whose first line (`lines[0]`) is file line `first_line`."""
    out: list[Passage] = []
    current: Passage | None = None
    fence = False
    in_list = False
    blank_before = True
    table = False
    previous = None   # (text, line, column) of a paragraph's only line so far

    def flush():
        nonlocal current
        if current is not None and current.text.strip():
            out.append(current)
        current = None

    for offset, raw in enumerate(lines):
        number = first_line + offset
        stripped = raw.lstrip()
        lead = stripped[:1]   # the first character that is not a space: what each block marker starts with
        if lead in ("`", "~") and _FENCE.match(raw):
            fence = not fence
            flush()
            continue
        if fence or lead == "[" and _REFDEF.match(raw):
            continue
        if not stripped.rstrip():
            flush()
            blank_before, table = True, False
            continue
        indent = len(raw) - len(stripped)
        if blank_before and not in_list and (raw.startswith("\t") or indent >= 4):
            continue   # indented code
        if blank_before and indent == 0:
            in_list = False
        blank_before = False
        col = 0
        if lead.isalpha() and not table:   # a paragraph's line: no block marker starts with a letter
            if current is None:
                current = Passage("body")
                previous = (raw, number, 1)
            else:
                previous = None
            _inline(current, raw[indent:].rstrip(), number, indent + 1)
            continue
        quote = _QUOTE.match(raw)
        if quote:
            col = quote.end()
            if not raw[col:].strip():
                flush()
                continue
        body = raw[col:]
        if _RULE.match(body):
            flush()
            continue
        if _TABLE_SEP.match(body):
            table = True
            if current is not None and previous is not None and "|" in previous[0]:
                current = None   # the paragraph was the table's header row
                _cells(out, *previous)
            continue
        if body.lstrip().startswith("|") or (table and "|" in body):
            flush()
            _cells(out, body, number, col + 1)
            continue
        heading = _HEADING.match(body)
        item = _ITEM.match(body)
        if heading:
            flush()
            current = Passage("body")
            _inline(current, body[heading.end():].rstrip().rstrip("#").rstrip(), number, col + heading.end() + 1)
            flush()
            continue
        if item:
            flush()
            in_list = True
            current = Passage("body")
            _inline(current, body[item.end():], number, col + item.end() + 1)
            continue
        if current is None:
            current = Passage("body")
            previous = (body, number, col + 1)
        else:
            previous = None
        start = len(body) - len(body.lstrip())
        _inline(current, body[start:].rstrip(), number, col + start + 1)
    flush()
    return out


def _cells(out: list[Passage], row: str, line: int, col: int) -> None:
    for match in _CELL.finditer(row):
        cell = match.group()
        if cell.strip() and not set(cell.strip()) <= set(":-"):
            passage = Passage("body")
            lead = len(cell) - len(cell.lstrip())
            _inline(passage, cell.strip(), line, col + match.start() + lead)
            if passage.text.strip():
                out.append(passage)


def join(passages) -> Passage:
    """One passage of many, each starting a new sentence: the words of an article are looked
    up once, not once per block."""
    whole = Passage("")
    for passage in passages:
        if whole.text:
            whole.text += "\n\n"
        base = len(whole.text)
        whole.breaks.append(base)
        whole.fields.append((base, passage.field))
        whole.offsets += [base + o for o in passage.offsets]
        whole.starts += passage.starts
        whole.text += passage.text
    return whole


def field_passage(name: str, lines, span, line_offset: int) -> Passage | None:
    """The passage of a front-matter value whose YAML node spans `span` (start and end marks,
    0-based as PyYAML's) in the file's `lines`; front matter starts after `line_offset` lines."""
    first, last = span[0].line + line_offset, span[1].line + line_offset
    passage = Passage(name)
    quoted = False
    for index in range(first, min(last, len(lines) - 1) + 1):
        line = lines[index]
        start = span[0].column if index == first else 0
        end = span[1].column if index == last else len(line)
        text = line[start:end]
        if index == first and text.lstrip()[:1] in ("|", ">"):
            continue   # block scalar indicator
        if index == first and text[:1] in ("'", '"'):
            quoted = True
            text, start = text[1:], start + 1
        if index == last and quoted and text.rstrip()[-1:] in ("'", '"'):
            text = text.rstrip()[:-1]
        lead = len(text) - len(text.lstrip())
        if text.strip():
            passage.add(text.strip(), index + 1, start + lead + 1)
    return passage if passage.text.strip() else None
