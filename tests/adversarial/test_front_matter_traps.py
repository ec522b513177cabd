"""Mistakes in articles are reported compiler-style, with the exact message and position a user
sees, all files in one run, exit 1, and nothing written."""

from __future__ import annotations

import pytest

from conftest import build, make_project, post


def errors_for(tmp_path, name: str, source: str | bytes) -> str:
    project = make_project(tmp_path / "p")
    path = project / "content" / "posts" / name
    path.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
    result = build(project)
    assert result.exit_code == 1, result.output
    assert not (project / "output").exists()
    assert "Traceback" not in result.stderr
    return result.stderr


CASES = [
    ("impossible date", "---\ntitle: A\ndate: 2026-02-30\n---\nbody\n",
     "content/posts/x.md:3:7: error: date: '2026-02-30' is not a real date (day is out of range for month); "
     "check the month and day\n    3 | date: 2026-02-30\n      |       ^"),
    ("month 13", "---\ntitle: A\ndate: 2026-13-45\n---\nbody\n",
     "content/posts/x.md:3:7: error: date: '2026-13-45' is not a real date (month must be in 1..12); "
     "check the month and day"),
    ("date in words", "---\ntitle: A\ndate: May 1st\n---\nbody\n",
     "content/posts/x.md:3:7: error: date: expected a date like 2026-05-01 or 2026-05-01T09:30:00-05:00, "
     "got 'May 1st'"),
    ("no front matter", "Just text\n",
     "content/posts/x.md:1:1: error: missing front matter: start the file with a line '---', then `title:` "
     "and `date:` lines, then another '---' line"),
    ("unclosed front matter", "---\ntitle: A\ndate: 2026-05-01\nbody\n",
     "content/posts/x.md:1:1: error: the front matter that starts here is never closed; add a line '---' "
     "after the last field"),
    ("unknown key with hint", "---\ntitle: A\ndate: 2026-05-01\nsumary: x\n---\nbody\n",
     "content/posts/x.md:4:1: error: unknown key 'sumary' (did you mean 'summary'?)"),
    ("missing title", "---\ndate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:2:1: error: missing required field 'title'; add a line like "
     "`title: How Dry Needling Works`"),
    ("duplicate key", "---\ntitle: A\ndate: 2026-05-01\ntitle: B\n---\nbody\n",
     "content/posts/x.md:4:1: error: duplicate key 'title' (first set on line 2); keep only one"),
    ("no coerced to false", "---\ntitle: no\ndate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:2:8: error: title: expected text, got a true/false value (false); YAML reads "
     "unquoted yes/no/on/off as true/false, so put the value in quotes"),
    ("number for text", "---\ntitle: 2026\ndate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:2:8: error: title: expected text, got a number (2026); put the value in quotes"),
    ("draft not boolean", "---\ntitle: A\ndate: 2026-05-01\ndraft: maybe\n---\nbody\n",
     "content/posts/x.md:4:8: error: draft: expected true or false, got 'maybe'"),
    ("tab indentation", "---\ntitle: A\n\tdate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:3:1: error: YAML syntax: a tab character here; YAML indents with spaces only, "
     "so replace the tab with spaces"),
    ("python tag never runs", "---\ntitle: !!python/object/apply:os.system [\"touch pwned\"]\ndate: 2026-05-01\n---\nb\n",
     "content/posts/x.md:2:8: error: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'; "
     "remove it"),
    ("slug escaping output", "---\ntitle: A\ndate: 2026-05-01\nslug: ../../etc/passwd\n---\nbody\n",
     "content/posts/x.md:4:7: error: slug: '../../etc/passwd' is not valid (use lowercase ASCII letters, "
     "digits and single hyphens, like knee-pain-basics)"),
    ("reserved slug", "---\ntitle: A\ndate: 2026-05-01\nslug: tags\n---\nbody\n",
     "content/posts/x.md:4:7: error: slug: 'tags' is a name the site uses itself; choose another slug"),
    ("image without alt", "---\ntitle: A\ndate: 2026-05-01\nimage: images/knee.jpg\n---\nbody\n",
     "content/posts/x.md:4:8: error: image_alt: required when image is set; describe the picture"),
    ("alias", "---\ntitle: &t A\ndate: 2026-05-01\nsummary: *t\n---\nbody\n",
     "content/posts/x.md:2:8: error: YAML anchors and aliases (& and *) are not supported here"),
    ("latin-1 bytes", b"---\ntitle: Caf\xe9\ndate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:2:11: error: the file is not UTF-8 (byte 0xe9); save it as UTF-8 in your editor"),
    ("title that makes no slug", "---\ntitle: \"\u8170\u75db\"\ndate: 2026-05-01\n---\nbody\n",
     "content/posts/x.md:2:8: error: cannot make a URL name from this title; add a `slug:` line"),
]


@pytest.mark.parametrize("source, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_at_its_position(tmp_path, source, expected):
    assert expected in errors_for(tmp_path, "x.md", source)


def test_python_tag_never_executes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    errors_for(tmp_path, "x.md", "---\ntitle: !!python/object/apply:os.system [\"touch pwned\"]\n"
               "date: 2026-05-01\n---\nb\n")
    assert not (tmp_path / "pwned").exists()


def test_every_file_is_reported_in_one_run_with_a_summary(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": "---\ntitle: A\ndate: 2026-02-30\n---\n",
        "b.md": "---\ntitle: B\ndate: 2026-05-01\ncolour: red\n---\n",
        "c.md": post("Fine"),
    })
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/a.md:3:7: error: date:" in result.stderr
    assert "content/posts/b.md:4:1: error: unknown key 'colour'" in result.stderr
    assert result.stderr.rstrip().endswith(
        "Build failed: 2 errors, 0 warnings in 2 files. Nothing was written to output/.")


def test_bom_and_crlf_are_accepted(tmp_path):
    source = "\ufeff---\r\ntitle: Windows Article\r\ndate: 2026-05-01\r\n---\r\n\r\nWritten in Notepad.\r\n"
    project = make_project(tmp_path / "p")
    (project / "content/posts/w.md").write_bytes(source.encode("utf-8"))
    result = build(project)
    assert result.exit_code == 0, result.stderr
    page = (project / "output/site/windows-article/index.html").read_text("utf-8")
    assert "<p>Written in Notepad.</p>" in page


def test_line_numbers_count_the_whole_file_for_body_errors(tmp_path):
    project = make_project(tmp_path / "p", {
        "x.md": "---\ntitle: A\ndate: 2026-05-01\n---\n\nIntro.\n\nSee [our guide](/blog/no-such-page/).\n",
    })
    result = build(project)
    assert result.exit_code == 1
    assert ("content/posts/x.md:8:17: error: broken link '/blog/no-such-page/': the site has no page at that "
            "address; check it (drafts and future articles are not published)\n"
            "    8 | See [our guide](/blog/no-such-page/).\n"
            "      |                 ^") in result.stderr


def test_two_articles_on_one_path_name_both_files(tmp_path):
    project = make_project(tmp_path / "p", {
        "one.md": post("Knee Pain"),
        "two.md": post("Another", slug="knee-pain"),
    })
    result = build(project)
    assert result.exit_code == 1
    assert ("content/posts/two.md:4:7: error: slug: 'knee-pain' is also the URL of content/posts/one.md; "
            "both would be written to site/knee-pain/index.html") in result.stderr
