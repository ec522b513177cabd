"""Damaged stored state (a changed byte in the build cache or the build records) is noticed
before use: the entry is a miss, the build says so in a note and publishes what the sources say."""

from __future__ import annotations

import email
import email.policy
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import build, make_project, post, tree

SECRET = "Strong hips help runners climb stairs."


@pytest.fixture
def site(tmp_path):
    project = make_project(tmp_path / "site", {
        "hip.md": post("Hip Strength", "2026-06-01", SECRET),
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot."),
    })
    assert build(project).exit_code == 0
    return project


def flip_in_rows(database: Path, table: str, column: str, needle: bytes, where: str = "") -> int:
    """Change one bit of `needle` in every row of `table` whose `column` holds it; returns the count."""
    connection = sqlite3.connect(database)
    with connection:
        rows = connection.execute(f"SELECT rowid, {column} FROM {table} {where}").fetchall()
        changed = 0
        for rowid, data in rows:
            if isinstance(data, bytes) and needle in data:
                at = data.index(needle) + 1
                damaged = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
                connection.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (damaged, rowid))
                changed += 1
    connection.close()
    return changed


def forget_records(database: Path) -> None:
    """The store without its build records (as though none had been saved), its cache kept."""
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("DELETE FROM meta WHERE name LIKE 'records-%'")
    connection.close()


def published_text(project: Path) -> tuple[str, str]:
    page = (project / "output/site/hip-strength/index.html").read_text()
    [eml] = (project / "output/newsletter").glob("*hip-strength*/message.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    return page, message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("records", ["deleted", "kept"])
def test_a_damaged_cache_entry_is_a_miss_not_a_wrong_page(site, records):
    assert flip_in_rows(site / ".pipeline/state.sqlite", "entries", "value", SECRET.encode()) >= 1
    if records == "deleted":
        forget_records(site / ".pipeline/state.sqlite")
    (site / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "Knees carry a great deal."))
    for _ in range(2):   # and on the build after
        result = build(site)
        assert result.exit_code == 0, result.stderr
        assert "Traceback" not in result.stderr
        page, text = published_text(site)
        assert SECRET in page and SECRET in text


def test_a_damaged_cache_entry_is_noted(site):
    assert flip_in_rows(site / ".pipeline/state.sqlite", "entries", "value", SECRET.encode()) >= 1
    forget_records(site / ".pipeline/state.sqlite")
    result = build(site)
    assert result.exit_code == 0, result.stderr
    assert "the build cache entry markdown" in result.stderr and "was damaged; it is ignored and made again" \
        in result.stderr


def test_an_entry_read_under_another_name_is_a_miss_not_another_pages_text(site):
    """Every Markdown entry of the cache given the value of another entry (as a read of pages from
    two versions of the file could return): each is refused as damaged, never used as the page."""
    database = site / ".pipeline/state.sqlite"
    connection = sqlite3.connect(database)
    with connection:
        entries = connection.execute("SELECT key, value FROM entries ORDER BY key").fetchall()
        markdown = [key for key, _ in entries if key.startswith("markdown:")]
        other = next(value for key, value in entries if not key.startswith("markdown:"))
        assert markdown
        connection.executemany("UPDATE entries SET value = ? WHERE key = ?", [(other, key) for key in markdown])
    connection.close()
    forget_records(database)   # so that the build asks the cache for every article's Markdown
    result = build(site)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "the build cache entry markdown" in result.stderr and "was damaged" in result.stderr
    page, text = published_text(site)
    assert SECRET in page and SECRET in text


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list a process's open files")
def test_a_forked_process_keeps_no_connection_to_the_store_of_the_process_it_came_from(site):
    """A worker that used its parent's connections (or only dropped them) would make SQLite take
    the parent's locks for its own, and read the store while the parent rewrites it."""
    import os

    from pipeline.incremental import store

    database = site / ".pipeline/state.sqlite"
    reader, writer = store.reading(database), store.writing(database)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM entries").fetchone()
    try:
        pid = os.fork()
        if pid == 0:   # the child: is any of its open files the store's?
            held = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                    if os.path.exists(f"/proc/self/fd/{fd}")]
            os._exit(1 if any(os.path.basename(path).startswith(store.NAME) for path in held) else 0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert reader.execute("SELECT count(*) FROM entries").fetchone()[0] > 0   # the parent's still work
    finally:
        reader.close()
        writer.close()


def _rows(database: Path, table: str) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("table,column", [("sections", "html"), ("details", "data"), ("units", "data"),
                                          ("sources", "data"), ("layout", "data")])
def test_a_damaged_row_of_the_records_is_ignored_with_a_note(site, tmp_path, table, column):
    """Each kind of row, one byte changed, with the last report gone (so report sections come from
    the records) and one article edited: the build succeeds, says so, and equals a cold build."""
    database = site / ".pipeline/state.sqlite"
    assert _rows(database, table) >= 1
    connection = sqlite3.connect(database)
    with connection:
        for rowid, data in connection.execute(f"SELECT rowid, {column} FROM {table}").fetchall():
            middle = len(data) // 2
            connection.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                               (data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1:], rowid))
    connection.close()
    (site / "output/report.html").unlink()
    (site / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "Knees carry a great deal."))
    result = build(site)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    if table != "details":   # (read only by a build that renders an unchanged article's section again)
        assert "the build records in state.sqlite could not be read" in result.stderr
    cold = shutil.copytree(site / "content", tmp_path / "cold/content")
    shutil.copytree(site / "templates", tmp_path / "cold/templates")
    assert build(cold.parent).exit_code == 0
    assert tree(site / "output") == tree(cold.parent / "output")
    report = (site / "output/report.html").read_text()
    assert "content/posts/hip.md" in report and "content/posts/knee.md" in report
    page, text = published_text(site)
    assert SECRET in page and SECRET in text
    again = build(site)   # the records were written afresh
    assert again.exit_code == 0 and "could not be read" not in again.stderr
