"""The writer stages each build by updating the spare tree (the output before last) and swaps it
in: across any sequence of builds the output equals a cold build, holds no empty folders, and
files that did not change are neither rewritten nor copied."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from conftest import build, built, make_project, post, settle, tree
from pipeline.writer.paths import MARKER
from pipeline.writer.spare import WRITERS
from pipeline.incremental.filestat import signature


def cold(project, tmp_path):
    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".pipeline", "output", ".output*"))
    assert build(copy, "--no-cache").exit_code == 0
    return tree(copy / "output")


def folders(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir())


def empty_folders(out):
    return [p for p in out.rglob("*") if p.is_dir() and not any(p.iterdir())]


STEPS = [
    ("add", lambda p: (p / "content/posts/c.md").write_text(post("Calf Care", "2026-07-01", "Calves.", tags="[calf]"))),
    ("edit", lambda p: (p / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Edited ankles."))),
    ("delete", lambda p: (p / "content/posts/c.md").unlink()),
    ("retitle", lambda p: (p / "content/posts/b.md").write_text(post("Back Pain Basics", "2026-06-01", "Backs."))),
    ("nothing", lambda p: None),
    ("restore", lambda p: (p / "content/posts/b.md").write_text(post("Back Basics", "2026-06-01", "Backs.",
                                                                      tags="[back]"))),
]


def test_every_build_in_a_sequence_equals_a_cold_build(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Ankle Basics", "2026-05-01", "Ankles.", tags="[ankle]"),
        "b.md": post("Back Basics", "2026-06-01", "Backs.", tags="[back]"),
    })
    assert build(project).exit_code == 0
    for name, step in STEPS:
        step(project)
        result = build(project)
        assert result.exit_code == 0, (name, result.stderr)
        assert tree(project / "output") == cold(project, tmp_path), name
        assert not empty_folders(project / "output"), name
        assert (project / ".output-spare").is_dir(), name
    assert not list(project.glob(".output.*"))


def test_an_unchanged_file_keeps_its_inode_and_a_changed_one_never_writes_through(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Ankle Basics", "2026-05-01", "Ankles."),
        "b.md": post("Back Basics", "2026-06-01", "Backs."),
    })
    for _ in range(3):  # the third build stages from the spare tree
        assert build(project).exit_code == 0
    page = project / "output/site/back-basics/index.html"
    inode, before = page.stat().st_ino, page.read_bytes()
    changed = project / "output/site/ankle-basics/index.html"
    old_inode = tmp_path / "old-ankle-page"   # the page's inode, which output/ and the spare tree share
    os.link(changed, old_inode)
    old_bytes = old_inode.read_bytes()
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles, edited."))
    assert build(project).exit_code == 0
    assert page.stat().st_ino == inode and page.read_bytes() == before
    assert old_inode.read_bytes() == old_bytes   # the new page was never written through the old inode
    assert b"Ankles, edited." in changed.read_bytes()
    # and the spare tree caught up with it afterwards (see writer.spare._catch_up): one inode again
    assert (project / ".output-spare/site/ankle-basics/index.html").stat().st_ino == changed.stat().st_ino


def _one_inode_in_both(out, spare) -> list:
    """Every file of `out` (the marker aside), each one inode with the same file of `spare`."""
    files = [p.relative_to(out) for p in out.rglob("*") if p.is_file() and p.name != MARKER]
    assert files and all((spare / f).stat().st_ino == (out / f).stat().st_ino for f in files)
    return files


def test_a_first_build_leaves_a_spare_tree_so_the_next_build_links_nothing_from_output(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Ankle Basics", "2026-05-01", "Ankles.", tags="[ankle]"),
        "b.md": post("Back Basics", "2026-06-01", "Backs.", tags="[back]"),
    })
    assert build(project).exit_code == 0
    out, spare = project / "output", project / ".output-spare"
    _one_inode_in_both(out, spare)
    assert not list(project.glob(".output.*"))
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles, edited.", tags="[ankle]"))
    # every unchanged file was already in the spare tree it staged from
    assert built(project).work.files_linked == 0
    assert tree(out) == cold(project, tmp_path) and not empty_folders(out)


def test_after_a_build_that_changed_every_page_the_next_edit_links_nothing_from_output(tmp_path):
    """The spare tree catches up with output/ in the build's saves (writer._catch_up): the edit
    after a template edit stages on a tree that holds every page already."""
    from test_uptodate import UP_TO_DATE
    project = make_project(tmp_path / "p", {
        "a.md": post("Ankle Basics", "2026-05-01", "Ankles.", tags="[ankle]"),
        "b.md": post("Back Basics", "2026-06-01", "Backs.", tags="[back]"),
    })
    for _ in range(2):
        assert build(project).exit_code == 0
    template = project / "templates/blog/article.html"
    template.write_text(template.read_text().replace("</nav>", "</nav>\n<p>Edited template.</p>"))
    assert build(project).exit_code == 0
    out, spare = project / "output", project / ".output-spare"
    assert all("Edited template." in (out / "site" / slug / "index.html").read_text()
               for slug in ("ankle-basics", "back-basics"))   # (every page changed)
    files = _one_inode_in_both(out, spare)
    assert sorted(p.relative_to(spare) for p in spare.rglob("*") if p.is_file() and p.name != MARKER) \
        == sorted(files)
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles, edited.", tags="[ankle]"))
    assert built(project).work.files_linked == 0
    assert tree(out) == cold(project, tmp_path) and not empty_folders(out)
    # Linking a changed page into the spare tree moves its ctime in output/ too: the up-to-date
    # stamp is saved with it (else the next build would find output/ changed and build again).
    (project / "content/posts/b.md").write_text(post("Back Basics", "2026-06-01", "Backs, edited.", tags="[back]"))
    settle(project)
    assert UP_TO_DATE not in build(project, "--verbose").stderr
    assert UP_TO_DATE in build(project, "--verbose").stderr


def test_a_file_of_output_edited_after_the_build_is_not_linked_into_the_spare_tree(tmp_path):
    from pipeline.writer.spare import _catch_up
    out, spare = tmp_path / "output", tmp_path / ".output-spare"
    for folder in (out, spare):
        (folder / "a").mkdir(parents=True)
    (out / "a/page.html").write_text("new page")
    (out / "a/other.html").write_text("new other")
    (spare / "a/page.html").write_text("old page")
    (spare / "a/gone.html").write_text("not in output/ any more")
    entry = lambda path, text: [hashlib.sha256(text.encode()).hexdigest(), *signature(os.stat(path))]  # noqa: E731
    current = {"a/page.html": entry(out / "a/page.html", "new page"),
               "a/other.html": entry(out / "a/other.html", "new other")}
    old = {"a/page.html": entry(spare / "a/page.html", "old page"),
           "a/gone.html": entry(spare / "a/gone.html", "not in output/ any more")}
    (out / "a/other.html").write_text("hand edit")   # after the build, before its saves
    left = {"spare": dict(old), "folders": {"": None, "a": None}}
    _catch_up(out, current, left)
    spare_entries = left["spare"]
    assert (spare / "a/page.html").stat().st_ino == (out / "a/page.html").stat().st_ino
    assert spare_entries["a/page.html"] == current["a/page.html"] == entry(out / "a/page.html", "new page")
    assert not (spare / "a/other.html").exists() and "a/other.html" not in spare_entries
    assert not (spare / "a/gone.html").exists() and "a/gone.html" not in spare_entries


def test_a_spare_tree_that_cannot_be_linked_is_dropped_and_the_next_build_is_still_right(tmp_path, monkeypatch):
    import errno
    real = os.link
    refused = []

    def link(source, target, *args, **kwargs):
        if "-spare" + os.sep in os.fspath(target):   # into the mirror that becomes the spare tree
            refused.append(target)
            raise OSError(errno.EMLINK, "too many links")
        return real(source, target, *args, **kwargs)

    project = make_project(tmp_path / "p", {"a.md": post("Ankle Basics", "2026-05-01", "Ankles.")})
    monkeypatch.setattr(os, "link", link)
    assert build(project).exit_code == 0
    monkeypatch.undo()
    assert not (project / ".output-spare").exists() and not list(project.glob(".output.*"))
    assert 1 <= len(refused) <= WRITERS + 1   # none tried after a failure but those already under way
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles, edited."))
    assert build(project).exit_code == 0
    assert tree(project / "output") == cold(project, tmp_path) and (project / ".output-spare").is_dir()


@pytest.mark.parametrize("damage", ["file edited", "file deleted", "file added", "manifest deleted",
                                    "manifest garbage"])
def test_a_damaged_spare_tree_or_manifest_still_gives_a_cold_build(tmp_path, damage):
    project = make_project(tmp_path / "p", {"a.md": post("Ankle Basics", "2026-05-01", "Ankles.")})
    for _ in range(2):
        assert build(project).exit_code == 0
    spare, manifest = project / ".output-spare", project / ".output-manifest.marshal"
    page = spare / "site/ankle-basics/index.html"
    if damage == "file edited":
        data = page.read_bytes()
        page.unlink()
        page.write_bytes(data.replace(b"Ankles.", b"Hacked!"))
        os.utime(page, ns=(0, 0))
    elif damage == "file deleted":
        page.unlink()
    elif damage == "file added":
        (spare / "site/stray.html").write_text("stray")
    elif damage == "manifest deleted":
        manifest.unlink()
    else:
        manifest.write_text("{not marshal data")
    (project / "content/posts/b.md").write_text(post("Back Basics", "2026-06-01", "Backs."))
    assert build(project).exit_code == 0
    assert tree(project / "output") == cold(project, tmp_path)


def test_an_artifact_written_in_pieces_lands_whole_and_leaves_no_partial_file(tmp_path):
    # The report is streamed into the staging folder piece by piece, never held whole in memory.
    from pipeline.model import Artifact
    from pipeline.writer.staging import Staging

    root = tmp_path / "p"
    (root / "content").mkdir(parents=True)
    pieces = [b"<p>one</p>", "<p>zw\u00f6lf</p>".encode("utf-8"), b"", b"<p>end</p>"]
    for round_ in range(3):   # the second and third rounds stage from a spare tree
        staging = Staging(root / "output", root)
        staging.add_pieces(Artifact("report.html", b"", "report", "text/html", for_readers=False), iter(pieces))
        staging.add(Artifact("a/index.html", f"page {round_}".encode(), "blog", "text/html"))
        changes = staging.commit()
        assert (root / "output/report.html").read_bytes() == b"".join(pieces)
        assert "report.html" not in changes.changed
        assert sorted(p.name for p in (root / "output").iterdir()) == [".pipeline-output", "a", "report.html"]
    pieces[0] = b"<p>two</p>"
    staging = Staging(root / "output", root)
    staging.add_pieces(Artifact("report.html", b"", "report", "text/html", for_readers=False), iter(pieces))
    assert staging.commit().changed == ("report.html",)
    assert (root / "output/report.html").read_bytes() == b"".join(pieces)


def edit_in_place(path):
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.write(b"Z")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # mtime put back: only the ctime tells


TREE_CHANGES = {
    "nothing": lambda p: None,
    "output page edited in place": lambda p: edit_in_place(p / "output/site/ankle-basics/index.html"),
    "output page deleted": lambda p: (p / "output/site/ankle-basics/index.html").unlink(),
    "output stray added": lambda p: (p / "output/site/stray/x.html").parent.mkdir() or
    (p / "output/site/stray/x.html").write_text("stray"),
    "spare page edited in place": lambda p: edit_in_place(p / ".output-spare/site/back-basics/index.html"),
    "spare folder removed": lambda p: shutil.rmtree(p / ".output-spare/site/back-basics"),
    "spare tree removed": lambda p: shutil.rmtree(p / ".output-spare"),
    "manifest removed": lambda p: (p / ".output-manifest.marshal").unlink(),
}


def known(entries: dict) -> set[str]:
    """The files a manifest knows the bytes of (a spare file's entry is None when they are unknown)."""
    return {path for path, entry in entries.items() if entry}


@pytest.mark.parametrize("change", TREE_CHANGES)
def test_the_survey_made_by_a_forked_process_equals_the_one_made_in_process(tmp_path, change):
    from pipeline.writer.lastoutput import LastOutput

    project = make_project(tmp_path / "p", {"a.md": post("Ankle Basics", "2026-05-01", "Ankles."),
                                            "b.md": post("Back Basics", "2026-06-01", "Backs.")})
    for _ in range(3):
        assert build(project).exit_code == 0
    TREE_CHANGES[change](project)
    forked = LastOutput(project / "output", project, background=True)
    assert forked.forked
    here = LastOutput(project / "output", project)
    assert not here.forked
    answers = [last.surveys() for last in (forked, here)]
    assert not forked.forked   # reaped
    (out_a, spare_a), (out_b, spare_b) = answers
    assert (out_a.files, out_a.same, out_a.folders) == (out_b.files, out_b.same, out_b.folders)
    assert (spare_a is None) == (spare_b is None)
    if spare_a is not None:
        assert (spare_a.files, spare_a.same, spare_a.folders) == (spare_b.files, spare_b.same, spare_b.folders)
    if change == "nothing":
        assert out_a.same == out_a.files == set(forked.current)
        assert spare_a.same == known(forked.spare_entries)
    if change == "output page edited in place":
        assert out_a.files - out_a.same == {"site/ankle-basics/index.html"}


def test_a_survey_process_that_fails_or_is_not_wanted_is_reaped_and_the_build_surveys_itself(tmp_path, monkeypatch):
    from pipeline.writer.lastoutput import LastOutput

    project = make_project(tmp_path / "p", {"a.md": post("Ankle Basics", "2026-05-01", "Ankles.")})
    for _ in range(2):
        assert build(project).exit_code == 0
    parent, real = os.getpid(), os.lstat
    here = []

    def fails_in_the_child(place, *args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the survey process fails")
        here.append(os.fspath(place))
        return real(place, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", fails_in_the_child)   # what a survey stats each folder and file with
    last = LastOutput(project / "output", project, background=True)
    child = last._background._child
    here.clear()
    old, spare = last.surveys()      # the process failed: surveyed here instead
    assert os.path.join(last.out, "site/ankle-basics/index.html") in here
    assert old.same == set(last.current) and spare.same == known(last.spare_entries)
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)   # and it was reaped
    unwanted = LastOutput(project / "output", project, background=True)
    child = unwanted._background._child
    unwanted.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles, edited."))
    assert build(project).exit_code == 0   # every build's survey process fails: still right
    assert tree(project / "output") == cold(project, tmp_path)
