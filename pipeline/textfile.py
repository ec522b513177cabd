"""Reading a user's file as text: UTF-8 only, BOM dropped, CRLF and CR made LF, bad bytes located."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import WARNING, FindingList, Location


def read_text(path: Path, rel: str, findings: FindingList) -> str | None:
    """The file's text, or None after adding a finding that says where and why it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        findings.add(Location(rel), f"cannot read the file: {exc.strerror or exc}")
        return None
    return decode_text(data, rel, findings)


# Byte-order marks of the encodings other than UTF-8 an editor may save in; UTF-32's first, as
# UTF-32-LE's mark begins with UTF-16-LE's.
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def decode_text(data: bytes, rel: str, findings: FindingList) -> str | None:
    """read_text for bytes already read."""
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            findings.add(Location(rel, 1, 1), f"the file is {name} (it starts with a {name} byte-order mark), not "
                         f"UTF-8; save it as UTF-8 in your editor")
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        findings.add(Location(rel, line, col),
                     f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8 in your editor "
                     f"(it looks like Latin-1 or Windows-1252)")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    match = CONTROL.search(text)
    if match:
        before = text[: match.start()]
        line = before.count("\n") + 1
        col = match.start() - (before.rfind("\n") + 1) + 1
        findings.add(Location(rel, line, col), f"control character U+{ord(match.group()):04X} removed (and any "
                     f"others in the file); it cannot appear in web pages or feeds", severity=WARNING,
                     source=text.split("\n")[line - 1])
        text = CONTROL.sub("", text)
    return text


# C0/C1 controls (but tab and newline), and code points XML 1.0 forbids, including lone surrogates.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_controls(text: str) -> str:
    return CONTROL.sub("", text)
