"""Script, handlers, javascript:/data: URLs, iframes and styles from articles reach no output; text
from front matter is escaped in every context and never evaluated as a template."""

from __future__ import annotations

import json
import re
from email import policy
from email.parser import BytesParser

import feedparser
import lxml.html
import pytest

from conftest import build, make_project, post, tree

HOSTILE_BODY = """\
Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> <svg onload=alert(3)>

[click](javascript:alert(4)) [ent](&#106;avascript:alert(5)) [hex](&#x6A;avascript:alert(6))
[data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox(1))
[upper](JAVASCRIPT:alert(8)) ![img](javascript:alert(9))

<iframe src="https://evil.example/"></iframe>
<style>body{display:none}</style>
<a href="javascript:alert(10)">raw</a>
<form action="https://evil.example/"><input name=x></form>

[ok](https://example.org/fine)
"""
ACTIVE_URL = re.compile(r"^\s*(javascript|data|vbscript)\s*:", re.I)


def active_content(html: str) -> list[str]:
    """Every element or attribute in `html` that could run code or load a frame."""
    problems = []
    doc = lxml.html.document_fromstring(html) if html.strip() else None
    if doc is None:
        return problems
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("iframe", "object", "embed", "form", "style", "svg", "input", "frame", "base"):
            problems.append(element.tag)
        if element.tag == "script" and element.get("type") != "application/ld+json":
            problems.append("script")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(name)
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    ACTIVE_URL.match(re.sub(r"[\x00-\x20]", "", value)):
                problems.append(f"{name}={value}")
    return problems


@pytest.fixture
def hostile(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Hostile", body=HOSTILE_BODY, slug="hostile")})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    return project


def test_no_script_handler_or_active_url_reaches_any_html_output(hostile):
    for name, data in tree(hostile / "output").items():
        if name.endswith(".html"):
            problems = active_content(data.decode())
            if name == "report.html":  # the report's own stylesheet
                problems.remove("style")
            assert problems == [], name


def test_no_active_content_in_feed_items(hostile):
    for feed in ("feed.xml", "atom.xml"):
        for entry in feedparser.parse((hostile / "output/site" / feed).read_bytes()).entries:
            assert active_content(entry.content[0].value) == [], feed


def test_no_active_content_in_either_email_part(hostile):
    msg = BytesParser(policy=policy.default).parsebytes((hostile / "output/newsletter/hostile/message.eml").read_bytes())
    html = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html").get_content()
    assert active_content(html) == []
    text = next(p for p in msg.iter_parts() if p.get_content_type() == "text/plain").get_content()
    assert "javascript:" not in text.lower() and "vbscript:" not in text.lower()


def test_no_active_url_in_social_posts(hostile):
    data = json.loads((hostile / "output/social/hostile.json").read_text())
    for item in data["posts"].values():
        assert "javascript:" not in item["text"].lower()


def test_a_scheme_split_by_a_tab_is_refused_not_published(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", body="[tab](java\tscript:alert(7))")})
    result = build(project)
    assert result.exit_code == 1
    assert "error: broken link 'java" in result.stderr and "script:alert(7)'" in result.stderr
    assert not (project / "output").exists()


def test_the_safe_link_survives(hostile):
    html = (hostile / "output/site/hostile/index.html").read_text()
    assert '<a href="https://example.org/fine">ok</a>' in html


TRICKY_TITLE = '"Knees </title></script><script>alert(1)</script> \\" \' & {{ 7*7 }} {% raw %} ]]> --> <!--"'


def test_front_matter_text_is_escaped_everywhere_and_never_a_template(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post(TRICKY_TITLE, slug="tricky",
                                                         summary='"{{ site.organization.postal_address }} <b>x</b>"',
                                                         author='"{% for x in range(3) %}A{% endfor %}"')})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    expected_title = "Knees </title></script><script>alert(1)</script> \" ' & {{ 7*7 }} {% raw %} ]]> --> <!--"
    page = (project / "output/site/tricky/index.html").read_text()
    assert active_content(page) == []
    doc = lxml.html.fromstring(page)
    assert doc.findtext(".//h1") == expected_title
    assert doc.xpath("//meta[@name='description']/@content") == ["{{ site.organization.postal_address }} <b>x</b>"]
    assert doc.xpath("//*[@class='author']/text()") == ["By {% for x in range(3) %}A{% endfor %}"]
    assert "49" not in doc.findtext(".//h1") and "AAA" not in page
    data = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert data["headline"] == expected_title
    for feed in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((project / "output/site" / feed).read_bytes())
        assert parsed.bozo == 0 and parsed.entries[0].title == expected_title
    msg = BytesParser(policy=policy.default).parsebytes(
        (project / "output/newsletter/tricky/message.eml").read_bytes())
    assert str(msg["Subject"]) == expected_title
    email_html = (project / "output/newsletter/tricky/email.html").read_text()
    assert active_content(email_html) == []
    assert lxml.html.fromstring(email_html).findtext(".//h1") == expected_title
    social = json.loads((project / "output/social/tricky.json").read_text())
    assert social["article"]["title"] == expected_title


def test_a_title_with_a_line_break_cannot_inject_email_headers(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post('"Hello\\r\\nBcc: victim@example.org"')})
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/a.md:2:8: error: title: must be on one line" in result.stderr
