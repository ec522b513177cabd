"""Property-based tests (Hypothesis): no generated front matter, slug or body makes the pipeline
crash with a traceback or put script into any output."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import make_project
from pipeline.build import Options, run
from pipeline.errors import PipelineError
from pipeline.slugs import SLUG, slugify
from test_markup import active_content

NOW = datetime(2026, 11, 24, 12, 0)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])  # the same examples on every CI run
_PROJECT = Path(tempfile.mkdtemp(prefix="pipeline-props-")) / "p"
make_project(_PROJECT)

NASTY = st.sampled_from(["<script>alert(1)</script>", "javascript:alert(1)", "&#106;avascript:", "{{ 7*7 }}",
                         "{% include 'x' %}", "]]>", "\x00", "\x07", "\ud800", "\u2028", "no", "yes", "~", "null",
                         "2026-02-30", "!!python/object:os.system", "*a", "&a", "- ", ": ", "#", "'", '"', "\\",
                         "\t", "\r\n", "../", "%2e%2e/", "é", "🏃🏽‍♀️", "膝", "\u202e", "<!--", "-->"])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=20)), max_size=6).map("".join)
VALUE = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.lists(TEXT, max_size=3),
                  st.dictionaries(st.sampled_from(["x", "subject", "rule", "citation"]), TEXT, max_size=2))
KEYS = st.sampled_from(["title", "date", "slug", "author", "summary", "tags", "draft", "updated", "image",
                        "image_alt", "newsletter", "social", "accept", "evidence", "unknown"])


def build_source(source: str) -> list:
    """Build the project with one article; returns the artifacts, or [] after a clean PipelineError."""
    posts = _PROJECT / "content/posts"
    shutil.rmtree(posts, ignore_errors=True)
    posts.mkdir(parents=True)
    (posts / "a.md").write_bytes(source.encode("utf-8", "surrogatepass"))
    try:
        return run(_PROJECT, Options(now=NOW)).artifacts
    except PipelineError as error:
        assert error.findings and all(f.location.path for f in error.findings)
        return []


def assert_no_script(artifacts) -> None:
    for artifact in artifacts:
        if artifact.media_type == "text/html" and artifact.path != "report.html":
            assert active_content(artifact.content.decode()) == [], artifact.path
        if artifact.media_type == "application/json":  # plain text posts: only their links could act
            for item in json.loads(artifact.content)["posts"].values():
                assert item["url"] is None or item["url"].startswith("https://clinic.example/blog/")


@SETTINGS
@given(st.dictionaries(KEYS, VALUE, max_size=8))
def test_any_front_matter_builds_or_fails_cleanly(fields):
    try:
        front = yaml.safe_dump(fields, allow_unicode=True)
    except yaml.YAMLError:
        return
    assert_no_script(build_source(f"---\n{front}---\n\nBody text.\n"))


@SETTINGS
@given(st.lists(st.one_of(NASTY, st.text(max_size=30), st.just("\n---\n"), st.just("\n")), max_size=12).map("".join))
def test_any_raw_file_builds_or_fails_cleanly(raw):
    assert_no_script(build_source(raw))


BLOCK = st.one_of(
    TEXT,
    st.builds(lambda t, u: f"[{t}]({u})", TEXT, st.one_of(NASTY, st.sampled_from(
        ["https://example.org/x", "/blog/", "other.md", "#top", "mailto:a@b.c", "data:text/html,x"]))),
    st.builds(lambda t: f"![{t}](javascript:alert(1))", TEXT),
    st.builds(lambda t: f"<a href=\"javascript:alert(1)\" onclick=\"x\">{t}</a>", TEXT),
    st.builds(lambda t: f"## {t}", TEXT), st.builds(lambda t: f"- {t}\n- {t}", TEXT),
    st.builds(lambda t: f"> {t}", TEXT), st.builds(lambda t: f"```\n{t}\n```", TEXT),
    st.builds(lambda t: f"`{t}`", TEXT), st.just("<iframe src=x></iframe>"), st.just("<svg onload=alert(1)>"),
    st.just("<style>*{}</style>"), st.just("<img src=x onerror=alert(1)>"), st.just("[x](java\tscript:1)"),
)


@SETTINGS
@given(st.lists(BLOCK, max_size=10).map("\n\n".join))
def test_no_markdown_body_puts_script_into_any_output(body):
    assert_no_script(build_source(f"---\ntitle: Fuzz\ndate: 2026-05-01\n---\n\n{body}\n"))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text())
def test_slugs_are_always_safe_url_names(text):
    slug = slugify(text)
    assert slug == "" or SLUG.fullmatch(slug)
    assert len(slug) <= 80 and "/" not in slug and ".." not in slug


@SETTINGS
@given(st.text(alphabet=st.sampled_from([chr(c) for c in range(0x3100) if chr(c).isspace()] + list("ab\u2019é-"))))
def test_collapsing_whitespace_by_split_equals_the_regex_it_replaced(text):
    import re

    from pipeline.text import collapse
    assert collapse(text) == re.sub(r"\s+", " ", text).strip()
