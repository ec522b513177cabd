#!/usr/bin/env python3
"""Where a cold build's CPU goes, per article: one cold build of a corpus from
../shared/bench/make_corpus.py in one process (--jobs 1, so every article's work is in it), with
CPU-time timers around each stage's function (no profiler: its overhead would skew the shares).

    python3 bench/per_article.py [--posts 300]

Prints the build's CPU per article, then each stage's. Nested stages are indented under the one
that calls them (a parent's figure includes its children's). For bench/HISTORY.md's breakdowns.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import REPO, corpus, wait  # noqa: E402

# (module, attribute path, label): each function is timed where its callers look it up.
STAGES = [
    ("pipeline.sources", "_convert", "loading: Markdown conversion and disclaimer conditions"),
    ("pipeline.conversion", "MarkdownRenderer.render", "  Markdown (Python-Markdown)"),
    ("pipeline.compliance.rules", "Rules.applying", "  disclaimer conditions"),
    ("pipeline.article_stage", "make", "rendering and checking an article's own outputs"),
    ("pipeline.model", "Site.whole", "  its body given back (source read and converted again)"),
    ("pipeline.channels.blog", "draw_card", "  preview card (Pillow)"),
    ("pipeline.channels.blog", "render_page", "  page"),
    ("pipeline.channels.newsletter", "article_outputs", "  newsletter: email.html, email.txt, message.eml"),
    ("pipeline.channels.newsletter", "build_message", "    the MIME message"),
    ("pipeline.channels.social", "compose_posts", "  social posts"),
    ("pipeline.article_stage", "check_made", "  checks of its outputs"),
    ("pipeline.article_stage", "check_source", "  checks of its source"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    source = corpus(args.posts, "native")
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    import importlib

    for module_name, path, label in STAGES:
        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        function = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args, _function=function, _label=label, **kwargs):
            started = time.process_time()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - started
                calls[_label] += 1

        setattr(owner, name, timed)
    from pipeline.cli import main as pipeline_main

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        (project / "content").mkdir(parents=True)
        shutil.copytree(source / "posts", project / "content" / "posts")
        for name in ("site.yaml", "compliance.yaml"):
            shutil.copy2(REPO / "content" / name, project / "content" / name)
        shutil.copytree(REPO / "templates", project / "templates")
        started = time.process_time()
        try:
            pipeline_main(["--project", str(project), "build", "--now", "2026-11-24T12:00", "--quiet", "--jobs", "1"])
        except SystemExit as exc:
            if exc.code:
                raise
        total = time.process_time() - started
        wait(project)   # the build's saves, made after it returned, before the folder goes
    per = 1000 / args.posts
    print(f"{args.posts} articles, one process: {total * per:.2f} ms of CPU per article")
    for _, _, label in STAGES:
        print(f"{label:60} {spent[label] * per:6.2f} ms  ({calls[label]} calls)")


if __name__ == "__main__":
    main()
