#!/usr/bin/env python3
"""Benchmark of the newsletter's message.eml: the CPU time per article of writing the message
(`newsletter.build_message`, from the article's email.html and email.txt) and of the newsletter's
whole per-article work (`newsletter.article_outputs`: the three files), over the shipped
content/posts. Every call is for an article of its own (title and date numbered), as in a build:
a value seen before could be served from a cache.

    python3 bench/message.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.build import load_site  # noqa: E402
from pipeline.channels import newsletter  # noqa: E402
from pipeline.errors import FindingList  # noqa: E402
from pipeline.options import Options  # noqa: E402


WARM = 8   # calls before the clock starts


def per_call(calls: int, work) -> float:
    """Milliseconds of CPU per call of `work(i)`, i from WARM."""
    for i in range(WARM):
        work(i)
    start = time.process_time()
    for i in range(WARM, WARM + calls):
        work(i)
    return (time.process_time() - start) * 1000 / calls


def numbered(article, i: int):
    """The article as the i-th of a site: its title, subject and date its own."""
    subject = article.newsletter_subject and f"{article.newsletter_subject} ({i})"
    return replace(article, title=f"{article.title} ({i})", newsletter_subject=subject,
                   date=article.date + timedelta(minutes=i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        for name in ("content", "templates"):
            shutil.copytree(REPO / name, project / name)
        site = load_site(project, Options(now=datetime(2030, 1, 1, tzinfo=timezone.utc)), FindingList())
        context = newsletter.context(site)
        articles = [numbered(site.whole(site.articles[i % len(site.articles)]), i) for i in range(args.calls + WARM)]
        made = []
        for article in articles:
            html, text, _ = (a.content.decode("utf-8") for a in newsletter.article_outputs(context, article))
            made.append((article.newsletter_subject or article.title, html, text, article.date, article.slug,
                         article.source))
        message = per_call(args.calls, lambda i: newsletter.build_message(site, *made[i]))
        outputs = per_call(args.calls, lambda i: newsletter.article_outputs(context, articles[i]))
    print(f"{args.calls} articles: build_message {message:.3f} ms, article_outputs {outputs:.3f} ms of CPU per "
          f"article")


if __name__ == "__main__":
    main()
