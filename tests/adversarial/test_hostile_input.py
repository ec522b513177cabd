"""Inputs that used to cost quadratic time, crash with a traceback or change a header: each is
refused at its line, or built in bounded time and memory."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import NOW, REPO, SITE_YAML, build, make_project, post


@pytest.mark.parametrize("encoding,name", [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32"),
                                           ("utf-32-be", "UTF-32")])
def test_a_utf16_or_utf32_file_is_named_by_its_byte_order_mark(tmp_path, encoding, name):
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    data = bom + post("Knee Basics").encode(encoding)
    project = make_project(tmp_path / "p", files={"content/posts/a.md": data})
    result = build(project)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"content/posts/a.md:1:1: error: the file is {name}" in result.stderr
    assert "Latin-1" not in result.stderr


def test_a_utf16_site_yaml_is_named(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post()})
    (project / "content/site.yaml").write_bytes(SITE_YAML.encode("utf-16"))
    result = build(project)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/site.yaml:1:1: error: the file is UTF-16" in result.stderr


@pytest.mark.parametrize("slug", ["con", "nul", "aux", "prn", "com1", "com9", "lpt1", "lpt9"])
def test_a_windows_device_name_is_refused_as_a_slug(tmp_path, slug):
    project = make_project(tmp_path / "p", {"a.md": post("A", slug=slug)})
    result = build(project)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"content/posts/a.md:4:7: error: slug: '{slug}' is a device name on Windows" in result.stderr


@pytest.mark.parametrize("title", ["CON", "Nul", "Com1"])
def test_a_title_that_makes_a_device_name_is_refused(tmp_path, title):
    result = build(make_project(tmp_path / "p", {"a.md": post(title)}))
    assert result.exit_code == 1
    assert f"content/posts/a.md:2:8: error: slug: '{title.lower()}' is a device name on Windows" in result.stderr


def test_a_tag_that_makes_a_device_name_is_refused(tmp_path):
    result = build(make_project(tmp_path / "p", {"a.md": post("A", tags="[knee, AUX]")}))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/posts/a.md:4:" in result.stderr and "'aux' is a device name on Windows" in result.stderr


def test_a_device_like_slug_with_more_letters_is_kept(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", slug="console"), "b.md": post("B", slug="com10")})
    assert build(project).exit_code == 0
    assert (project / "output/site/console/index.html").exists()
    assert (project / "output/site/com10/index.html").exists()


def _build_in_child(project: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Build in a fresh process; returns it and that process's peak memory in MB."""
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from click.testing import CliRunner
        from pipeline.cli import main
        from pipeline.incremental.saves import wait
        result = CliRunner().invoke(main, ["--project", {str(project)!r}, "build", "--now", {NOW!r}])
        wait(Path({str(project)!r}))
        sys.stderr.write(result.stderr)
        # VmHWM: this process's own peak (ru_maxrss would also count the forked test runner's pages
        # it held before exec, which grow with every test run before this one).
        hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        print(json.dumps([result.exit_code, int(hwm.split()[1]) / 1024]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    code, peak = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0, done.stderr[-2000:]
    return done, peak


def test_raw_html_on_one_long_line_takes_bounded_time_and_memory(tmp_path):
    """20,000 tags on one 180 KB line: once 135 s and gigabytes (each tag's warning held the line)."""
    body = "Intro.\n\n" + "<b>x</b> " * 20000
    project = make_project(tmp_path / "p", {"a.md": post("A", body=body)})
    done, peak = _build_in_child(project)
    assert peak < 200, f"{peak:.0f} MB"
    assert done.stderr.count("warning: raw HTML") == 1
    assert "content/posts/a.md:8:1: warning: raw HTML '<b>' (and 39999 more raw HTML tags on this line)" in done.stderr
    page = (project / "output/site/a/index.html").read_text()
    assert "<b>" not in page.split("<article", 1)[1] and page.count("x x x") > 100


def test_raw_html_on_many_lines_warns_once_per_tag_line(tmp_path):
    body = "Intro.\n\n<b>bold</b> and\n\ntext <i>more</i>\n"
    result = build(make_project(tmp_path / "p", {"a.md": post("A", body=body)}))
    assert result.exit_code == 0
    assert "a.md:8:1: warning: raw HTML '<b>' (and 1 more raw HTML tag on this line)" in result.stderr
    assert "a.md:10:6: warning: raw HTML '<i>' (and 1 more raw HTML tag on this line)" in result.stderr


def _message(project: Path) -> email.message.EmailMessage:
    [eml] = (project / "output/newsletter").rglob("message.eml")
    return email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)


@pytest.mark.parametrize("sender,name", [
    ("Next Level PT: Newsletter <news@clinic.example>", "Next Level PT: Newsletter"),
    ("Clinic Bcc: x@y.z <news@clinic.example>", "Clinic Bcc: x@y.z"),
    ("Smith, Jones & Co <news@clinic.example>", "Smith, Jones & Co"),
    ('"Clinic; News" <news@clinic.example>', "Clinic; News"),
])
def test_a_display_name_with_specials_is_quoted_and_keeps_the_address(tmp_path, sender, name):
    site = SITE_YAML.replace("from: Test Clinic <news@clinic.example>", f"from: '{sender}'")
    project = make_project(tmp_path / "p", {"a.md": post()}, site=site)
    result = build(project)
    assert result.exit_code == 0, result.stderr
    message = _message(project)
    [mailbox] = message["From"].addresses
    assert (mailbox.display_name, mailbox.addr_spec) == (name, "news@clinic.example")
    assert message["Message-ID"].endswith("@clinic.example>")
    [reply] = message["Reply-To"].addresses
    assert reply.addr_spec == "desk@clinic.example"


@pytest.mark.parametrize("sender", ["x@y.z, news@clinic.example", "A <a@clinic.example>, B <b@clinic.example>",
                                    "News <news@clinic.example> <x@y.z>", "News"])
def test_a_from_that_is_not_one_mailbox_is_refused_at_its_line(tmp_path, sender):
    site = SITE_YAML.replace("from: Test Clinic <news@clinic.example>", f"from: '{sender}'")
    result = build(make_project(tmp_path / "p", {"a.md": post()}, site=site))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/site.yaml:11:" in result.stderr and "expected one address" in result.stderr


@pytest.mark.parametrize("url", ["https://clinic.example/u>,<https://evil.example/x", "https://clinic.example/u,x",
                                 "https://clinic.example/u x", 'https://clinic.example/"x', "http://clinic.example/u",
                                 "https://user@evil.example/u"])
def test_an_unsubscribe_url_must_be_one_https_url(tmp_path, url):
    site = SITE_YAML.replace("unsubscribe_url: https://clinic.example/unsubscribe", f"unsubscribe_url: '{url}'")
    result = build(make_project(tmp_path / "p", {"a.md": post()}, site=site))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/site.yaml:13:" in result.stderr and "expected an https:// URL" in result.stderr and "(one URL:" in result.stderr


@pytest.mark.parametrize("url", ["https://clinic.example/unsubscribe?list=1&u=*|EMAIL|*", "*|UNSUB|*",
                                 "{{ unsubscribe_url }}", "https://clinic.example:8443/u#top"])
def test_a_valid_unsubscribe_url_gives_one_list_unsubscribe_address(tmp_path, url):
    site = SITE_YAML.replace("unsubscribe_url: https://clinic.example/unsubscribe", f"unsubscribe_url: '{url}'")
    project = make_project(tmp_path / "p", {"a.md": post()}, site=site)
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert str(_message(project)["List-Unsubscribe"]) == f"<{url}>"


@pytest.mark.parametrize("value", ["[" * 1000 + "]" * 1000, "[" * 1000, "{a: " * 500 + "1" + "}" * 500],
                         ids=["lists", "unclosed", "maps"])
def test_deeply_nested_front_matter_is_an_error_at_its_line(tmp_path, value):
    result = build(make_project(tmp_path / "p", {"a.md": post("A", tags=value)}))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/posts/a.md:4:" in result.stderr and "nested more than 32 levels deep" in result.stderr


def test_deeply_nested_site_yaml_is_an_error_at_its_line(tmp_path):
    nested = "".join(f"{'  ' * level}k{level}:\n" for level in range(3000)) + "  " * 3000 + "x: 1\n"
    site = SITE_YAML + "social:\n  offsets:\n" + textwrap.indent(nested, "    ")
    result = build(make_project(tmp_path / "p", {"a.md": post()}, site=site))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/site.yaml:" in result.stderr and "nested more than 32 levels deep" in result.stderr
    line = int(result.stderr.split("content/site.yaml:", 1)[1].split(":", 1)[0])
    assert line == 16 + 30   # k0 is on line 16; the value of k29, a map 33 levels deep, starts at k30


def test_nesting_within_the_limit_reads_as_before(tmp_path):
    result = build(make_project(tmp_path / "p", {"a.md": post("A", tags="[[[[knee]]]]")}))
    assert result.exit_code == 1 and "nested more than" not in result.stderr and "tags" in result.stderr


def test_a_static_folder_that_links_outside_the_project_is_refused(tmp_path):
    secrets = tmp_path / "elsewhere"
    secrets.mkdir()
    (secrets / "passwd").write_text("root:x:0:0")
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    os.symlink(secrets, project / "content/static")
    result = build(project)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "content/static: error: this folder is a link to" in result.stderr and "outside the project" in result.stderr
    assert not (project / "output").exists()


def test_a_static_folder_linked_within_the_project_is_published(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")}, files={"shared/logo.txt": "logo"})
    os.symlink(project / "shared", project / "content/static")
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert (project / "output/site/logo.txt").read_text() == "logo"


@pytest.mark.parametrize("piece", ["[a](b.md) ", "![a](b.png) ", "[a][ref] "], ids=["links", "images", "references"])
def test_thousands_of_links_on_one_line_convert_within_the_time_limit(piece):
    """Python-Markdown mapped every bracket of the paragraph again for each link: 5,000 links on one
    line took about a minute. Within a 10 s limit (it takes well under one), each link intact."""
    from pipeline.markdown import MarkdownRenderer

    rendered = MarkdownRenderer(time_limit=10).render(piece * 5000 + "\n\n[ref]: https://clinic.example/")
    assert rendered.html.count("<a href=" if "!" not in piece else "<img ") == 5000
    assert len(rendered.links) == 5000
