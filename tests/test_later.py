"""The state only the next build reads (records, cache, manifest, up-to-date stamp) is saved by a
detached process after output/ is in place: the command returns first, the next build waits for
those saves, and losing them costs time, never a wrong output."""

from __future__ import annotations

import fcntl
import os
import re
import select
import time

import pytest
from click.testing import CliRunner

from conftest import make_project, post, tree
from pipeline.incremental import saves as saving, uptodate
from pipeline.cli import main
from test_uptodate import UP_TO_DATE, build, cold, settle

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


def _release_soon(fd: int) -> int:
    """Write to `fd` half a second from now, from a process (not a thread: the build forks);
    its pid."""
    releaser = os.fork()
    if releaser == 0:
        try:
            time.sleep(0.5)
            os.write(fd, b"x")
        finally:
            os._exit(0)
    return releaser


def _runs_in(monkeypatch, owner, name: str) -> list[int]:
    """Patch owner.name to note the pid of each process it runs in; the list this process sees
    (a forked saver's notes go to its own copy)."""
    ran_in: list[int] = []
    real = getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args: (ran_in.append(os.getpid()), real(*args)))
    return ran_in


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
    real_save = uptodate._save

    def held_save(*args):   # runs in the saver (a fork of this process): waits for the test
        select.select([release_read], [], [], 30)
        real_save(*args)

    monkeypatch.setattr(uptodate, "_save", held_save)
    try:
        _invoke(project)
        assert (project / "output/report.html").is_file()   # the output is in place
        assert _saving(project) and not list((project / ".pipeline").glob("uptodate-*"))
        # Released only once the next build has started: without waiting for the saves it would
        # find no stamp and build again.
        releaser = _release_soon(release_write)
        started = time.monotonic()
        second = _invoke(project)
        os.waitpid(releaser, 0)
        assert UP_TO_DATE in second.stderr and time.monotonic() - started >= 0.4
        assert not _saving(project, stamp=True)
    finally:
        os.close(release_read)
        os.close(release_write)


def test_an_up_to_date_check_waits_for_the_stamp_and_not_for_the_records(tmp_path, monkeypatch):
    from pipeline.incremental.records import Records
    project = _project(tmp_path)
    release_read, release_write = os.pipe()
    real_save = Records._save

    def held_save(self, known):   # in the saver, after the stamp
        select.select([release_read], [], [], 30)
        real_save(self, known)

    monkeypatch.setattr(Records, "_save", held_save)
    try:
        _invoke(project)
        second = _invoke(project)
        assert UP_TO_DATE in second.stderr
        assert _saving(project) and not _saving(project, stamp=True)   # the records are still being saved
        # a build that reads the records waits for them
        (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
        settle(project)
        releaser = _release_soon(release_write)
        third = _invoke(project)
        os.waitpid(releaser, 0)
        assert UP_TO_DATE not in third.stderr
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
    monkeypatch.setattr(saving, "_saver", lambda *args: os._exit(0))   # killed before it saved anything
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
    import sqlite3

    from pipeline.incremental.records import Records
    project = _project(tmp_path)

    def full_disk(self, connection, known):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Records, "_write", full_disk)   # in the saver, a fork of this process
    assert "note:" not in _invoke(project).stderr
    monkeypatch.undo()
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
    settle(project)
    shown = [line for line in _invoke(project).stderr.splitlines() if line.startswith("note:")]
    assert shown == ["note: the last build's saves: the build records could not be written (database or disk "
                     "is full); the build after the one that wrote them renders every article"]
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
        saves.add(lambda: select.select([release_read], [], [], 30))
        saves.run()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    try:
        assert _saving(tmp_path)
        readable, _, _ = select.select([read_end], [], [], 10)   # the saver is still waiting for the test
        assert readable and os.read(read_end, 1) == b""   # end of file: no process holds the pipe open
    finally:
        os.write(release_write, b"x")
        saving.wait(tmp_path)
        for fd in (read_end, release_read, release_write):
            os.close(fd)
    assert not _saving(tmp_path)


def test_on_ci_the_saves_are_made_before_the_command_returns(tmp_path, monkeypatch):
    """A CI step that caches .pipeline/ right after the build must not copy half-written files."""
    from pipeline.incremental.records import Records
    project = _project(tmp_path)
    monkeypatch.setenv("CI", "true")
    stamp, records = _runs_in(monkeypatch, uptodate, "_save"), _runs_in(monkeypatch, Records, "_save")
    _invoke(project)
    assert stamp == records == [os.getpid()]
    assert list((project / ".pipeline").glob("uptodate-*")) and (project / ".pipeline/records.sqlite").is_file()
    assert UP_TO_DATE in _invoke(project).stderr


def test_a_small_sites_saves_are_made_before_the_command_returns(tmp_path, monkeypatch):
    from pipeline.incremental.records import Records
    project = _project(tmp_path)
    monkeypatch.delenv("PIPELINE_DETACH_SAVES_FROM")   # the default, 1000: this site has 30-odd files
    ran_in = _runs_in(monkeypatch, Records, "_save")
    _invoke(project)
    assert ran_in == [os.getpid()]
    monkeypatch.setenv("PIPELINE_DETACH_SAVES_FROM", "10")
    (project / "content/posts/hip.md").write_text(post("Hip Strength", "2026-06-01", "Edited."))
    settle(project)
    _invoke(project)
    saving.wait(project)
    assert ran_in == [os.getpid()]   # the second build's ran in its saver


def test_waiting_needs_no_earlier_save(tmp_path):
    started = time.monotonic()
    saving.wait(tmp_path / "never-built")
    assert time.monotonic() - started < 1


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
        saving._reap()   # the saver still runs: still held
        assert all(ref() is not None for ref in refs)
    finally:
        os.write(release_write, b"x")
        saving.wait(tmp_path)
        os.close(release_read)
        os.close(release_write)
    deadline = time.monotonic() + 5
    while any(ref() is not None for ref in refs) and time.monotonic() < deadline:
        time.sleep(0.05)
        saving.wait(tmp_path)
    assert all(ref() is None for ref in refs)
