"""Test helpers: build a project inline from a dict of files (Hugo's txtar sites), a fixed clock,
and click's CliRunner for the command line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.incremental.saves import wait

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T12:00:00"

SITE_YAML = """\
base_url: https://clinic.example/blog/
title: Test Clinic Blog
description: Advice from the test clinic.
language: en-US
timezone: America/New_York
author: Clinic Staff
organization:
  name: Test Clinic
  postal_address: 1 Test Road, Avon, CT 06001
newsletter:
  from: Test Clinic <news@clinic.example>
  reply_to: desk@clinic.example
  unsubscribe_url: https://clinic.example/unsubscribe
"""


def post(title: str = "Knee Basics", date: str = "2026-05-01", body: str = "Some advice about knees.",
         **fields) -> str:
    """An article source with front matter; extra fields are written as given (YAML text)."""
    lines = [f"title: {title}", f"date: {date}"] + [f"{key}: {value}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + textwrap.dedent(body).strip() + "\n"


def make_project(root: Path, posts: dict[str, str] | None = None, *, site: str = SITE_YAML,
                 compliance: str | None = None, files: dict[str, str | bytes] | None = None) -> Path:
    """A project folder with the repository's templates, and content from the arguments.
    `compliance` defaults to the shipped content/compliance.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "site.yaml").write_text(site, encoding="utf-8")
    rules = compliance if compliance is not None else (REPO / "content" / "compliance.yaml").read_text("utf-8")
    (root / "content" / "compliance.yaml").write_text(rules, encoding="utf-8")
    for name, text in (posts or {}).items():
        (root / "content" / "posts" / name).write_text(text, encoding="utf-8")
    for name, data in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


@contextmanager
def serving(project: Path):
    """`pipeline serve --port 0` on `project`, run from this checkout whatever is installed;
    yields the port it listens on, and stops it on the way out."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0"], cwd=project, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen = []
        for _ in range(20):
            seen.append(process.stdout.readline())
            found = re.search(r"Serving http://127\.0\.0\.1:(\d+)/", seen[-1])
            if found:
                break
        assert found, "".join(seen)
        yield int(found.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def cli(project: Path, *args: str):
    """Run the CLI on `project`; returns click's Result (exit_code, stdout, stderr). Returns once
    the build's state is saved (see pipeline.incremental.saves), as the next command would wait for it, so a
    test can look at .pipeline/."""
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(project), *args], catch_exceptions=False)
    wait(project)
    return result


def build(project: Path, *args: str):
    return cli(project, "build", "--now", NOW, *args)


def built(project: Path, out: Path | str = "output", checking: bool = False, **options):
    """pipeline.build's result for `project` at NOW (written to project/`out`, or to `out` when it
    is a path; `checking`: written nowhere, as `pipeline check`), in one process unless `jobs`
    says otherwise, its saves made before it returns. Its `work` says what the build did and
    what it took from earlier builds instead."""
    from pipeline import build as pipeline_build
    from pipeline.options import Options

    options = Options(**{"now": datetime.fromisoformat(NOW), "jobs": 1, **options})
    return pipeline_build.run(project, options, out=None if checking else project / out, checking=checking)


def build_errors(root: Path, posts: dict[str, str]) -> str:
    """Build a project that must fail: exit 1, no traceback, nothing written. Returns stderr."""
    project = make_project(root, posts)
    result = build(project)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert not (project / "output").exists()
    return result.stderr


def settle(project: Path, seconds: float = 60) -> None:
    """Make every input look edited a minute ago, whatever the machine's speed: files changed
    within a second before a build are never trusted by the next one (see
    test_uptodate.test_a_file_changed_just_before_a_build_is_not_trusted)."""
    then = time.time() - seconds
    for folder in ("content", "templates"):
        for path in (project / folder).rglob("*"):
            os.utime(path, (then, then))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, path -> bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/sites/*/expected from a build")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def project(tmp_path):
    """A small valid project with two articles."""
    return make_project(tmp_path / "site", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot. See [the hip article](hip.md).",
                        tags="[knee, strength]"),
        "hip.md": post("Hip Strength for Runners", "2026-06-01", "Strong hips help runners.", tags="[hip, strength]"),
    })
