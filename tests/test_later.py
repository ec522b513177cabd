"""The state only the next build reads (records, cache, manifest, up-to-date stamp) is saved by a
detached process after output/ is in place: the command returns first, the next build waits for
those saves, and losing them costs time, never a wrong output."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import sqlite3
import time
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from conftest import make_project, post, settle, tree
from pipeline.incremental import saves as saving
from pipeline.cli import main
from test_uptodate import UP_TO_DATE, build, cold

NOW = "2026-11-24T12:00"


@pytest.fixture(autouse=True)
def detached(monkeypatch):
    """Saves in a detached process, as on a large site off CI, for these small projects."""
    monkeypatch.delenv("CI", raising=False)   # (on CI the saves are made before the command returns)
    monkeypatch.setenv("PIPELINE_DETACH_SAVES_FROM", "0")


def _invoke(project, *args):
    """The command as a user runs it: returns without waiting for its saves."""
    result = CliRunner().invoke(main, ["--project", str(project), "build", "--now", NOW, "--verbose", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result


def _saving(project, stamp: bool = False) -> bool:
    """Does a process hold the saving lock (`stamp`: the lock of the early saves)?"""
    fd = os.open(saving.lock_path(project, stamp), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _stamped(project) -> bool:
    """Is the up-to-date stamp in place (a temporary file of it aside)?"""
    return bool(list((project / ".pipeline").glob("uptodate-*.pickle")))


@contextmanager
def _when_blocked(project, then, stamp: bool | None = None):
    """In the block, when this process is about to wait for a lock of `project` that another
    process holds (a saver's: see pipeline.incremental.saves; `stamp`: that lock only, else
    either), then() is called first."""
    real = fcntl.flock
    locks = [saving.lock_path(project, held) for held in (False, True) if stamp is None or held == stamp]

    def flock(fd, operation):
        if operation in (fcntl.LOCK_SH, fcntl.LOCK_EX) and any(
                lock.exists() and os.path.samestat(os.fstat(fd), lock.stat()) for lock in locks):
            try:
                return real(fd, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                then()
        return real(fd, operation)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fcntl, "flock", flock)
        yield


def _waited():
    raise AssertionError("the command waited for the saver")


def _in_savers(monkeypatch, owner, name: str, act) -> None:
    """Patch the standard library's owner.name so that in a saver (a process forked from this
    one) a call for which act(args, kwargs) returns true is delayed, refused or noted by it first."""
    real, test = getattr(owner, name), os.getpid()

    def patched(*args, **kwargs):
        if os.getpid() != test:
            act(args, kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)


def _writing_records(args, kwargs) -> bool:
    """Is this sqlite3.connect the one that writes the build's store (its records and cache, in one
    transaction)?"""
    return not kwargs.get("uri") and os.path.basename(os.fspath(args[0])) == "state.sqlite"


def _saves_made_in(monkeypatch) -> tuple[list[int], list[int]]:
    """The pids of the processes that put the up-to-date stamp in place and that write the build
    records (the store's save after a build, not the cache's entries stored while it runs), from
    now on: the lists this process sees (a forked saver's notes go to its own copy)."""
    stamps, records = [], []
    real_replace, real_connect = os.replace, sqlite3.connect

    def replace(source, target, *args, **kwargs):
        if os.path.basename(os.fspath(target)).startswith("uptodate-"):
            stamps.append(os.getpid())
        return real_replace(source, target, *args, **kwargs)

    def connect(*args, **kwargs):
        connection = real_connect(*args, **kwargs)
        if _writing_records(args, kwargs):   # the records' tables are made sure of once per save
            connection.set_trace_callback(lambda statement: "TABLE IF NOT EXISTS sources " in statement
                                          and records.append(os.getpid()))
        return connection

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(sqlite3, "connect", connect)
    return stamps, records


def _project(tmp_path):
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot. See [hips](hip.md).", tags="[knee]"),
        "hip.md": post("Hip Strength", "2026-06-01", "Strong hips help runners.", tags="[hip]"),
    })
    settle(project)
    return project


def test_a_build_returns_before_its_state_is_saved_and_the_next_build_waits_for_it(tmp_path, monkeypatch):
    project = _project(tmp_path)
    release_read, release_write = os.pipe()
    # The saver (a fork of this process) waits for the test before it saves anything.
    _in_savers(monkeypatch, os, "setsid", lambda args, kwargs: os.read(release_read, 1))
    try:
        _invoke(project)
        assert (project / "output/report.html").is_file()   # the output is in place
        assert _saving(project) and not _stamped(project)
        # Released only when the next build waits for it: without waiting for the saves it would
        # find no stamp and build again.
        waited = []
        with _when_blocked(project, lambda: (waited.append(True), os.write(release_write, b"x"))):
            second = _invoke(project)
        assert waited and UP_TO_DATE in second.stderr
        assert not _saving(project, stamp=True)
    finally:
        os.write(release_write, b"x")
        saving.wait(project)
        os.close(release_read)
        os.close(release_write)


def test_an_up_to_date_check_waits_for_the_stamp_and_not_for_the_records(tmp_path, monkeypatch):
    project = _project(tmp_path)
    release_read, release_write = os.pipe()
    # Each saver writes the records (after the stamp) once the test lets it.
    _in_savers(monkeypatch, sqlite3, "connect",
               lambda args, kwargs: _writing_records(args, kwargs) and os.read(release_read, 1))
    try:
        _invoke(project)
        with _when_blocked(project, _waited, stamp=False):   # (the stamp's lock it may wait for)
            second = _invoke(project)
        assert UP_TO_DATE in second.stderr
        assert _saving(project) and not _saving(project, stamp=True)   # the records are still being saved
        # a build that reads the records waits for them: released when it does
        (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
        settle(project)
        waited = []
        with _when_blocked(project, lambda: (waited.append(True), os.write(release_write, b"x")), stamp=False):
            third = _invoke(project)
        assert waited and UP_TO_DATE not in third.stderr
        reused = re.search(r"Reused (\d+) cached results", third.stderr)
        assert reused and int(reused.group(1)) > 0   # it read the records the saver had just written
    finally:
        os.write(release_write, b"xx")
        saving.wait(project)
        os.close(release_read)
        os.close(release_write)
    assert tree(project / "output") == cold(project, tmp_path)


def test_saves_that_never_happen_cost_the_next_build_time_not_correctness(tmp_path, monkeypatch):
    project = _project(tmp_path)
    build(project)
    # the saver killed before it saved anything
    _in_savers(monkeypatch, os, "setsid", lambda args, kwargs: os.kill(os.getpid(), signal.SIGKILL))
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
    settle(project)
    _invoke(project)
    monkeypatch.undo()
    (project / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "Edited too. See [hips](hip.md)."))
    settle(project)
    assert UP_TO_DATE not in build(project).stderr
    assert tree(project / "output") == cold(project, tmp_path)
    assert UP_TO_DATE in build(project).stderr


def test_a_save_that_fails_in_the_saver_is_reported_by_the_next_build(tmp_path, monkeypatch):
    project = _project(tmp_path)

    def full_disk(args, kwargs):
        if _writing_records(args, kwargs):
            raise sqlite3.OperationalError("database or disk is full")

    _in_savers(monkeypatch, sqlite3, "connect", full_disk)
    assert "note:" not in _invoke(project).stderr
    monkeypatch.undo()
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
    settle(project)
    shown = [line for line in _invoke(project).stderr.splitlines() if line.startswith("note:")]
    assert shown == ["note: the last build's saves: the build's state could not be saved (database or disk "
                     "is full); the next build renders every article again"]
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited again."))
    settle(project)
    again = build(project)
    assert UP_TO_DATE not in again.stderr and not any(line.startswith("note:") for line in again.stderr.splitlines())
    assert tree(project / "output") == cold(project, tmp_path)


def test_the_saver_lets_go_of_the_commands_output(tmp_path):
    """Whoever reads the command's output to its end (a pipe, CI's log) is not kept waiting for
    the saves."""
    read_end, write_end = os.pipe()
    release_read, release_write = os.pipe()
    saved = os.dup(1)
    os.dup2(write_end, 1)
    os.close(write_end)
    try:
        saves = saving.Later(tmp_path)
        saves.add(lambda: os.read(release_read, 1))   # the saver ends when told to
        saves.run()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    try:
        # End of file while the saver still runs (it waits for the test): no process holds the
        # pipe open. (The time limit only stops a test that would otherwise hang.)
        readable, _, _ = select.select([read_end], [], [], 120)
        assert readable and os.read(read_end, 1) == b"" and _saving(tmp_path)
    finally:
        os.write(release_write, b"x")
        saving.wait(tmp_path)
        for fd in (read_end, release_read, release_write):
            os.close(fd)
    assert not _saving(tmp_path)


def test_on_ci_the_saves_are_made_before_the_command_returns(tmp_path, monkeypatch):
    """A CI step that caches .pipeline/ right after the build must not copy half-written files."""
    project = _project(tmp_path)
    monkeypatch.setenv("CI", "true")
    stamp, records = _saves_made_in(monkeypatch)
    _invoke(project)
    assert stamp == records == [os.getpid()]
    assert list((project / ".pipeline").glob("uptodate-*")) and (project / ".pipeline/state.sqlite").is_file()
    assert UP_TO_DATE in _invoke(project).stderr


def test_a_small_sites_saves_are_made_before_the_command_returns(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.delenv("PIPELINE_DETACH_SAVES_FROM")   # the default, 1000: this site has 30-odd files
    _, ran_in = _saves_made_in(monkeypatch)
    _invoke(project)
    assert ran_in == [os.getpid()]
    monkeypatch.setenv("PIPELINE_DETACH_SAVES_FROM", "10")
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
    settle(project)
    _invoke(project)
    saving.wait(project)
    assert ran_in == [os.getpid()]   # the second build's ran in its saver


def test_waiting_needs_no_earlier_save(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr(fcntl, "flock", lambda fd, operation: waits.append(operation))
    monkeypatch.setattr(time, "sleep", waits.append)
    saving.wait(tmp_path / "never-built")
    assert waits == [] and not (tmp_path / "never-built").exists()   # no lock or pause waited for, nothing made


def test_what_a_running_saver_shares_with_the_command_is_not_freed_until_it_ends(tmp_path):
    """Freeing it while the saver runs would copy every page it is on first (fork shares them
    copy-on-write): the command exits without freeing it, a process that goes on frees it once
    the saver has ended."""
    import weakref

    class Held:
        pass

    saved, result = Held(), Held()
    release_read, release_write = os.pipe()
    saves = saving.Later(tmp_path)
    saves.add(lambda saved=saved: os.read(release_read, 1))   # the saver ends when told to
    saves.run(keep=result)
    refs = [weakref.ref(saved), weakref.ref(result)]
    del saved, result, saves
    try:
        assert all(ref() is not None for ref in refs)
        saving.reap_savers()   # the saver still runs: still held
        assert all(ref() is not None for ref in refs)
    finally:
        os.write(release_write, b"x")
        saving.wait(tmp_path)
        os.close(release_read)
        os.close(release_write)
    saving.reap_savers(block=True)   # once it has ended
    assert all(ref() is None for ref in refs)
