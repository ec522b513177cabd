"""Two builds of one project at once: the second waits for the first (its start-up tidying once
deleted the first one's staging folder, and the first failed); both succeed, output/ complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from conftest import NOW, REPO, build, make_project, post


def start_build(project) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--now", NOW, "--jobs", "1"], cwd=project,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_second_build_waits_for_the_first_and_both_succeed(tmp_path):
    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{1 + i:02}", f"Body {i}. " * 50) for i in range(25)}
    project = make_project(tmp_path / "p", posts)
    # The first build stops (SIGSTOP) as soon as its staging folder exists, the second starts then.
    script = textwrap.dedent(f"""
        import os, signal, sys
        from pipeline.writer.staging import Staging
        real = Staging.__init__
        def staged(self, *args, **kwargs):
            real(self, *args, **kwargs)
            print("staging", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        Staging.__init__ = staged
        from pipeline.cli import main
        sys.argv = ["pipeline", "build", "--now", {NOW!r}, "--jobs", "1"]
        main()
    """)
    first = subprocess.Popen([sys.executable, "-c", script], cwd=project, env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "staging"
        assert list(project.glob(".output.new-*"))
        second = start_build(project)
        # The second announces that it waits, while the first is stopped with its staging folder.
        assert second.stderr.readline().startswith("note: another build of this project is running")
        assert list(project.glob(".output.new-*"))
        first.send_signal(signal.SIGCONT)
        out1, err1 = first.communicate(timeout=120)
        out2, err2 = second.communicate(timeout=120)
    finally:
        for process in (first,):
            if process.poll() is None:
                process.kill()
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "Traceback" not in err1 + err2
    assert len(list((project / "output/site").glob("article-*/index.html"))) == 25
    assert not list(project.glob(".output.*"))
    assert build(project).exit_code == 0
