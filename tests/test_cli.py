"""The command line: exit codes, usage errors, --project, and no tracebacks for user mistakes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, cli, make_project, post


def test_usage_errors_exit_2(project):
    assert cli(project, "build", "--bogus").exit_code == 2
    assert cli(project, "frobnicate").exit_code == 2
    result = cli(project, "build", "--now", "yesterday")
    assert result.exit_code == 2
    assert "expected a date like 2026-05-01" in result.stderr


def test_a_folder_without_content_is_a_usage_error(tmp_path):
    result = cli(tmp_path, "build")
    assert result.exit_code == 2
    assert "has no content/ folder" in result.stderr


def test_missing_site_settings_is_a_content_error(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "content/site.yaml").unlink()
    result = cli(project, "build")
    assert result.exit_code == 1
    assert result.stderr.startswith("content/site.yaml: error: the site settings file is missing")


def test_python_dash_m_and_console_script_run_from_the_project_folder(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")})
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--now", "2026-11-24"], cwd=project,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (project / "output/site/a/index.html").exists()
    (project / "content/posts/b.md").write_text("---\ntitle: B\n---\n")
    done = subprocess.run([sys.executable, "-m", "pipeline", "check"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "content/posts/b.md:2:1: error: missing required field 'date'" in done.stderr


def test_the_console_script_flushes_all_it_prints_and_keeps_exit_codes(tmp_path):
    # The command exits without tearing down the heap (os._exit): what it printed into a pipe
    # must still arrive whole, and exit codes 0, 1 and 2 must survive.
    beside = Path(sys.executable).with_name("pipeline")
    command = str(beside) if beside.exists() else shutil.which("pipeline")
    project = make_project(tmp_path / "p", {f"a{n}.md": post(f"Article {n}") for n in range(3)})
    done = subprocess.run([command, "build", "--now", "2026-11-24", "--verbose"], cwd=project,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith("Built 3 articles:")
    assert "  added    site/article-0/index.html" in done.stdout.splitlines()
    (project / "content/posts/b.md").write_text("---\ntitle: B\n---\n")
    done = subprocess.run([command, "build"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 1 and "missing required field 'date'" in done.stderr
    done = subprocess.run([command, "build", "--jobs", "zero"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 2 and "--jobs" in done.stderr


def test_debug_shows_the_traceback(tmp_path):
    project = make_project(tmp_path / "p", {"b.md": "---\ntitle: B\n---\n"})
    done = subprocess.run([sys.executable, "-m", "pipeline", "--debug", "check"], cwd=project,
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "PipelineError" in done.stderr


def test_the_shipped_content_builds(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out/site/how-dry-needling-works/index.html").exists()
