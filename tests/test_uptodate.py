"""The up-to-date fast path: a rebuild with nothing changed is skipped and repeats the last build's
findings; any change to what a build depends on (an input file, an option, the output folder, the
publishing clock crossing a moment that matters) means a real build, whose output equals a cold
build's."""

from __future__ import annotations

import os
import pickle
import shutil

import pytest

from conftest import SITE_YAML, cli, make_project, post, settle, tree

NOW = "2026-11-24T12:00"
UP_TO_DATE = "Up to date: no input, option or output file has changed since the last build."


def build(project, *extra, now=NOW):
    result = cli(project, "build", "--now", now, "--verbose", *extra)
    assert result.exit_code == 0, result.stderr
    return result


def cold(project, tmp_path, *extra, now=NOW):
    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".pipeline", "output", ".output-manifest.marshal"))
    build(copy, "--no-cache", *extra, now=now)
    return tree(copy / "output")


@pytest.fixture
def stamped(tmp_path):
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot. See [hips](hip.md).", tags="[knee]"),
        "hip.md": post("Hip Strength", "2026-06-01", "Strong hips help runners.", tags="[hip]"),
        "soon.md": post("Coming Soon", "2026-11-25T09:00:00", "Scheduled for tomorrow.", tags="[knee]"),
    }, files={"content/static/logo.txt": "logo"})
    settle(project)
    build(project)
    assert UP_TO_DATE in build(project).stderr
    return project


def _findings(stderr: str) -> list[str]:
    """The finding lines, without --verbose's timing, cache and work lines."""
    return [line for line in stderr.splitlines() if line != UP_TO_DATE and not line.startswith(("Reused ", "Work: "))
            and not line.endswith(" s")]


def test_an_unchanged_rebuild_is_skipped_and_repeats_findings_and_summary(tmp_path):
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-05-01",
                                                            "Our treatment is the best in Avon.")})
    settle(project)
    first = build(project)
    before = tree(project / "output")
    second = build(project)
    assert UP_TO_DATE in second.stderr
    assert "warning[" in first.stderr and _findings(second.stderr) == _findings(first.stderr)
    assert "No changes since the last build." in second.stdout
    summary = lambda text: text.splitlines()[-1].split(" in output/")[0]  # noqa: E731
    assert summary(second.stdout) == summary(first.stdout)
    assert tree(project / "output") == before


CHANGES = {
    "article text, same size and mtime": lambda p: _same_size_edit(p / "content/posts/hip.md"),
    "article added": lambda p: (p / "content/posts/new.md").write_text(post("New One", "2026-07-01", "Hello.")),
    "article deleted": lambda p: (p / "content/posts/soon.md").unlink(),
    "article renamed": lambda p: (p / "content/posts/soon.md").rename(p / "content/posts/later.md"),
    "template": lambda p: (p / "templates/blog/article.html").write_text(
        (p / "templates/blog/article.html").read_text() + "\n<!-- edited -->\n"),
    "static file added": lambda p: (p / "content/static/extra.txt").write_text("extra"),
    "site settings": lambda p: (p / "content/site.yaml").write_text(
        (p / "content/site.yaml").read_text().replace("Test Clinic Blog", "Renamed Clinic Blog")),
    "compliance rules": lambda p: (p / "content/compliance.yaml").write_text(
        (p / "content/compliance.yaml").read_text().replace("Educational only, not medical advice.",
                                                            "For education only; not medical advice.")),
    "output file edited by hand": lambda p: (p / "output/site/index.html").write_text("edited"),
    "output file deleted": lambda p: (p / "output/site/feed.xml").unlink(),
    # The check stats the folders and files the last build left (no listing): these prove that a
    # file or folder added, or a file edited in place with its mtime put back, is still seen.
    "output file added by hand": lambda p: (p / "output/site/extra.html").write_text("extra"),
    "output folder added by hand": lambda p: ((p / "output/site/tags/new").mkdir(),
                                              (p / "output/site/tags/new/index.html").write_text("new")),
    "output file edited in place, mtime restored": lambda p: _same_size_edit(p / "output/site/index.html",
                                                                             "<html", "<HTML"),
    "output file replaced by a rename": lambda p: ((p / "output/site/copy.tmp").write_bytes(
        (p / "output/site/index.html").read_bytes()), (p / "output/site/copy.tmp").replace(p / "output/site/index.html")),
    "stamp damaged": lambda p: [s.write_bytes(b"\x80garbage") for s in (p / ".pipeline").glob("uptodate-*")],
}


def _same_size_edit(path, old="Strong hips", new="Strung hips") -> None:
    stat = path.stat()
    text = path.read_text()
    assert old in text and len(old) == len(new)
    with path.open("r+", encoding="utf-8") as handle:   # in place: the same inode
        handle.write(text.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_any_change_means_a_real_build_equal_to_a_cold_one(stamped, tmp_path, change):
    CHANGES[change](stamped)
    result = build(stamped)
    assert UP_TO_DATE not in result.stderr
    assert tree(stamped / "output") == cold(stamped, tmp_path)


@pytest.mark.parametrize("option", ["--drafts", "--future"])
def test_another_option_means_a_real_build(stamped, tmp_path, option):
    result = build(stamped, option)
    assert UP_TO_DATE not in result.stderr
    assert tree(stamped / "output") == cold(stamped, tmp_path, option)


def test_strict_is_never_answered_from_a_lenient_build(tmp_path):
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-05-01", "We are the best.")})
    settle(project)
    build(project)
    result = cli(project, "build", "--now", NOW, "--strict")
    assert result.exit_code == 1 and "error[" in result.stderr


def test_source_date_epoch_is_part_of_the_key(stamped, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert UP_TO_DATE not in build(stamped).stderr
    assert tree(stamped / "output") == cold(stamped, tmp_path)


def test_no_cache_always_builds(stamped):
    assert UP_TO_DATE not in build(stamped, "--no-cache").stderr


def test_the_clock_moving_between_publishing_moments_keeps_the_build_up_to_date(stamped):
    assert UP_TO_DATE in build(stamped, now="2026-11-24T18:00").stderr
    assert UP_TO_DATE in build(stamped, now="2026-11-24T11:00").stderr


def test_the_clock_passing_a_future_articles_date_publishes_it(stamped, tmp_path):
    assert not (stamped / "output/site/coming-soon").exists()
    result = build(stamped, now="2026-11-25T10:00")
    assert UP_TO_DATE not in result.stderr
    assert (stamped / "output/site/coming-soon/index.html").is_file()
    assert tree(stamped / "output") == cold(stamped, tmp_path, now="2026-11-25T10:00")


def test_the_clock_moving_while_posts_are_scheduled_builds_as_a_cold_build_would(tmp_path):
    # Published 11:00. At 12:00 X's slot (1 h after) has passed: it is caught up at 12:10; LinkedIn's
    # (2 h after) is 13:00. The calendar is stamped with the clock, and caught-up posts follow it.
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-11-24T11:00:00", "About knees.")})
    linkedin = project / "output/social/hootsuite-linkedin.csv"
    settle(project)
    build(project)
    assert b"24/11/2026 13:00" in linkedin.read_bytes()
    assert UP_TO_DATE in build(project).stderr
    for now in ("2026-11-24T12:45", "2026-11-24T12:55"):
        assert UP_TO_DATE not in build(project, now=now).stderr
        assert tree(project / "output") == cold(project, tmp_path, now=now)
    assert linkedin.read_bytes().startswith(b"24/11/2026 13:05,")   # its slot passed at 12:50: caught up


def test_the_clock_passing_the_catch_up_time_leaves_the_posts_out(tmp_path):
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-11-24T11:00:00", "About knees.")},
                           site=SITE_YAML + "social:\n  catch_up: 1d\n")
    settle(project)
    build(project)
    result = build(project, now="2026-11-25T11:05")
    assert UP_TO_DATE not in result.stderr
    assert tree(project / "output") == cold(project, tmp_path, now="2026-11-25T11:05")
    assert not (project / "output/social/hootsuite-x.csv").read_bytes()
    assert ("the scheduling exports are empty: the times of all 7 social posts have passed (articles older than "
            "1 day)") in result.stdout
    again = build(project, now="2026-11-25T18:00")
    assert UP_TO_DATE in again.stderr and "the times of all 7 social posts have passed" in again.stdout


def test_a_file_changed_just_before_a_build_is_not_trusted(stamped):
    (stamped / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited just now."))
    build(stamped)
    assert not list((stamped / ".pipeline").glob("uptodate-*"))
    assert UP_TO_DATE not in build(stamped).stderr


def test_a_failed_build_leaves_no_stamp_that_hides_the_failure(stamped):
    (stamped / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "See [gone](gone.md)."))
    settle(stamped)
    assert cli(stamped, "build", "--now", NOW).exit_code == 1
    assert cli(stamped, "build", "--now", NOW).exit_code == 1


def test_stamps_are_kept_per_output_folder(stamped, tmp_path):
    other = tmp_path / "elsewhere"
    assert UP_TO_DATE not in build(stamped, "--out", str(other)).stderr
    assert UP_TO_DATE in build(stamped, "--out", str(other)).stderr
    assert UP_TO_DATE in build(stamped).stderr
    assert tree(other) == tree(stamped / "output")



def test_every_incremental_build_leaves_a_stamp_that_matches_its_output(stamped):
    """The stamp takes each output file's stat from the writer instead of a stat of its own: after
    builds that write, link from output/ and keep files of the spare tree, the next build must
    still find the output exactly as stamped."""
    edits = [
        lambda: (stamped / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited once.")),
        lambda: (stamped / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited twice.")),
        lambda: (stamped / "content/posts/knee.md").unlink(),
        lambda: (stamped / "templates/blog/article.html").write_text(
            (stamped / "templates/blog/article.html").read_text() + "\n<!-- edited -->\n"),
        lambda: (stamped / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited again.")),
    ]
    for edit in edits:
        edit()
        settle(stamped)
        assert UP_TO_DATE not in build(stamped).stderr
        (path,) = (stamped / ".pipeline").glob("uptodate-*")
        _, stamp = pickle.loads(path.read_bytes())
        # every folder and file of the tree as it is (the folders from the writer's stamps)
        out = stamped / "output"
        assert sorted(stamp.output_paths) == sorted(
            ["./"] + [p.relative_to(out).as_posix() + ("/" if p.is_dir() else "") for p in out.rglob("*")])
        assert UP_TO_DATE in build(stamped).stderr


def test_a_stamp_whose_findings_are_damaged_means_a_real_build(tmp_path):
    """The findings a stamp repeats are kept after it in its file, each chunk with its length and
    CRC: damage there is found before they are shown."""
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-05-01",
                                                            "Our treatment is the best in Avon.")})
    settle(project)
    first = build(project)
    (stamp,) = (project / ".pipeline").glob("uptodate-*")
    data = stamp.read_bytes()
    for damaged in (data[:-1] + bytes([data[-1] ^ 1]), data[:-3]):
        stamp.write_bytes(damaged)
        result = build(project)
        assert UP_TO_DATE not in result.stderr and _findings(result.stderr) == _findings(first.stderr)
        repeated = build(project)
        assert UP_TO_DATE in repeated.stderr and _findings(repeated.stderr) == _findings(first.stderr)
