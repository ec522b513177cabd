"""A realistic small site, built and compared byte for byte with tests/sites/golden/expected.

After an intended change: `pytest tests/test_golden.py --update-golden`, then review `git diff`."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, build, tree

GOLDEN = Path(__file__).parent / "sites" / "golden"


def test_build_matches_the_golden_tree(tmp_path, update_golden):
    project = tmp_path / "golden"
    shutil.copytree(GOLDEN / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    result = build(project)
    assert result.exit_code == 0, result.stderr
    built = tree(project / "output")
    expected_dir = GOLDEN / "expected"
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(project / "output", expected_dir)
    expected = tree(expected_dir)
    assert sorted(built) == sorted(expected)
    for path in expected:
        assert built[path] == expected[path], f"{path} differs from the golden copy"
