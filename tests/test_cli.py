"""The command line: exit codes, usage errors, --project, and no tracebacks for user mistakes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import NOW, REPO, build, cli, make_project, post, settle


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


def _warned_site(root: Path, articles: int) -> Path:
    """`articles` articles with five warnings each (one a line), a day apart."""
    body = "\n\n".join(f"Rest helps, but movement heals ({n})." for n in range(5))
    return make_project(root, {f"a{i}.md": post(f"Article {i}", f"2026-05-{i + 1:02d}", body)
                               for i in range(articles)})


def _append_to_oldest(project: Path, text: str) -> None:
    source = project / "content/posts/a0.md"
    source.write_text(source.read_text("utf-8") + text, "utf-8")


def _warned_files(stderr: str) -> set[str]:
    return {line.split(":", 1)[0] for line in stderr.splitlines() if ": warning[" in line}


def test_a_rebuild_prints_the_warnings_it_made_and_counts_those_it_repeats(tmp_path):
    project = _warned_site(tmp_path / "p", 8)
    first = build(project)
    assert first.exit_code == 0 and len(_warned_files(first.stderr)) == 8 and "not repeated" not in first.stderr
    _append_to_oldest(project, "\nOne more thing that heals.\n")
    again = build(project)
    assert again.exit_code == 0
    # The edited article and its one neighbour (whose page links to it) were rendered again.
    assert _warned_files(again.stderr) == {"content/posts/a0.md", "content/posts/a1.md"}
    assert "content/posts/a0.md:16:" in again.stderr   # the new line's warning
    assert ("note: 30 warnings about 6 files unchanged since the last build are not repeated here "
            "(output/report.html lists every finding; --verbose prints them)") in again.stderr
    assert "41 warnings" in again.stdout   # the summary counts them all
    verbose = build(project, "--verbose", "--no-cache")
    assert len(_warned_files(verbose.stderr)) == 8 and "not repeated" not in verbose.stderr


def test_an_up_to_date_build_counts_its_warnings_instead_of_printing_them_again(tmp_path):
    project = _warned_site(tmp_path / "p", 5)
    assert build(project).exit_code == 0
    same = build(project)
    assert "No changes since the last build." in same.stdout and _warned_files(same.stderr) == set()
    assert "note: 25 warnings about 5 files unchanged since the last build are not repeated" in same.stderr
    assert "25 warnings" in same.stdout
    verbose = build(project, "--verbose")
    assert "No changes since the last build." in verbose.stdout and len(_warned_files(verbose.stderr)) == 5
    assert build(project, "--quiet").stderr == ""


def test_a_few_repeated_warnings_are_printed_as_they_are(tmp_path):
    project = _warned_site(tmp_path / "p", 4)   # 20 warnings: the limit
    assert build(project).exit_code == 0
    same = build(project)
    assert len(_warned_files(same.stderr)) == 4 and "not repeated" not in same.stderr
    _append_to_oldest(project, "\nMore.\n")
    edited = build(project)
    assert len(_warned_files(edited.stderr)) == 4 and "not repeated" not in edited.stderr


def test_a_build_whose_output_pipe_closes_early_still_saves_what_the_next_build_reads(tmp_path):
    # `pipeline build | head` with a long list: the command dies at its first print into the
    # closed pipe, after output/ is in place. Its saves come before that print, so the next
    # build finds the stamp and the records (a lost stamp would make it build again).
    project = _warned_site(tmp_path / "p", 3)
    command = [sys.executable, "-m", "pipeline", "build", "--now", NOW]
    assert subprocess.run(command, cwd=project, capture_output=True).returncode == 0
    _append_to_oldest(project, "\nAn edit.\n")
    settle(project)   # edited a minute ago: the stamp may trust the edited file
    read, write = os.pipe()
    os.close(read)   # closed before the command writes a byte
    closed = subprocess.run(command, cwd=project, stdout=write, stderr=write)
    os.close(write)
    assert closed.returncode != 0   # it could print nothing
    assert "An edit." in (project / "output/site/article-0/index.html").read_text("utf-8")
    after = subprocess.run(command + ["--verbose"], cwd=project, capture_output=True, text=True)
    assert after.returncode == 0 and "Up to date: no input, option or output file has changed" in after.stderr


def test_a_limit_set_to_what_is_not_a_number_fails_the_build_naming_the_variable_not_a_file(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-03-01", "Body.")})
    monkeypatch.setenv("PIPELINE_RECORD_SET_SIZE", "abc")
    monkeypatch.setenv("PIPELINE_MARKDOWN_TIME_LIMIT", "-1")
    before = _children()
    result = cli(project, "build", "--now", NOW)
    code, lines = result.exit_code, result.stderr.splitlines()
    assert _children() - before == set()   # the survey of output/ it forked is stopped and reaped
    assert code == 1
    assert any(line.startswith("PIPELINE_RECORD_SET_SIZE: error: expected a whole number of at least 1") for line in lines)
    assert any(line.startswith("PIPELINE_MARKDOWN_TIME_LIMIT: error: expected a number") for line in lines)
    assert lines[-1] == "Build failed: 2 errors, 0 warnings in 2 environment variables. Nothing was written to output/."
    assert not (project / "output").exists()
    monkeypatch.delenv("PIPELINE_MARKDOWN_TIME_LIMIT")
    lines = cli(project, "build", "--now", NOW).stderr.splitlines()
    assert lines[-1] == "Build failed: 1 error, 0 warnings in 1 environment variable. Nothing was written to output/."


def _children() -> set[int]:
    """This process's child processes, running or exited and not yet reaped (Linux's /proc)."""
    return {int(pid) for task in Path(f"/proc/{os.getpid()}/task").iterdir()
            for pid in (task / "children").read_text().split()}
