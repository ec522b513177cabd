"""The writer knows what an output tree holds from the folder stamps it recorded, listing only the
folders whose stamp moved: after any change to the tree that survey equals a full listing, an
unchanged tree is not listed at all, and a folder stamped too soon after a change is listed again."""

from __future__ import annotations

import hashlib
import os
import shutil
import time

import pytest

from conftest import build, make_project, post, tree
from pipeline.incremental import survey

LONG_AGO = 1_000_000_000_000_000_000   # 2001, in ns


def make_tree(root):
    for path, text in {"index.html": "home", "a/index.html": "a", "a/deep/x.html": "x", "a/deep/y.html": "y",
                       "b/index.html": "b", "c/only.txt": "c"}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for place in sorted(root.rglob("*"), reverse=True) + [root]:   # files, then folders, innermost first
        os.utime(place, ns=(LONG_AGO, LONG_AGO))


def entries(root):
    """The manifest entries a writer would record for every file below root."""
    found = {}
    for path in root.rglob("*"):
        if not path.is_dir():
            stat = path.lstat()
            found[path.relative_to(root).as_posix()] = [hashlib.sha256(path.read_bytes()).hexdigest(),
                                                      stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns,
                                                      stat.st_ino]
    return found


def edit_in_place(path):
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.write(b"Z")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # mtime put back: only the ctime tells


def replace_folder_by_file(root):
    shutil.rmtree(root / "c")
    (root / "c").write_text("now a file")


def replace_file_by_folder(root):
    (root / "b/index.html").unlink()
    (root / "b/index.html").mkdir()
    (root / "b/index.html/inner.txt").write_text("inner")


CHANGES = {
    "nothing": lambda root: None,
    "file added deep": lambda root: (root / "a/deep/z.html").write_text("z"),
    "file removed": lambda root: (root / "a/deep/x.html").unlink(),
    "file renamed": lambda root: (root / "a/deep/x.html").rename(root / "a/deep/w.html"),
    "file edited in place": lambda root: edit_in_place(root / "a/deep/y.html"),
    "empty folder added": lambda root: (root / "a/new").mkdir(),
    "folder with files added": lambda root: ((root / "d/e").mkdir(parents=True), (root / "d/e/f.txt").write_text("f")),
    "folder removed": lambda root: shutil.rmtree(root / "a/deep"),
    "folder renamed": lambda root: (root / "a/deep").rename(root / "a/shallow"),
    "folder replaced by a file": replace_folder_by_file,
    "file replaced by a folder": replace_file_by_folder,
    "folder replaced by a link": lambda root: (shutil.rmtree(root / "c"), os.symlink(root / "a", root / "c")),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_survey_from_stamps_finds_what_a_full_listing_finds(tmp_path, change):
    root = tmp_path / "tree"
    make_tree(root)
    recorded = entries(root)
    now = time.time_ns()
    first = survey.survey(str(root), recorded, None, now)
    assert first.files == set(recorded) and first.same == set(recorded)
    assert None not in first.folders.values()   # all stamped long ago: trusted
    CHANGES[change](root)
    again = survey.survey(str(root), recorded, first.folders, time.time_ns())
    listed = survey.survey(str(root), recorded, None, time.time_ns())
    assert again.files == listed.files
    assert again.same == listed.same
    assert again.folders.keys() == listed.folders.keys()
    if change == "nothing":
        assert again.same == set(recorded)
    if change == "file edited in place":
        assert again.same == set(recorded) - {"a/deep/y.html"}


def calls_to(monkeypatch, name: str) -> list[str]:
    """The paths os.<name> is called with from now on."""
    seen = []
    real = getattr(os, name)
    monkeypatch.setattr(os, name, lambda place: seen.append(os.fspath(place)) or real(place))
    return seen


def test_an_unchanged_tree_is_surveyed_without_listing_a_folder(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    make_tree(root)
    recorded = entries(root)
    first = survey.survey(str(root), recorded, None, time.time_ns())
    listed = calls_to(monkeypatch, "scandir")
    again = survey.survey(str(root), recorded, first.folders, time.time_ns())
    assert listed == [] and again.files == first.files
    (root / "a/deep/z.html").write_text("z")
    survey.survey(str(root), recorded, first.folders, time.time_ns())
    assert listed == [os.path.join(str(root), "a/deep")]   # only the folder whose stamp moved


def test_a_folder_stamped_within_a_second_of_its_last_change_is_listed_again(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    make_tree(root)
    changed = LONG_AGO + 10 * survey.RACY_NS
    os.utime(root / "a/deep", ns=(changed, changed))   # half a second before the stamp below
    recorded = entries(root)
    first = survey.survey(str(root), recorded, None, changed + survey.RACY_NS // 2)
    assert first.folders["a/deep"] is None and first.folders["a"] is not None
    listed = calls_to(monkeypatch, "scandir")
    survey.survey(str(root), recorded, first.folders, time.time_ns())
    assert listed == [os.path.join(str(root), "a/deep")]


def test_a_vouched_file_is_not_stat_ed_unless_its_folder_moved(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    make_tree(root)
    recorded = entries(root)
    first = survey.survey(str(root), recorded, None, time.time_ns())
    statted = calls_to(monkeypatch, "lstat")
    again = survey.survey(str(root), recorded, first.folders, time.time_ns(), vouched={"a/deep/x.html"})
    assert again.same == set(recorded)
    assert os.path.join(str(root), "a/deep/x.html") not in statted
    assert os.path.join(str(root), "a/deep/y.html") in statted
    # replaced (a new file under the old name): its folder's stamp moves, so it is stat-ed after all
    (root / "a/deep/x.html").unlink()
    (root / "a/deep/x.html").write_text("X")
    again = survey.survey(str(root), recorded, first.folders, time.time_ns(), vouched={"a/deep/x.html"})
    assert again.same == set(recorded) - {"a/deep/x.html"}


def assert_stamps_true(project):
    """Every folder stamp the writer recorded (some carried over, not stat-ed) is the folder's
    real one, and every folder of both trees has one."""
    from pipeline.writer.manifest import _read_manifest
    stamps = _read_manifest(project / "output")[2]
    for name, tree_ in (("current", project / "output"), ("spare", project / ".output-spare")):
        if not tree_.exists():   # no spare after the first build
            assert stamps[name] == {}
            continue
        real = {p.relative_to(tree_).as_posix(): p.lstat() for p in tree_.rglob("*") if p.is_dir()}
        real[""] = tree_.lstat()
        assert stamps[name].keys() == real.keys(), name
        for folder, stamp in stamps[name].items():
            assert stamp is None or stamp == (real[folder].st_mtime_ns, real[folder].st_ctime_ns), (name, folder)


def age_folders(*trees, seconds: float = 60) -> None:
    """Make every folder of the trees look last changed a minute ago, as after builds more than a
    second apart (the next build stamps them again: their stamps moved)."""
    then = time.time() - seconds
    for tree_ in trees:
        for folder in [tree_, *(p for p in tree_.rglob("*") if p.is_dir() and not p.is_symlink())]:
            os.utime(folder, (then, then))


def test_stray_files_in_trusted_folders_of_output_and_spare_are_removed_by_the_next_build(tmp_path):
    # Builds whose folders were last changed more than a second before: the folders' stamps are
    # trusted (not racy), so the writer lists nothing it has not seen move; hand-made files must
    # still be noticed and removed.
    project = make_project(tmp_path / "p", {
        "a.md": post("Ankle Basics", "2026-05-01", "Ankles.", tags="[ankle]"),
        "b.md": post("Back Basics", "2026-06-01", "Backs.", tags="[back]"),
        "c.md": post("Calf Care", "2026-07-01", "Calves.", tags="[calf]"),
    })
    for step in range(3):
        if step:
            age_folders(*(tree_ for tree_ in (project / "output", project / ".output-spare") if tree_.exists()))
        (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", f"Ankles {step}.",
                                                         tags="[ankle]"))
        assert build(project).exit_code == 0
        assert_stamps_true(project)
    from pipeline.writer.manifest import _read_manifest
    stamps = _read_manifest(project / "output")[2]
    assert all(stamps[name][folder] is not None for name in ("current", "spare")
               for folder in ("site/back-basics", "site/calf-care"))   # trusted: listed only if they move
    (project / "output/site/back-basics/stray.html").write_text("stray in output")
    (project / "output/site/calf-care/index.html").write_text("edited by hand")
    (project / ".output-spare/site/calf-care/stray.html").write_text("stray in the spare")
    edit_in_place(project / ".output-spare/site/back-basics/index.html")   # one file with output/'s
    (project / ".output-spare/site/new-folder").mkdir()
    (project / ".output-spare/site/new-folder/page.html").write_text("stray folder in the spare")
    (project / "content/posts/a.md").write_text(post("Ankle Basics", "2026-05-01", "Ankles again.", tags="[ankle]"))
    assert build(project).exit_code == 0
    shutil.copytree(project, tmp_path / "cold", ignore=shutil.ignore_patterns(".pipeline", "output", ".output*"))
    assert build(tmp_path / "cold", "--no-cache").exit_code == 0
    assert tree(project / "output") == tree(tmp_path / "cold/output")
