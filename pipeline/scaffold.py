"""`pipeline new`: a new article with valid front matter and an outline, never over an existing file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pipeline.config import load_config
from pipeline.errors import Finding, Location, PipelineError
from pipeline.slugs import slugify
from pipeline.article_fields import POSTS_DIR

OUTLINE = """\
Start with the question your reader is asking, and answer it in two or three sentences. This
first paragraph becomes the summary in listings, feeds and the newsletter.

## What it is

Explain the condition or treatment in plain words.

## What to expect

- What happens at the clinic
- How it may feel afterwards
- When to call us

## When to get help

Say when a reader should contact a clinician.
"""


def new_article(root: Path, title: str, tags: list[str], now: datetime) -> Path:
    """Write content/posts/<slug>.md; raises PipelineError if the title makes no slug or the file exists."""
    config = load_config(root)
    title = " ".join(title.split())
    slug = slugify(title)
    if not title or not slug:
        raise PipelineError(Finding(Location(POSTS_DIR), f"cannot make a file name from the title {title!r}; use "
                                    "a title with letters or digits"))
    path = root / POSTS_DIR / f"{slug}.md"
    rel = path.relative_to(root).as_posix()
    if path.exists():
        raise PipelineError(Finding(Location(rel), "this article already exists; edit it, or choose another title"))
    local = now.astimezone(config.tz).replace(second=0, microsecond=0)
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}", f"date: {local.isoformat()}",
             f"author: {json.dumps(config.author, ensure_ascii=False)}"]
    if tags:
        lines.append("tags: [" + ", ".join(json.dumps(t.strip(), ensure_ascii=False) for t in tags if t.strip()) + "]")
    lines += ["draft: true  # delete this line to publish", "---", "", OUTLINE]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write("\n".join(lines))
    return path
