"""YAML is read with libyaml when it is installed: it must give the same values and the same
positions as PyYAML's own parser, or findings would point at the wrong line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import yamldoc
from pipeline.errors import FindingList

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    'title: "é😀ü"\ntags: [a, "😀b", c]\nx: {k: 1, "é": 2}\n',
    "\ufefftitle: a\r\nb: 2\r\n",
    "a: |\n  x\n  y\nb: >-\n  z\n",
    "a: 'it''s'\nb: !!str 3\nc: 2026-01-01\nd: yes\ne: ~\nf: 1.5e3\ng: 0x1F\n",
    "a:\n- 1\n-   - 2\n    - é\n",
    "a: &x 1\nb: *x\n",
    "a: 1\na: 2\n",
    "title: Knee\n  bad: indent\n",
    "a: [1, 2\n",
    "\tindented: with a tab\n",
    "date: 2026-02-30\n",
    (REPO / "content" / "site.yaml").read_text("utf-8"),
    (REPO / "content" / "compliance.yaml").read_text("utf-8"),
] + [path.read_text("utf-8").split("---\n")[1] for path in sorted((REPO / "content" / "posts").glob("*.md"))]


def _read(text: str, loader) -> tuple:
    findings = FindingList()
    doc = yamldoc.parse_yaml(text, "doc.yaml", findings, loader=loader)
    if doc is None:
        return None, [], [f.format() for f in findings.items]
    where = sorted((repr(keys), str(doc.mark_location(node.start_mark)), str(doc.mark_location(node.end_mark)))
                   for keys, node in doc.nodes.items())
    return repr(doc.data), where, [f.format() for f in findings.items]


@pytest.mark.skipif(yamldoc.LIBYAML_LOADER is None, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("text", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_libyaml_gives_the_same_values_positions_and_findings_as_pyyaml(text):
    assert _read(text, yamldoc.LIBYAML_LOADER) == _read(text, False)
