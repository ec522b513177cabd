"""A failure at any point (disk full or permission denied on the Nth write, the process killed in
the middle of the swap) leaves the previous output intact, and the next run recovers."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import NOW, build, post, tree


def kill_during(project: Path, step: str) -> subprocess.CompletedProcess:
    """Run a build that SIGKILLs itself at `step` of the writer ('after-staging', 'after-move-old')."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        import pipeline.writer.staging as staging
        real_replace = os.replace
        calls = []
        def dying_replace(src, dst):
            calls.append((src, dst))
            if {step!r} == "after-move-old" and len(calls) == 1:
                real_replace(src, dst)
                os.kill(os.getpid(), signal.SIGKILL)
            if {step!r} == "after-staging":
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst)
        staging.os.replace = dying_replace
        from pipeline.cli import main
        sys.argv = ["pipeline", "build", "--now", {NOW!r}]
        main()
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("step", ["after-staging", "after-move-old"])
def test_a_build_killed_during_the_swap_loses_nothing_and_the_next_run_recovers(project, step):
    assert build(project).exit_code == 0
    before = tree(project / "output")
    (project / "content/posts/new.md").write_text(post("Brand New", "2026-07-01"))
    done = kill_during(project, step)
    assert done.returncode == -9
    if (project / "output").exists():
        assert tree(project / "output") == before
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert (project / "output/site/brand-new/index.html").exists()
    assert not list(project.glob(".output.*"))


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES, errno.EIO])
@pytest.mark.parametrize("nth", [1, 4, 8])
def test_a_write_error_on_the_nth_file_keeps_the_previous_output(project, monkeypatch, error, nth):
    assert build(project).exit_code == 0
    before = tree(project / "output")
    (project / "content/posts/new.md").write_text(post("Brand New", "2026-07-01"))
    real = Path.write_bytes
    calls = {"n": 0}

    def failing(self, data):
        calls["n"] += 1
        if calls["n"] == nth:
            raise OSError(error, "injected failure")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    result = build(project)
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "the previous output is unchanged" in result.stderr and "Traceback" not in result.stderr
    assert tree(project / "output") == before
    assert not list(project.glob(".output.*"))
    assert build(project).exit_code == 0


def test_a_write_error_in_a_first_build_leaves_no_output_and_nothing_beside_it(project, monkeypatch):
    real = Path.write_bytes
    calls = {"n": 0}

    def failing(self, data):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "injected failure")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    result = build(project)
    monkeypatch.undo()
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert not (project / "output").exists() and not list(project.glob(".output*"))   # no staging, no spare
    assert build(project).exit_code == 0 and (project / ".output-spare").is_dir()


def test_when_hard_links_fail_every_file_is_written_and_the_output_is_the_same(project, monkeypatch, tmp_path):
    assert build(project).exit_code == 0
    (project / "content/posts/new.md").write_text(post("Brand New", "2026-07-01"))
    assert build(project, "--out", str(tmp_path / "reference")).exit_code == 0

    def no_links(source, target, **kwargs):
        raise OSError(errno.EXDEV, "cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    assert build(project).exit_code == 0
    monkeypatch.undo()
    assert tree(project / "output") == tree(tmp_path / "reference")


def test_a_file_changed_by_hand_in_output_is_rewritten_not_kept(project):
    assert build(project).exit_code == 0
    page = project / "output/site/knee-basics/index.html"
    original = page.read_bytes()
    page.write_bytes(original.replace(b"Knee Basics", b"Hand edit!!"))
    assert build(project).exit_code == 0
    assert page.read_bytes() == original
