"""Nothing a writer types can write outside output/, overwrite another article, or publish a file
from outside the project."""

from __future__ import annotations

import os

import pytest

from conftest import build, make_project, post, tree


@pytest.mark.parametrize("slug", ["../escape", "/etc/passwd", "..\\\\windows", "%2e%2e%2fetc", "a\\x00b",
                                  "../site2/x", "Case-Sensitive", "feed.xml", "a/b", "trailing-", "dots..x"])
def test_a_slug_that_could_leave_its_folder_is_refused(tmp_path, slug):
    project = make_project(tmp_path / "p", {"a.md": post("A", slug=f'"{slug}"')})
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/a.md:4:7: error: slug:" in result.stderr
    assert not (project / "output").exists()
    assert not (tmp_path / "escape").exists() and not (tmp_path / "site2").exists()


@pytest.mark.parametrize("slug", ["tags", "page", "static", "og", "feed", "images", "404"])
def test_a_slug_equal_to_a_generated_name_is_refused(tmp_path, slug):
    project = make_project(tmp_path / "p", {"a.md": post("A", slug=f'"{slug}"')})
    result = build(project)
    assert result.exit_code == 1
    assert f"error: slug: '{slug}' is a name the site uses itself" in result.stderr


@pytest.mark.parametrize("image", ["../../etc/passwd", "/../secret.png", "images\\\\x.png", "%2e%2e/x.png",
                                   "javascript:alert(1)", "file:///etc/passwd"])
def test_an_image_path_that_could_leave_the_site_is_refused(tmp_path, image):
    project = make_project(tmp_path / "p", {"a.md": post("A", image=f'"{image}"', image_alt="x")})
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/a.md:4:8: error: image:" in result.stderr


def test_titles_that_differ_only_in_case_or_accents_collide_and_both_files_are_named(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Café Knees"), "b.md": post("CAFE KNEES"),
                                            "c.md": post("Cafe\u0301 Knees")})
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/b.md:2:8: error: slug: 'cafe-knees' is also the URL of content/posts/a.md" in result.stderr
    assert "content/posts/c.md:2:8: error: slug: 'cafe-knees' is also the URL of content/posts/a.md" in result.stderr


def test_a_static_file_on_a_generated_path_is_refused(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")}, files={"content/static/feed.xml": "<rss/>"})
    result = build(project)
    assert result.exit_code == 1
    assert ("output/site/feed.xml: error: two outputs would be written to the same file: site/feed.xml (blog) and "
            "site/feed.xml (feed); rename one") in result.stderr


def test_an_article_linked_from_outside_content_is_refused(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text(post("Secret"))
    project = make_project(tmp_path / "p")
    os.symlink(outside, project / "content/posts/secret.md")
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/secret.md: error: this file is a link to a place outside content/" in result.stderr


def test_a_static_file_linked_from_outside_content_is_never_published(tmp_path):
    (tmp_path / "passwd").write_text("root:x:0:0")
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    (project / "content/static").mkdir(parents=True)
    os.symlink(tmp_path / "passwd", project / "content/static/passwd.txt")
    result = build(project)
    assert result.exit_code == 1
    assert "content/static/passwd.txt: error: this file is a link to a place outside content/static/" in result.stderr
    assert not (project / "output").exists()


def test_links_to_outside_the_site_are_errors_not_paths(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", body="[up](../../../../etc/passwd) [x](/etc/passwd)")})
    result = build(project)
    assert result.exit_code == 1
    assert "error: link '../../../../etc/passwd' points outside the site" in result.stderr
    assert "error: link '/etc/passwd' points outside the site" in result.stderr


def test_leftovers_of_an_interrupted_build_are_cleaned_up(project):
    assert build(project).exit_code == 0
    before = tree(project / "output")
    stale = project / ".output.new-424242"
    stale.mkdir()
    (stale / "half.html").write_text("half")
    assert build(project).exit_code == 0
    assert not stale.exists()
    assert tree(project / "output") == before
