"""output/ is replaced only by a whole, good build; bad input, unsafe folders and crashes lose nothing."""

from __future__ import annotations

import os

import pytest

from conftest import build, cli, post, tree
from pipeline.model import Artifact
from pipeline.writer.lastoutput import recover
from pipeline.writer.paths import PathCheck


def test_a_failed_build_leaves_the_previous_output_byte_for_byte(project):
    assert build(project).exit_code == 0
    before = tree(project / "output")
    (project / "content/posts/bad.md").write_text("---\ntitle: Bad\ndate: 2026-02-30\n---\n", "utf-8")
    result = build(project)
    assert result.exit_code == 1
    assert "Nothing was written to output/." in result.stderr
    assert tree(project / "output") == before


def test_a_template_error_leaves_the_previous_output(project):
    assert build(project).exit_code == 0
    before = tree(project / "output")
    article = project / "templates/blog/article.html"
    article.write_text(article.read_text().replace("{{ article.title }}</h1>", "{{ article.titel }}</h1>"))
    result = build(project)
    assert result.exit_code == 1
    assert result.stderr.startswith("templates/blog/article.html:")
    assert "template uses an undefined value" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(project / "output") == before


def test_deleted_articles_and_drafts_leave_no_stale_files(project):
    build(project)
    assert (project / "output/site/knee-basics/index.html").exists()
    (project / "content/posts/knee.md").unlink()
    (project / "content/posts/hip.md").write_text(post("Hip Strength for Runners", "2026-06-01", draft="true"))
    assert build(project).exit_code == 0
    assert not (project / "output/site/knee-basics").exists()
    assert not (project / "output/site/hip-strength-for-runners").exists()
    assert not (project / "output/site/tags/knee").exists()


def test_two_builds_of_the_same_input_are_byte_identical(project, tmp_path):
    build(project, "--out", str(tmp_path / "one"))
    os.utime(project / "content/posts/knee.md")
    build(project, "--out", str(tmp_path / "two"))
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


@pytest.mark.parametrize("target", [".", "content", "content/posts", "templates", ".."])
def test_refuses_an_output_folder_that_is_or_holds_the_project(project, target):
    before = tree(project)
    result = build(project, "--out", str(project / target))
    assert result.exit_code == 1
    assert "refusing to use" in result.stderr
    assert tree(project) == before


def test_refuses_to_replace_a_folder_the_pipeline_did_not_create(project, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_bytes(b"years of work")
    result = build(project, "--out", str(precious))
    assert result.exit_code == 1
    assert "refusing to replace a folder the pipeline did not create" in result.stderr
    assert (precious / "thesis.docx").read_bytes() == b"years of work"


def test_a_write_failure_midway_keeps_the_previous_output(project, monkeypatch):
    build(project)
    before = tree(project / "output")
    (project / "content/posts/new.md").write_text(post("Brand New", "2026-07-01"))  # so files must be written
    calls = {"n": 0}
    real = type(project).write_bytes

    def failing(self, data):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(type(project), "write_bytes", failing)
    result = build(project)
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "could not write the build (No space left on device); the previous output is unchanged" in result.stderr
    assert tree(project / "output") == before
    assert not list(project.glob(".output.*"))


def test_a_swap_interrupted_after_moving_the_old_output_is_recovered(project):
    build(project)
    before = tree(project / "output")
    os.replace(project / "output", project / ".output.old-999")  # killed between the two renames
    recover(project / "output")
    assert tree(project / "output") == before
    assert build(project).exit_code == 0
    assert not list(project.glob(".output.*"))


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd", "site/../../x", "site\\..\\x", "a/\x00b",
                                  "site//x", ""])
def test_the_writer_refuses_paths_outside_output(path):
    problems = PathCheck().problems(Artifact(path, b"", "blog", "text/html"))
    assert [(str(p.location), p.message) for p in problems] == [
        (f"output/{path}", f"refusing to write outside output/: {path!r}")]


def test_the_writer_refuses_two_artifacts_on_one_path_even_by_case_or_unicode_form():
    artifacts = [Artifact("site/Caf\u00e9/index.html", b"", "blog", "text/html"),
                 Artifact("site/cafe\u0301/index.html", b"", "feed", "text/html")]
    paths = PathCheck()
    assert paths.problems(artifacts[0]) == []
    assert [p.message for p in paths.problems(artifacts[1])] == [
        "two outputs would be written to the same file: site/Caf\u00e9/index.html (blog) and "
        "site/cafe\u0301/index.html (feed); rename one"]


def test_check_never_writes(project):
    result = cli(project, "check", "--now", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Checked 2 articles and ")
    assert not (project / "output").exists()
