"""A file-system error (immutable or read-only folders, a mount point that cannot be replaced, a
file where a folder must be) ends the command with one line naming the path and what to do, exit
1, no traceback, and output/ as it was."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import NOW, REPO, build, make_project, post, tree


@pytest.fixture
def built(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    assert build(project).exit_code == 0
    (project / "content/posts/b.md").write_text(post("B", "2026-06-01"))
    return project


def assert_one_line_error(stderr: str, *expected: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "error: " in line]
    assert len(lines) == 1, stderr
    for text in expected:
        assert text in lines[0], lines[0]


def chattr(flag: str, path: Path) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_an_immutable_output_folder(built):
    before = tree(built / "output")
    if not chattr("+i", built / "output"):
        pytest.skip("chattr +i is not supported on this file system")
    try:
        result = build(built)
    finally:
        chattr("-i", built / "output")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "error: output", "Operation not permitted", "chattr -i")
    assert tree(built / "output") == before
    assert not list(built.glob(".output.new-*"))
    assert build(built).exit_code == 0


def test_pipeline_state_folder_that_is_a_file(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    (project / ".pipeline").write_text("not a folder")
    result = build(project)
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "error: .pipeline", "a file stands where the pipeline needs a folder")
    assert not (project / "output").exists()


def test_an_output_path_below_a_file(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    (project / "site").write_text("a file")
    result = build(project, "--out", str(project / "site" / "out"))
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "site")


def failing_build(project: Path, function: str, error: int) -> subprocess.CompletedProcess:
    """A build in a fresh process where os.<function> fails with `error` (a mount point or a
    read-only file system, which a test cannot make)."""
    script = textwrap.dedent(f"""
        import os, sys
        real = os.{function}
        def failing(*args, **kwargs):
            raise OSError({error}, os.strerror({error}), args[0])
        os.{function} = failing
        from pipeline.cli import main
        sys.argv = ["pipeline", "build", "--now", {NOW!r}]
        main()
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_an_output_folder_that_is_a_mount_point(built):
    before = tree(built / "output")
    done = failing_build(built, "replace", errno.EBUSY)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "Device or resource busy", "mount point", "--out")
    assert tree(built / "output") == before


def test_a_read_only_project(built):
    before = tree(built / "output")
    done = failing_build(built, "mkdir", errno.EROFS)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "Read-only file system")
    assert tree(built / "output") == before
