"""Pathological sizes finish within a bounded time or fail cleanly, with an error at file:line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import make_project, post

BOMB = ("---\ntitle: A\ndate: 2026-05-01\nsummary: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        + "".join(f"x{i}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
        + "---\nbody\n")


def run_check(project, seconds: float, **environment):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", "--now", "2026-11-24"], cwd=project,
                          capture_output=True, text=True, timeout=seconds + 30, env={**os.environ, **environment})
    return done, time.monotonic() - started


CASES = [
    ("ten megabytes", post("A", body=("Lorem ipsum dolor sit amet. " * 40 + "\n\n") * 9000),
     "content/posts/a.md: error: the article is 10.1 MB; the limit is 1 MB"),
    ("ten thousand nested list items", post("A", body="- " * 10000 + "item"),
     "content/posts/a.md:6:1: error: this line is nested 10000 list or quote levels deep"),
    ("ten thousand nested quotes", post("A", body="> " * 10000 + "deep"),
     "content/posts/a.md:6:1: error: this line is nested 10000 list or quote levels deep"),
    ("deeply indented list", post("A", body="".join(" " * (2 * i) + "- item\n" for i in range(200))),
     "error: this line is indented 66 columns; the limit is 64 columns"),
    ("yaml alias bomb", BOMB,
     "content/posts/a.md:4:10: error: YAML anchors and aliases (& and *) are not supported here"),
    ("unbalanced brackets", post("A", body="[x](" * 20000),
     "content/posts/a.md:5: error: cannot convert the article's Markdown: converting it took longer than 1 s"),
]


@pytest.mark.parametrize("name, source, expected", CASES, ids=[case[0] for case in CASES])
def test_pathological_input_fails_cleanly_and_quickly(tmp_path, name, source, expected):
    project = make_project(tmp_path / "p", {"a.md": source})
    # Unbalanced brackets would take minutes to convert: a second's Markdown time limit, not the
    # 10 s a build allows, stops them the same way on any machine, without the wait.
    limit = {"PIPELINE_MARKDOWN_TIME_LIMIT": "1"} if name == "unbalanced brackets" else {}
    done, seconds = run_check(project, 60, **limit)
    assert done.returncode == 1, done.stderr[-2000:]
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < 40, seconds


def test_ten_thousand_flat_list_items_build(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", body="- item\n" * 10000)})
    done, seconds = run_check(project, 60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert seconds < 40
