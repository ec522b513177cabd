#!/usr/bin/env python3
"""What each layer of the incremental build holds up: the no-change and one-change rebuilds of
the corpus bench/run.py builds, timed with every layer, then with one layer taken away at a time
(through the switches a user or the environment has; see docs/command-line.md):

- the up-to-date stamp (taken away: the stamp files in .pipeline/ deleted before each build);
- saves detached after the command returns (PIPELINE_DETACH_SAVES_FROM beyond the site's size);
- the spare output tree (taken away: .output-spare deleted before each build, so the build links
  every file it keeps from output/ into its staging folder);
- forked processes altogether: workers, the output survey, the clock's events (--jobs 1);
- the build store, cache and records both (--no-cache: every article rendered again).

    python3 bench/layers.py [--posts 5000] [--runs 3]

Each figure is a median of --runs (--no-cache: one run), process start included, like run.py's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import REPO, ours, timed, touch_one, wait  # noqa: E402

import compileall  # noqa: E402

NOW = "2026-11-24T12:00"


def no_stamp(project: Path) -> None:
    wait(project)   # the last build's saver writes the stamp after the command returns
    for stamp in (project / ".pipeline").glob("uptodate-*"):
        stamp.unlink()


def no_spare(project: Path) -> None:
    wait(project)   # the last build's saver brings the spare tree up to date after the command returns
    shutil.rmtree(project / ".output-spare", ignore_errors=True)


VARIANTS = [   # (name, extra arguments, environment, before each build, scenarios)
    ("every layer", [], {}, None, ("no change", "one change")),
    ("no up-to-date stamp", [], {}, no_stamp, ("no change",)),
    ("saves made before returning", [], {"PIPELINE_DETACH_SAVES_FROM": str(10 ** 9)}, None, ("one change",)),
    ("no spare output tree", [], {}, no_spare, ("one change",)),
    ("one process (--jobs 1)", ["--jobs", "1"], {}, None, ("no change", "one change")),
    ("no store (--no-cache)", ["--no-cache"], {}, None, ("one change",)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    project = ours(args.posts)
    compileall.compile_dir(str(REPO / "pipeline"), quiet=1)
    base = [sys.executable, "-m", "pipeline", "build", "--now", NOW, "--quiet"]
    if not (project / "output").is_dir():
        for generated in (".pipeline", ".output-spare"):
            shutil.rmtree(project / generated, ignore_errors=True)
        print(f"cold build: {timed(base, project)[0]:.2f} s")
    timed(base, project)   # up to date, its saves made
    edits = 1000
    print(f"{args.posts} articles, medians of {args.runs} runs (one for --no-cache)")
    print(f"{'':32} {'no change':>10} {'one change':>11}")
    for name, extra, env, before, scenarios in VARIANTS:
        figures = {}
        for scenario in scenarios:
            times = []
            for _ in range(1 if "--no-cache" in extra else args.runs):
                if scenario == "one change":
                    edits += 1
                    touch_one(project / "content" / "posts", edits)
                if before is not None:
                    before(project)
                times.append(timed(base + extra, project, env)[0])
            figures[scenario] = statistics.median(times)
        cells = [f"{figures[s]:.2f} s" if s in figures else "" for s in ("no change", "one change")]
        print(f"{name:32} {cells[0]:>10} {cells[1]:>11}", flush=True)
    timed(base, project)   # the store as every layer leaves it, for the next run


if __name__ == "__main__":
    main()
