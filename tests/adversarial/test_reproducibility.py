"""Two builds of the same input are byte-identical whatever the machine's timezone, locale, hash
seed, checkout path or directory order; SOURCE_DATE_EPOCH is honoured, including 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import feedparser

from conftest import NOW, REPO, make_project, post, tree

POSTS = {
    "b-knee.md": post("Knee Basics", "2026-05-01T09:00", "Knees. See [hips](a-hip.md).", tags="[knee, Strength]"),
    "a-hip.md": post("Hip Strength", "2026-06-01", "Hips.", tags="[hip, strength]"),
    "c-cafe.md": post('"Café Rééducation ñ 日本"', "2026-04-01T23:30:00-07:00", "Texte accentué.", slug="cafe",
                      tags="[Ünïcode, dry needling]"),
}


def build_in(project, out, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "TZ", "LC_ALL", "LANG")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--now", NOW, "--out", str(out)],
                          cwd=project, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return tree(out)


def test_output_does_not_depend_on_timezone_locale_hash_seed_or_path(tmp_path):
    first = make_project(tmp_path / "one", POSTS)
    reference = build_in(first, tmp_path / "out-ref", TZ="UTC", LC_ALL="C", PYTHONHASHSEED="1")
    moved = tmp_path / "elsewhere" / "deeper" / "checkout"
    shutil.copytree(first, moved)
    variants = [
        (first, dict(TZ="Asia/Kolkata", LC_ALL="C.UTF-8", PYTHONHASHSEED="12345")),
        (first, dict(TZ="America/Los_Angeles", LANG="de_DE.UTF-8", PYTHONHASHSEED="random")),
        (moved, dict(TZ="Pacific/Chatham", PYTHONHASHSEED="0")),
    ]
    for index, (project, env) in enumerate(variants):
        assert build_in(project, tmp_path / f"out-{index}", **env) == reference, env


def test_output_does_not_depend_on_the_order_files_were_created(tmp_path):
    forward = make_project(tmp_path / "fwd", dict(sorted(POSTS.items())))
    backward = make_project(tmp_path / "bwd", dict(sorted(POSTS.items(), reverse=True)))
    assert build_in(forward, tmp_path / "o1") == build_in(backward, tmp_path / "o2")


def test_source_date_epoch_sets_every_build_date_including_zero(tmp_path):
    project = make_project(tmp_path / "p", POSTS)
    for epoch, expected in (("0", "1970-01-01T00:00:00+00:00"), ("1767225600", "2026-01-01T00:00:00+00:00")):
        files = build_in(project, tmp_path / f"out-{epoch}", SOURCE_DATE_EPOCH=epoch)
        atom = feedparser.parse(files["site/atom.xml"])
        assert atom.feed.updated == expected
        assert f"<lastBuildDate>{'Thu, 01 Jan 1970' if epoch == '0' else 'Thu, 01 Jan 2026'} 00:00:00 +0000".encode() \
            in files["site/feed.xml"]
        assert f"Content dated up to {expected[:10]} 00:00 UTC".encode() in files["report.html"]


def test_without_source_date_epoch_the_build_date_is_the_newest_article(tmp_path):
    files = build_in(make_project(tmp_path / "p", POSTS), tmp_path / "out")
    assert feedparser.parse(files["site/feed.xml"]).feed.updated == "Mon, 01 Jun 2026 04:00:00 +0000"


def test_a_site_with_no_articles_builds_reproducibly(tmp_path):
    project = make_project(tmp_path / "p")
    assert build_in(project, tmp_path / "a") == build_in(project, tmp_path / "b", TZ="Asia/Tokyo")


def test_the_shipped_site_builds_identically_twice(tmp_path):
    project = tmp_path / "shipped"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    assert build_in(project, tmp_path / "a") == build_in(project, tmp_path / "b", PYTHONHASHSEED="99")
