"""Header fields of the newsletter's message, folded at 78 characters and RFC 2047-encoded as
Python 3.11's email package folds them under email.policy.SMTP (its `_refold_parse_tree`, followed
step by step over the token tree its parser makes of each value), without parsing: the trees are
built from the values, which are validated first.

Where the email package's field would not read back as written, this one differs, on purpose: a
word that looks like an RFC 2047 encoded word ('=?...') is itself encoded (the email package
decodes it on the way in); a quoted display name broken over lines keeps its quotes, as the email
package does since its security fix for gh-80222 (3.11.12); a display name of blanks only is left
out; no line of a field is empty."""

from __future__ import annotations

import binascii
import re

from pipeline.config import DOT_ATOM

MAX_LINE = 78   # email.policy.SMTP's max_line_length
_WSP = " \t"
_SPECIALS = frozenset('()<>@,:;.\\"[]')   # RFC 5322 specials: a display name holding one is quoted
_CHROME = len("=?utf-8?q??=")
_BREAK = re.compile(r"[\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]")   # where str.splitlines breaks a line
# The email package's tokens: a run of anything but space and tab, or a space or tab with all
# the whitespace (str.isspace) after it.
_TOKEN = re.compile(r"[ \t]\s*|[^ \t]+")
_DOT_ATOM = re.compile(DOT_ATOM)
_MSG_ID = re.compile(rf"<{_DOT_ATOM.pattern}@{_DOT_ATOM.pattern}>")
_OWN_WORD = re.compile(r"=\?utf-8\?([qb])\?([^?]*)\?=")
_PIECE = re.compile(r"(=\?utf-8\?[qb]\?[^?]*\?=)|([ \t]\s*)|((?:(?!=\?utf-8\?[qb]\?)[^ \t])+)")
_Q = [chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "-!*+/") else f"={b:02X}" for b in range(256)]
_Q[ord(" ")] = "_"


class _Part:
    """A token of a value as the email package's parser makes it: a word or whitespace, or a
    list of tokens; with the properties folding asks of it."""

    __slots__ = ("text", "kind", "children", "encodable", "fws", "encode")

    def __init__(self, text: str, children: tuple | None = None, *, kind: str = "",
                 encodable: bool | None = None, fws: bool = False, encode: bool | None = None):
        self.text = text
        self.children = children
        self.kind = kind   # "ptext" (a special in it asks for an encoded word), "bare-quoted-string"
        self.encodable = (children is None or all(c.encodable for c in children)) if encodable is None else encodable
        self.fws = children[0].fws if children else fws
        # must be an encoded word: not ASCII, or mistakable for one
        self.encode = (any(c.encode for c in children) if children is not None else
                       not text.isascii() or "=?" in text) if encode is None else encode


def _group(*children: _Part, encodable: bool | None = None) -> _Part:
    return _Part("".join(c.text for c in children), children, encodable=encodable)


def _spaces(text: str) -> _Part:
    return _Part(text, fws=True, encode=not text.isascii())


def _words(text: str, kind: str = "") -> list[_Part]:
    return [_spaces(t) if t[0] in _WSP else _Part(t, kind=kind) for t in _TOKEN.findall(text)]


_UNBLOCK = _Part("")   # ends the tokens of a token that may not be encoded


def unstructured(name: str, value: str) -> str:
    """`name: value` folded, with CRLF line ends (Subject, List-Unsubscribe...)."""
    _check_line(name, value)
    if not value or not value.isascii() or "=?" in value or len(name) + 2 + len(value) > MAX_LINE:
        return _folded(name, _group(*_words(value)))
    return f"{name}: {value}\r\n"


def url_list(name: str, urls: list[str]) -> str:
    """`name: <url>, <url>` as RFC 2369 has List-Unsubscribe: each URL whole between angle
    brackets, never an encoded word (mail clients and list software read the URLs as written), a
    line broken only between two of them. A URL that is not ASCII, or holds a line break or an
    angle bracket, is refused (site settings are checked for the first: see config). Blanks are
    kept: an email service's merge tag, such as {{ unsubscribe_url }}, is replaced before sending."""
    if not urls or any(not url.isascii() or _BREAK.search(url) or set(url) & set("<>") for url in urls):
        raise ValueError(f"{name}: expected ASCII URLs without line breaks or angle brackets, got {urls!r}")
    items = [f"<{url}>" for url in urls]
    lines = [f"{name}: {items[0]}"]
    for item in items[1:]:
        if len(lines[-1]) + len(", ") + len(item) <= MAX_LINE:
            lines[-1] += ", " + item
        else:
            lines[-1] += ","
            lines.append(" " + item)
    return "\r\n".join(lines) + "\r\n"


def mailbox(name: str, display_name: str, address: str) -> str:
    """`name: display name <address>`, or the bare address when there is no display name (or only
    blanks: the email package may encode the address with them); the name quoted when it holds a
    special, encoded when it is not ASCII."""
    _check_line(name, display_name)
    if display_name.isspace():
        display_name = ""
    local, _, domain = address.rpartition("@")
    if not (_DOT_ATOM.fullmatch(local) and _DOT_ATOM.fullmatch(domain)) or "=?" in address:
        raise ValueError(f"{name}: {address!r} is not an address a message can carry (words of ASCII letters, "
                         f"digits and !#$%&'*+/=?^_`{{|}}~- joined by dots, one @)")
    quoted = not _SPECIALS.isdisjoint(display_name)
    text = f"{_quoted(display_name) if quoted else display_name} <{address}>" if display_name else address
    if not text.isascii() or "=?" in text or len(name) + 2 + len(text) > MAX_LINE:
        return _folded(name, _address_tree(display_name, quoted, local, domain))
    return f"{name}: {text}\r\n"


def message_id(msg_id: str) -> str:
    """The Message-ID field: on its line, else alone on the next, else unfolded (a msg-id is never
    broken)."""
    if not _MSG_ID.fullmatch(msg_id):
        raise ValueError(f"Message-ID: expected <dot-atom@dot-atom> in ASCII, got {msg_id!r}")
    if len("Message-ID: ") + len(msg_id) <= MAX_LINE or len(msg_id) + 1 > MAX_LINE:
        return f"Message-ID: {msg_id}\r\n"
    return f"Message-ID:\r\n {msg_id}\r\n"


def _check_line(name: str, value: str) -> None:
    if _BREAK.search(value):
        raise ValueError(f"{name}: a header value may not contain a line break, got {value!r}")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _address_tree(display_name: str, quoted: bool, local: str, domain: str) -> _Part:
    """The email package's tree of `display_name <local@domain>`."""
    spec = _group(_group(_dot_atom(local), encodable=False), _Part("@"), _group(_dot_atom(domain), encodable=False),
                  encodable=False)
    if not display_name:
        return _group(_group(_group(spec)))
    angle = [_Part("<"), spec, _Part(">")]
    if quoted:
        bare = _Part(_quoted(display_name), tuple(_words(display_name, "ptext")), kind="bare-quoted-string")
        shown = _group(_group(bare, _group(_spaces(" "))))
    else:
        tokens = _TOKEN.findall(display_name + " ")
        leader = [_group(_spaces(tokens.pop(0)))] if tokens[0][0] in _WSP else []
        if not tokens:   # whitespace only: no display name, the whitespace leads the angle address
            return _group(_group(_group(_group(_group(*leader, *angle)))))
        atoms = [_group(_Part(word), _group(_spaces(space))) for word, space in zip(tokens[::2], tokens[1::2])]
        atoms[0] = _group(*leader, *atoms[0].children)
        shown = _group(*atoms)
    return _group(_group(_group(_group(shown, _group(*angle)))))


def _dot_atom(text: str) -> _Part:
    parts = []
    for atom in text.split("."):
        parts += [_Part("."), _Part(atom)] if parts else [_Part(atom)]
    return _group(_group(*parts, encodable=True))


def _folded(name: str, value: _Part) -> str:
    label = _group(_Part(name), _Part(":"), encodable=False)
    lines = _refold([label, _group(_spaces(" ")), value] if value.children else [label, value])
    # Where the email package takes a line's only blank to start the next line with, it leaves an
    # empty line, which would end the header: left out.
    return "\r\n".join(line for line in lines if line) + "\r\n"


def _refold(parts: list[_Part]) -> list[str]:
    """email._header_value_parser._refold_parse_tree for our tokens: words are kept whole where
    they fit, moved to the next line where they fit there, and encoded (and so split) otherwise;
    neighbouring encoded words on a line are merged into one."""
    lines = [""]
    last_ew = None      # where the encoded word that later ones may join starts, on the last line
    blocked = 0         # inside a token that may not be encoded (an address, ...)
    want = False
    stack = parts[::-1]
    while stack:
        part = stack.pop()
        if part is _UNBLOCK:
            blocked -= 1
            continue
        text = part.text
        if not want and part.kind == "ptext":
            want = not _SPECIALS.isdisjoint(text)
        if part.encode:
            want = True
        if want and not blocked:
            if not part.encodable:
                want = False
                last_ew = None
                alone = _refold(list(part.children))
                if len(alone) == 1:
                    alone = alone[0]
                    if len(alone) > MAX_LINE - len(lines[-1]):
                        lines.append(_steal_space(lines))
                    lines[-1] += alone
                    continue
            if part.children is not None:
                stack += part.children[::-1]
                want = False
                continue
            last_ew = _fold_as_ew(text, lines, last_ew)
            want = False
            continue
        if len(text) <= MAX_LINE - len(lines[-1]):
            lines[-1] += text
            continue
        if len(text) + 1 <= MAX_LINE:
            space = _steal_space(lines)
            if space or part.fws:
                lines.append(space + text)
                last_ew = None
                continue
        if part.children is not None:
            children = part.children
            if part.kind == "bare-quoted-string":   # broken over lines, it keeps its quotes
                children = (_Part('"', kind="ptext"), *(_Part(_quoted(c.text)[1:-1], kind="ptext") for c in children),
                            _Part('"', kind="ptext"))
            if not part.encodable:
                blocked += 1
                stack.append(_UNBLOCK)
            stack += children[::-1]
            continue
        if not blocked:
            stack.append(part)
            want = True
            continue
        space = _steal_space(lines)
        if space or part.fws:
            lines.append(space + text)
        else:
            lines[-1] += text
    return lines


def _fold_as_ew(text: str, lines: list[str], last_ew: int | None) -> int:
    """email._header_value_parser._fold_as_ew: `text` as encoded words from the end of the last
    line, joined to the encoded word already there (from `last_ew`) when there is one."""
    if last_ew is not None:
        text = _decoded(lines[-1][last_ew:]) + text
        lines[-1] = lines[-1][:last_ew]
    if text[0] in _WSP:   # a blank next to plain text stays plain
        if len(lines[-1]) == MAX_LINE:
            lines.append(_steal_space(lines))
        lines[-1] += text[0]
        text = text[1:]
    trailing = ""
    if text[-1] in _WSP:
        trailing, text = text[-1], text[:-1]
    start = len(lines[-1]) if last_ew is None else last_ew
    while text:
        room = MAX_LINE - len(lines[-1])
        if room - _CHROME <= 0:
            lines.append(" ")
            continue
        chunk = text[:room - _CHROME]
        word = _encoded_word(chunk)
        while len(word) > room:
            chunk = chunk[:-1]
            word = _encoded_word(chunk)
        lines[-1] += word
        text = text[len(chunk):]
        if text:
            lines.append(" ")
            start = len(lines[-1])
    lines[-1] += trailing
    return start


def _encoded_word(text: str) -> str:
    """RFC 2047 UTF-8 encoded word, Q unless B is at least 5 characters shorter."""
    data = text.encode("utf-8")
    q = "".join(map(_Q.__getitem__, data))
    if len(q) - 4 * -(-len(data) // 3) < 5:
        return f"=?utf-8?q?{q}?="
    return f"=?utf-8?b?{binascii.b2a_base64(data, newline=False).decode('ascii')}?="


def _decoded(text: str) -> str:
    """The text of a line's end as the email package reads it when merging encoded words: our
    encoded words decoded, the whitespace between two of them dropped."""
    pieces = [(m.lastindex, m[0]) for m in _PIECE.finditer(text)]
    out = []
    for i, (kind, piece) in enumerate(pieces):
        if kind == 1:
            q, data = _OWN_WORD.fullmatch(piece).groups()
            out.append((binascii.a2b_qp(data, header=True) if q == "q" else binascii.a2b_base64(data)).decode("utf-8"))
        elif not (kind == 2 and 0 < i < len(pieces) - 1 and pieces[i - 1][0] == pieces[i + 1][0] == 1):
            out.append(piece)
    return "".join(out)


def _steal_space(lines: list[str]) -> str:
    """The last line's trailing blank, taken off it to start the next line."""
    if lines[-1] and lines[-1][-1] in _WSP:
        space, lines[-1] = lines[-1][-1], lines[-1][:-1]
        return space
    return ""
