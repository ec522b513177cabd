"""The shape the code keeps (docs/internals.md): channels and compliance are pure stages that
never reach into the incremental build, never load an article's body themselves, and no module
grows past what a newcomer reads in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
PURE = [path for folder in ("channels", "compliance") for path in sorted((PACKAGE / folder).rglob("*.py"))]


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_channel_or_compliance_module_imports_the_incremental_layer():
    assert PURE
    offenders = {path.relative_to(PACKAGE).as_posix(): sorted(name for name in _imports(ast.parse(path.read_text()))
                                                             if name.startswith("pipeline.incremental"))
                 for path in PURE}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_channel_or_compliance_module_loads_an_article_body_itself():
    """Articles reach channels whole where they show their bodies; only the stages that call
    them load bodies (Site.whole)."""
    offenders = [f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}" for path in PURE
                 for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Attribute) and node.attr == "whole"]
    assert offenders == []


def test_no_module_of_the_pipeline_is_over_400_lines():
    long = {path.relative_to(PACKAGE).as_posix(): n for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}
