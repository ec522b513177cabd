"""The newsletter's message.eml, written directly: multipart/alternative, the text/plain part first
and the text/html part last, both UTF-8 quoted-printable, lines ended by CRLF. The bytes are those
email.message.EmailMessage makes of the same content (set_content, add_alternative, set_boundary,
as_bytes under email.policy.SMTP), but for the header fields header_fields.py says it writes
otherwise; tests/test_mime.py holds the two side by side."""

from __future__ import annotations

import binascii
import re
from datetime import datetime
from email.utils import format_datetime

from pipeline.channels import header_fields

# A MIME boundary's characters (RFC 2046 bchars but space), at most 30: its Content-Type fits a line.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,./:=?-]{1,30}")
_B2A_EXTRA = re.compile(rb"=(?:2E|20|09)")   # escapes b2a_qp makes where the email package does not
_TEXT_PART = b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
# add_alternative makes the HTML part a message of its own, and so gives it a MIME-Version.
_HTML_PART = (b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
              b'MIME-Version: 1.0\r\n\r\n')


def alternative_message(*, sender: tuple[str, str], reply_to: tuple[str, str], subject: str, date: datetime,
                        message_id: str, unsubscribe: list[str], boundary: str, text: str, html: str) -> bytes:
    """The message: From and Reply-To as (display name, address), the display name possibly
    empty; `message_id` with its angle brackets; `unsubscribe` the List-Unsubscribe URLs.
    ValueError for a value a header cannot carry (a line break, an address that is not ASCII
    dot-atoms...)."""
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"boundary {boundary!r}: expected 1-30 of the characters a MIME boundary may hold, no space")
    head = (header_fields.mailbox("From", *sender) + header_fields.mailbox("Reply-To", *reply_to)
            + header_fields.unstructured("Subject", subject) + f"Date: {format_datetime(date)}\r\n"
            + header_fields.message_id(message_id) + header_fields.url_list("List-Unsubscribe", unsubscribe)
            + "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    delimiter = f"\r\n--{boundary}".encode("ascii")
    return b"".join((head.encode("ascii"), delimiter[2:], b"\r\n", _TEXT_PART, quoted_printable(text),
                     delimiter, b"\r\n", _HTML_PART, quoted_printable(html), delimiter, b"--\r\n"))


def quoted_printable(text: str) -> bytes:
    """`text` in UTF-8 quoted-printable as the email package encodes a text part: a line ends at
    CR, LF or CRLF and is written with CRLF; '=', controls and bytes past '~' as =XX; lines at
    most 78 characters, a longer one broken by soft breaks ('=' at the end) without splitting an
    =XX; a space or tab ending a line encoded. The last line ends with CRLF too."""
    escaped = binascii.b2a_qp(b"\n".join(text.encode("utf-8").splitlines()), istext=True)
    # b2a_qp also breaks lines at 76 and encodes a '.' alone on a line, which the email package
    # does not: its soft breaks are removed, and every =2E, =20 and =09 is its own (the email
    # package never encodes a '.', nor a blank but at a line's end, which is done below).
    escaped = escaped.replace(b"=\n", b"")
    if _B2A_EXTRA.search(escaped):
        escaped = escaped.replace(b"=2E", b".").replace(b"=20", b" ").replace(b"=09", b"\t")
    lines = []
    for line in escaped.split(b"\n"):
        if len(line) <= header_fields.MAX_LINE and line[-1:] not in (b" ", b"\t"):
            lines.append(line)
        else:
            _break_line(line, lines)
    lines.append(b"")
    return b"\r\n".join(lines)


def _break_line(line: bytes, lines: list[bytes]) -> None:
    """email.quoprimime.body_encode for one line: pieces of 77 characters and a soft break, fewer
    where an =XX would be cut; then the rest, its trailing blank encoded if there is room for
    =XX, else kept before a soft break, else moved alone to a line of its own."""
    start, last_start = 0, len(line) - 1 - header_fields.MAX_LINE
    while start <= last_start:
        stop = start + header_fields.MAX_LINE - 1
        if line[stop - 2] == ord("="):
            lines.append(line[start:stop - 1])
            start = stop - 2
        elif line[stop - 1] == ord("="):
            lines.append(line[start:stop])
            start = stop - 1
        else:
            lines.append(line[start:stop] + b"=")
            start = stop
    if line[-1:] not in (b" ", b"\t"):
        lines.append(line[start:])
        return
    blank = b"=20" if line[-1:] == b" " else b"=09"
    room = start - last_start
    if room >= 3:
        lines.append(line[start:-1] + blank)
    elif room == 2:
        lines += [line[start:] + b"=", b""]
    else:
        lines += [line[start:-1] + b"=", blank]
