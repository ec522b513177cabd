"""Rendering in several worker processes gives the same bytes as one process."""

from __future__ import annotations

import os
import time

import pytest

from conftest import cli, make_project, post, tree


def test_parallel_and_serial_builds_are_byte_identical(tmp_path):
    posts = {f"p{i:03}.md": post(f"Article {i}", f"2026-0{1 + i % 9}-{1 + i % 27:02}T{i % 24:02}:00",
                                 f"Body {i} about knees. See [the first](p000.md).",
                                 tags=f"[knee, topic {i % 5}]") for i in range(90)}
    project = make_project(tmp_path / "p", posts)
    one = cli(project, "build", "--now", "2026-11-24", "--jobs", "1", "--out", str(tmp_path / "one"))
    two = cli(project, "build", "--now", "2026-11-24", "--jobs", "2", "--out", str(tmp_path / "two"))
    assert one.exit_code == 0 and two.exit_code == 0, one.stderr + two.stderr
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert len(tree(tmp_path / "one")) > 90 * 5


def test_errors_found_in_worker_processes_are_all_reported(tmp_path, monkeypatch):
    # (unbounded, that conversion would take minutes: a second's limit stops it wherever it runs)
    monkeypatch.setenv("PIPELINE_MARKDOWN_TIME_LIMIT", "1")
    posts = {f"p{i:03}.md": post(f"Article {i}", "2026-03-01", "Fine.") for i in range(80)}
    posts["p010.md"] = post("Bad One", "2026-03-01", "[x](" * 30000)
    posts["p070.md"] = post("Cured", "2026-03-01", "This cures knees.")
    project = make_project(tmp_path / "p", posts)
    result = cli(project, "check", "--now", "2026-11-24", "--jobs", "2")
    assert result.exit_code == 1
    assert "content/posts/p010.md:5: error: cannot convert the article's Markdown: converting it took longer than 1 s" \
        in result.stderr


def _square_unless_thirteen(context, item):
    from pipeline.errors import Finding, Location, PipelineError
    if item % 100 == 13:
        raise PipelineError(Finding(Location(f"item{item}"), "thirteen"))
    return (item * item, context, os.getpid())


def test_one_pool_serves_every_window_and_results_come_in_order_with_failures_raised_last(monkeypatch):
    import multiprocessing

    import pytest

    from pipeline import parallel
    from pipeline.errors import PipelineError
    pools = []
    real = multiprocessing.get_context

    def spy(method):
        context = real(method)
        original = context.Pool
        monkeypatch.setattr(context, "Pool", lambda n: pools.append(n) or original(n), raising=False)
        return context

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    before = multiprocessing.active_children()
    parallel.set_jobs(2)
    items = list(range(250))
    got = []
    with pytest.raises(PipelineError) as raised:
        for value in parallel.imap_ordered(_square_unless_thirteen, items, "ctx", window=40):
            got.append(value)
    assert pools == [2]   # seven windows, one pool
    assert multiprocessing.active_children() == before   # and it was shut down: its workers are gone
    # a window with a failure yields nothing it computed; every other window comes whole, in order
    failed = {index // 40 for index in (13, 113, 213)}
    expected = [i * i for i in items if i // 40 not in failed]
    assert [value[0] for value in got] == expected and {value[1] for value in got} == {"ctx"}
    assert {value[2] for value in got} - {os.getpid()}   # computed in workers
    assert [f.path for f in raised.value.findings] == ["item113", "item13", "item213"]


def _probed(context, item):
    from pipeline.incremental import cache
    if cache.current().probing:
        context.append(item)
        raise cache.Miss("x")
    return item


@pytest.mark.parametrize("began_with_a_file,probe", [(False, True), (True, True), (True, False)])
def test_a_cache_that_began_the_build_empty_is_not_asked_before_the_work_is_handed_out(tmp_path, began_with_a_file,
                                                                                      probe):
    from pipeline import parallel
    from pipeline.incremental import cache
    if began_with_a_file:
        cache.BuildCache(tmp_path)._store(prune=False)
    build_cache = cache.BuildCache(tmp_path)
    build_cache.put("x", "stored", 1)
    build_cache.flush()   # as after a window: the file exists now
    asked: list = []
    cache.use(build_cache)
    try:
        parallel.set_jobs(1)
        assert list(parallel.imap_ordered(_probed, list(range(10)), asked, window=4, probe=probe)) == list(range(10))
    finally:
        cache.use(cache.BuildCache(None))
    assert asked == (list(range(10)) if began_with_a_file and probe else [])   # probe=False: a function without cache


def test_a_background_value_comes_from_a_forked_process_or_else_from_this_one(monkeypatch):
    from pipeline.parallel import Background

    parent = os.getpid()
    where = Background(lambda: ("made in", os.getpid()))
    assert where.forked
    assert where.result()[1] != parent and not where.forked
    assert Background(lambda: ("made in", os.getpid()), fork=False).result() == ("made in", parent)

    def fails_in_the_child():
        if os.getpid() != parent:
            raise RuntimeError("the process fails")
        return "made here"

    failing = Background(fails_in_the_child)
    child = failing._child
    assert failing.result() == "made here"
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)   # reaped
    unwanted = Background(lambda: time.sleep(60))
    child = unwanted._child
    unwanted.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


def test_site_pages_of_a_rebuild_with_workers_equal_those_of_a_cold_one_process_build(tmp_path):
    """Listing pages, sitemap and robots.txt: made again when an article they list changes, and
    when adopted pages' bytes are gone; either way the bytes of a one-process cold build."""
    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{1 + i:02}", f"Body {i}.", tags=f"[knee, topic {i % 3}]")
             for i in range(25)}
    project = make_project(tmp_path / "p", posts)
    steps = [lambda: None,
             lambda: (project / "content/posts/p03.md").write_text(post("Article 3 again", "2026-03-04", "New.")),
             lambda: (project / "output/site/index.html").unlink()]   # adopted, but its bytes are gone
    for step in steps:
        step()
        two = cli(project, "build", "--now", "2026-11-24", "--jobs", "2")
        one = cli(project, "build", "--now", "2026-11-24", "--jobs", "1", "--no-cache", "--out", str(tmp_path / "one"))
        assert two.exit_code == 0 and one.exit_code == 0, two.stderr + one.stderr
        assert tree(project / "output") == tree(tmp_path / "one")
