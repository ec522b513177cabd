#!/usr/bin/env python3
"""Benchmark of the compliance engine: the CPU time of checking each article's source (claim
rules over every shipped text, the patient-story sign, the disclaimers' conditions, its evidence
and acceptances: `pipeline.compliance.checker.check_source`) on the corpus bench/run.py builds.

    python3 bench/checker.py [--posts 5000] [--passes 3]

The first pass runs in a process that has checked nothing yet (word and lemma memos empty, the
lemma dictionaries not loaded), as a build's worker starts; later passes show the steady state.
The target (issue 27) is at most 1 ms per article at 5,000 articles, first pass included.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import ours  # noqa: E402

from pipeline.build import load_site  # noqa: E402
from pipeline.compliance.checker import check_source  # noqa: E402
from pipeline.errors import FindingList  # noqa: E402
from pipeline.options import Options  # noqa: E402

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    project = ours(args.posts)
    site = load_site(project, Options(now=NOW), FindingList())
    articles = [site.whole(article) for article in site.articles]
    words = sum(len(article.text.split()) for article in articles) / len(articles)
    print(f"{len(articles)} articles of {words:.0f} words on average, {project}")
    for number in range(1, args.passes + 1):
        findings = 0
        cpu = time.process_time()
        for article in articles:
            found, _ = check_source(site, article)
            findings += len(found)
        cpu = time.process_time() - cpu
        label = "first pass (nothing memoised)" if number == 1 else f"pass {number}"
        print(f"{label}: {cpu / len(articles) * 1000:.3f} ms of CPU per article ({cpu:.2f} s, "
              f"{findings} findings)")


if __name__ == "__main__":
    main()
