"""The newsletter's message.eml, written directly, is byte for byte what the standard library's
email package writes for the same article (EmailMessage set up as the newsletter once did it), and
the email package reads back the subject, names and bodies as written. The differences are on
purpose: a word that looks like an RFC 2047 encoded word is encoded (the email package decodes it,
so its message would not say what the author wrote), and where the email package's message would
not carry a display name as written (see names_the_email_package_misses), this one does."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from hypothesis import given, settings, strategies as st

from conftest import make_project, post
from pipeline.channels.newsletter import build_message
from pipeline.config import mailbox_parts
from pipeline.errors import PipelineError

DATE = datetime(2026, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
SOURCE = "content/posts/knee.md"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from pipeline.build import load_site
    from pipeline.errors import FindingList
    from pipeline.options import Options
    project = make_project(tmp_path_factory.mktemp("mime") / "p", {"knee.md": post("Knee Basics", "2026-05-01")})
    return Loaded(load_site(project, Options(now=datetime(2026, 11, 1, tzinfo=timezone.utc)), FindingList()))


class Loaded:
    """The site the messages are made for, named in a failing example instead of printed whole."""

    def __init__(self, site):
        self.site = site

    def __repr__(self) -> str:
        return "<the site of tests/test_mime.py>"


def with_newsletter(site, **changes):
    return replace(site, config=replace(site.config, newsletter=replace(site.config.newsletter, **changes)))


def reference(site, subject: str, html: str, text: str, date: datetime, key: str) -> bytes:
    """The message as the email package writes it: EmailMessage under email.policy.default,
    written under email.policy.SMTP, with the newsletter's fields, parts and boundary."""
    news = site.config.newsletter
    name, address = mailbox_parts(news.sender)
    digest = hashlib.sha256((html + "\0" + text).encode("utf-8")).hexdigest()[:16]
    message = EmailMessage(policy=policy.default)
    message["From"] = Address(display_name=name, addr_spec=address) if name else address
    reply_name, reply_address = mailbox_parts(news.reply_to)
    message["Reply-To"] = Address(display_name=reply_name, addr_spec=reply_address)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<newsletter.{key}.{digest}@{address.rsplit('@', 1)[1]}>"
    message["List-Unsubscribe"] = ", ".join([f"<{news.unsubscribe_url}>"]
                                            + ([f"<{news.unsubscribe_mailto}>"] if news.unsubscribe_mailto else []))
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.set_boundary(f"=_alternative_{digest}")
    return message.as_bytes(policy=policy.SMTP)


def as_read(data: bytes) -> tuple:
    """What a reader gets: every header's decoded value, then each part's type and text."""
    message = email.message_from_bytes(data, policy=policy.default)
    return ([(name, str(value)) for name, value in message.items()],
            [(part.get_content_type(), part.get_content().replace("\r\n", "\n")) for part in message.iter_parts()])


def lines_of(text: str) -> str:
    """`text` as a text part gives it back: each line (ended by CR, LF or CRLF) ended by LF."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    return "".join(line + "\n" for line in lines) or "\n"


def words(text: str) -> str:
    """`text` without its blanks: what a reader must get back of a subject or name. (Blanks may
    not survive: the reader drops those after the field's colon and, under RFC 2047, any between
    two encoded words, where the email package sometimes leaves a word's only blank.)"""
    return "".join(text.split())


def assert_valid(data: bytes, folded: tuple[bytes, ...] = (b"Subject:",)) -> None:
    """CRLF line ends only; lines of at most 998 characters, 78 in the bodies and in the fields
    `folded` (the others can hold a word that may not be broken: a msg-id, an address, a URL...)."""
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    fields = re.split(rb"\r\n(?![ \t])", head)
    assert all(len(line) <= 78 for field in fields if field.startswith(folded) for line in field.split(b"\r\n"))
    assert all(len(line) <= 78 for line in body.split(b"\r\n"))


# Text as an author may write it: words, long words, blanks, specials, non-ASCII, emoji. Encoded-word
# look-alikes ('=?') are the one difference from the email package, tested on their own below.
_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="=")
_WORDS = st.one_of(
    st.text(_CHARS, max_size=12),
    st.sampled_from([" ", "  ", "\t", " \u3000", "\u00a0", ",", '"', "\\", "(", ")", ".", ":", ";", "@", "[", "=", "?",
                     "Caf\u00e9", "na\u00efve", "\u00fcber", "\U0001f642", "\U0001f9b5\U0001f3fd", "x" * 80,
                     "r\u00e9\u00e9ducation" * 9, "y" * 150]),
)
SUBJECTS = st.lists(_WORDS, min_size=1, max_size=14).map("".join).filter(lambda s: "=?" not in s)
NAMES = st.lists(_WORDS, max_size=8).map("".join).map(lambda s: s.replace("<", "").replace(">", "")).filter(
    lambda s: "=?" not in s)
_LINES = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from([".", "..", ". ", "From here", "From ", "=", "==3D", "a=", " ", "\t", "end ", "end\t",
                     "\u00e9" * 40, "\U0001f642" * 30, "<p style=\"margin:0\">x</p>"]),
    st.integers(60, 240).map(lambda n: "w" * n),
    st.integers(60, 240).map(lambda n: ("ab= " * n)[:n]),
)
BODIES = st.lists(_LINES, max_size=12).flatmap(
    lambda lines: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda end: end.join(lines)))
# Message-IDs that fit after the field's name, alone on the next line, and on no line (left whole).
KEYS = st.sampled_from(["knee", "digest-2026-05-31", "dry-needling-questions-we-hear", "k" * 70])
DATES = st.sampled_from([DATE, datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc), datetime(2027, 1, 2, 3, 4)])


@settings(max_examples=300, deadline=None)
@given(subject=SUBJECTS, text=BODIES, html=BODIES, key=KEYS, date=DATES)
def test_a_message_is_the_bytes_the_email_package_writes(loaded, subject, text, html, key, date):
    made = build_message(loaded.site, subject, html, text, date, key, SOURCE)
    assert made == reference(loaded.site, subject, html, text, date, key)
    assert_valid(made)
    headers, parts = as_read(made)
    assert words(dict(headers)["Subject"]) == words(subject)
    assert parts == [("text/plain", lines_of(text)), ("text/html", lines_of(html))]


UNSUBSCRIBES = st.sampled_from([("https://clinic.example/unsubscribe", None), ("*|UNSUB|*", None),
                                 ("https://clinic.example/u/" + "t" * 80, "mailto:unsub@clinic.example?subject=stop")])


@settings(max_examples=200, deadline=None)
@given(name=NAMES, reply_name=NAMES, in_quotes=st.booleans(),
       address=st.sampled_from(["news@clinic.example", "n@c.example", "newsletter.team+weekly@mail.physio-" + "x" * 40
                                + ".example"]), unsubscribe=UNSUBSCRIBES)
def test_names_addresses_and_unsubscribe_links_are_the_bytes_the_email_package_writes(
        loaded, name, reply_name, in_quotes, address, unsubscribe):
    def mailbox(display: str) -> str:   # as site.yaml may write it: bare, or quoted to keep its blanks
        return f'"{display}" <{address}>'.replace("\\", "\\\\") if in_quotes and '"' not in display else \
            f"{display} <{address}>"
    site = with_newsletter(loaded.site, sender=mailbox(name), reply_to=mailbox(reply_name),
                           unsubscribe_url=unsubscribe[0], unsubscribe_mailto=unsubscribe[1])
    made = build_message(site, "Knee Basics", "<p>Hi</p>\n", "Hi\n", DATE, "knee", SOURCE)
    expected = reference(site, "Knee Basics", "<p>Hi</p>\n", "Hi\n", DATE, "knee")
    assert_valid(made)
    assert mailboxes_read(made) == mailboxes_written(site)
    assert unsubscribe_read(made) == [url for url in unsubscribe if url]
    if not names_the_email_package_misses(site, expected) and not urls_the_email_package_encodes(expected):
        assert made == expected
    else:   # the rest is the email package's message without names and unsubscribe links
        unnamed = with_newsletter(site, sender=address, reply_to=address)
        assert without_fields(made) == without_fields(reference(unnamed, "Knee Basics", "<p>Hi</p>\n", "Hi\n",
                                                                DATE, "knee"))


def unsubscribe_read(data: bytes) -> list[str]:
    """The URLs of List-Unsubscribe as a mail client reads them (RFC 2369): the field unfolded,
    each URL between < and >, as written; never an encoded word, which no client decodes there."""
    value = re.sub(rb"\r\n[ \t]", b" ", unsubscribe_field(data)).decode("ascii").split(":", 1)[1]
    found = re.fullmatch(r" <([^<>\s]+)>(?:, <([^<>\s]+)>)?", value)
    assert found is not None and "=?" not in value, value
    return [url for url in found.groups() if url]


def urls_the_email_package_encodes(message: bytes) -> bool:
    """Whether the email package's `message` wrote its List-Unsubscribe URLs as encoded words
    (a URL too long for a line): mail clients then cannot read them."""
    return unsubscribe_field(message).count(b"=?") > 0


def unsubscribe_field(message: bytes) -> bytes:
    return next(f for f in re.split(rb"\r\n(?![ \t])", message.partition(b"\r\n\r\n")[0])
                if f.startswith(b"List-Unsubscribe:"))


def names_the_email_package_misses(site, message: bytes) -> bool:
    """Whether the email package's `message` does not carry the site's display names as written:
    a name of blanks only (the message leaves it out: the email package may encode the address
    into it), a quoted name broken over lines (it loses its quotes, gh-80222, fixed in Python
    3.11.12), or an empty line between two words too long for a line (which ends the header)."""
    names = [name for name, _ in map(mailbox_parts, (site.config.newsletter.sender, site.config.newsletter.reply_to))]
    head = message.partition(b"\r\n\r\n")[0]
    return (any(name.isspace() for name in names) or b"\r\nMIME-Version: 1.0" not in head
            or any(name.isascii() and re.search(r'[()<>@,:;.\\"\[\]]', name) and quoted(name).encode() not in head
                   for name in names))


def quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def without_fields(data: bytes) -> list[bytes]:
    """The message's fields and body but its mailboxes and unsubscribe links."""
    return [field for field in re.split(rb"\r\n(?![ \t])", data)
            if not field.startswith((b"From:", b"Reply-To:", b"List-Unsubscribe:"))]


def mailboxes_written(site) -> list[list[tuple[str, str]]]:
    news = site.config.newsletter
    return [[(words(name), address)] for name, address in map(mailbox_parts, (news.sender, news.reply_to))]


def mailboxes_read(data: bytes) -> list[list[tuple[str, str]]]:
    """From and Reply-To as a reader gets them, as (the name's words, address) per mailbox."""
    read = email.message_from_bytes(data, policy=policy.default)
    return [[(words(m.display_name), m.addr_spec) for m in read[field].addresses] for field in ("From", "Reply-To")]


def test_a_long_display_name_with_a_comma_is_one_mailbox(loaded):
    name = "Next Level Physical Therapy, Sports Medicine & Rehabilitation of Springfield"
    site = with_newsletter(loaded.site, sender=f"{name} <news@clinic.example>")
    made = build_message(site, "Knee Basics", "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert made.startswith(b'From: "Next Level Physical Therapy, Sports Medicine & Rehabilitation of\r\n'
                           b' Springfield" <news@clinic.example>\r\n')
    assert mailboxes_read(made)[0] == [(words(name), "news@clinic.example")]


def test_a_display_name_of_words_too_long_for_a_line_never_ends_the_header(loaded):
    # The email package leaves an empty line between the two words, which ends the header there.
    name = "x" * 80 + " " + "y" * 80
    site = with_newsletter(loaded.site, reply_to=f"{name} <desk@clinic.example>")
    made = build_message(site, "Knee Basics", "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert_valid(made)
    assert mailboxes_read(made)[1] == [(words(name), "desk@clinic.example")]


def test_a_display_name_of_blanks_only_is_left_out(loaded):
    # The email package encodes the address into the encoded word of blanks that are not ASCII.
    address = "newsletter.team+weekly@mail.physio-" + "x" * 40 + ".example"
    site = with_newsletter(loaded.site, reply_to=f'" \u3000" <{address}>')
    made = build_message(site, "Knee Basics", "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert f"\r\nReply-To: {address}\r\n".encode() in made


@pytest.mark.parametrize("subject", ["=?utf-8?q?Knee?= Basics", "Why =?iso-8859-1?b?SGk=?= matters",
                                     "a=?b =?x?q?y?="])
def test_a_subject_that_looks_encoded_is_read_back_as_written(loaded, subject):
    # The email package decodes such a word when the header is set (its message would say 'Knee
    # Basics'); the message keeps the author's text by encoding the word itself.
    made = build_message(loaded.site, subject, "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert dict(as_read(made)[0])["Subject"] == subject
    assert_valid(made)


def test_a_display_name_that_looks_encoded_is_read_back_as_written(loaded):
    site = with_newsletter(loaded.site, sender="=?utf-8?q?Spam?= PT <news@clinic.example>")
    made = build_message(site, "Knee Basics", "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert email.message_from_bytes(made, policy=policy.default)["From"].addresses[0].display_name == \
        "=?utf-8?q?Spam?= PT"


@pytest.mark.parametrize("subject", ["Hi\nBcc: x@evil.example", "Hi\r\nBcc: x@evil.example", "Hi\n", "Hi\r",
                                     "Hi\u2028there", "Hi\x0b", "Hi\x85"])
def test_a_line_break_in_a_header_value_is_an_error_at_the_article(loaded, subject):
    with pytest.raises(PipelineError) as raised:
        build_message(loaded.site, subject, "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert str(raised.value) == (f"{SOURCE}: error: cannot build the email headers: Subject: a header value "
                                 f"may not contain a line break, got {subject!r}")


@pytest.mark.parametrize("sender", ["Clinic <news@clinic..example>", "Clinic <n\u00e9ws@clinic.example>",
                                    "Clinic <news@cl\u00efnic.example>", "Clinic <.news@clinic.example>"])
def test_an_address_a_message_cannot_carry_is_an_error_in_the_settings_and_never_a_message(loaded, sender, tmp_path):
    from conftest import build, make_project, post
    from test_newsletter import SITE_YAML
    project = make_project(tmp_path / "p", {"a.md": post("A")},
                           site=SITE_YAML.replace("Test Clinic <news@clinic.example>", sender))
    result = build(project)
    assert result.exit_code == 1
    assert result.stderr.startswith("content/site.yaml:") and "expected one address like" in result.stderr
    site = with_newsletter(loaded.site, sender=sender)   # (settings made without those checks)
    with pytest.raises(PipelineError) as raised:
        build_message(site, "Knee Basics", "<p>x</p>", "x", DATE, "knee", SOURCE)
    assert str(raised.value).startswith(f"{SOURCE}: error: cannot build the email headers:")
