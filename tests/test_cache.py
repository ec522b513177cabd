"""The build cache: whatever changes between two builds (an article, a template, the settings, the
rules; an article deleted; the cache itself damaged), the incremental output equals a cold build."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from datetime import datetime

import pytest

from conftest import SITE_YAML, built, cli, make_project, post, settle, tree

from pipeline.incremental.cache import unseal

NOW = "2026-11-24T12:00"


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build_into(project, out, *extra):
    result = cli(project, "build", "--now", NOW, "--out", str(out), "--verbose", *extra)
    assert result.exit_code == 0, result.stderr
    return result


def sql(database, *statements):
    """Run statements on a SQLite file (committed); the rows of the last."""
    import sqlite3

    connection = sqlite3.connect(database)
    try:
        with connection:
            for statement in statements:
                rows = connection.execute(statement).fetchall()
        return rows
    finally:
        connection.close()


def record_sets(database, table):
    """The records a table of the build records holds, by name (see pipeline.incremental.records.SET_SIZE)."""
    return {name: record for records in sets_of(database, table).values() for name, record in records.items()}


def sets_of(database, table):
    """Each set of records of a table, by its number."""
    return {number: pickle.loads(unseal(data)) for number, data in sql(database, f"SELECT number, data FROM {table}")}


def set_of(database, table, name):
    """The number of the set of its table that holds the record of `name`."""
    return next(number for number, records in sets_of(database, table).items() if name in records)


def cold(project, tmp_path, name):
    """The same project built from scratch in another folder with no cache."""
    copy = tmp_path / f"cold-{name}"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".pipeline", "output"))
    build_into(copy, copy / "output", "--no-cache")
    return tree(copy / "output")


@pytest.fixture
def warm(tmp_path):
    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{i + 1:02}", f"Body {i}. See [next](p{(i + 1) % 12:02}.md).",
                                 tags=f"[knee, topic {i % 3}]") for i in range(12)}
    posts["dry.md"] = post("Dry Needling Basics", "2026-04-01", "What dry needling is.", tags="[dry needling]")
    project = make_project(tmp_path / "p", posts)
    first = build_into(project, project / "output")
    assert "Reused 0 cached results" in first.stderr
    second = build_into(project, project / "output")
    assert "Reused 0 cached" not in second.stderr and "No changes since the last build." in second.stdout
    return project


def replace_in(path, old: str, new: str) -> None:
    """Edit a file: `old` (which it must hold, so that no change silently becomes none) becomes `new`."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


CHANGES = {
    "article text": lambda p: (p / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.",
                                                                           tags="[knee]")),
    "article title (neighbours' links)": lambda p: (p / "content/posts/p05.md").write_text(
        post("Renamed Five", "2026-03-06", "Body 5.", tags="[knee, topic 2]")),
    "article deleted": lambda p: (p / "content/posts/dry.md").unlink(),
    "template": lambda p: replace_in(p / "templates/newsletter/email.html", "on our blog</a>", "on the blog</a>"),
    "social template": lambda p: (p / "templates/social/post.txt").write_text(
        (p / "templates/social/post.txt").read_text() + "\nNew line.\n"),
    "site settings": lambda p: replace_in(p / "content/site.yaml", "Test Clinic Blog", "Renamed Clinic Blog"),
    "compliance rules": lambda p: replace_in(p / "content/compliance.yaml", "Educational only, not medical advice.",
                                             "For education only; not medical advice."),
    "a tag renamed on one article": lambda p: (p / "content/posts/p01.md").write_text(
        post("Article 1", "2026-03-02", "Body 1.", tags="[Knee, topic 1]")),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_an_incremental_build_equals_a_cold_build(warm, tmp_path, change):
    CHANGES[change](warm)
    result = build_into(warm, warm / "output")
    assert tree(warm / "output") == cold(warm, tmp_path, "x")
    assert "Reused 0 cached" not in result.stderr or change in ("site settings", "compliance rules")


def test_an_articles_own_preview_image_replaced_renders_its_page_again(warm, tmp_path):
    """An article whose preview is its own image in content/static shows that image's size on its
    page: a new picture of another size under the same name makes the page again."""
    import io

    from PIL import Image

    def picture(width, height):
        out = io.BytesIO()
        Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
        (warm / "content/static/img").mkdir(parents=True, exist_ok=True)
        (warm / "content/static/img/p02.png").write_bytes(out.getvalue())

    picture(1200, 630)
    (warm / "content/posts/p02.md").write_text(post("Article 2", "2026-03-03", "Body 2. See [next](p03.md).",
                                                    tags="[knee, topic 2]", image="/img/p02.png",
                                                    image_alt="A knee"))
    build_into(warm, warm / "output")
    page = warm / "output/site/article-2/index.html"
    assert 'content="1200"' in page.read_text()
    picture(600, 315)
    build_into(warm, warm / "output")
    assert 'content="600"' in page.read_text() and 'content="1200"' not in page.read_text()
    assert tree(warm / "output") == cold(warm, tmp_path, "preview-image")


def test_deleting_a_linked_article_is_caught_even_with_the_cache(warm):
    (warm / "content/posts/p07.md").unlink()
    result = cli(warm, "build", "--now", NOW)
    assert result.exit_code == 1
    assert "content/posts/p06.md:7:20: error: link to 'p07.md': no published article has that file" in result.stderr


@pytest.mark.parametrize("damage", [b"not a database", b"", b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_corrupt_cache_is_ignored_with_a_note_and_rebuilt(warm, tmp_path, damage):
    CHANGES["article text"](warm)   # else the build may rightly find the output up to date and not run
    (warm / ".pipeline/state.sqlite").write_bytes(damage)
    result = build_into(warm, warm / "output")
    if damage:   # (an empty file is an empty store: nothing to note)
        assert "note: the build cache in state.sqlite could not be read" in result.stderr
    else:
        assert "could not be read" not in result.stderr
    assert tree(warm / "output") == cold(warm, tmp_path, "corrupt")
    again = build_into(warm, warm / "output")
    assert "could not be read" not in again.stderr and "Reused 0 cached" not in again.stderr


def test_a_foreign_cache_is_ignored(warm, tmp_path):
    CHANGES["article text"](warm)   # so that the build runs
    path = warm / ".pipeline/state.sqlite"
    path.unlink()
    sql(path, "CREATE TABLE meta (name TEXT, value TEXT)", "INSERT INTO meta VALUES ('cache-format', 'someone-else')")
    result = build_into(warm, warm / "output")
    assert "could not be read (format someone-else)" in result.stderr
    assert tree(warm / "output") == cold(warm, tmp_path, "foreign")


def test_no_cache_builds_from_scratch_and_leaves_the_cache_alone(warm):
    before = (warm / ".pipeline/state.sqlite").read_bytes()
    result = build_into(warm, warm / "output", "--no-cache")
    assert "Reused 0 cached results" in result.stderr
    assert (warm / ".pipeline/state.sqlite").read_bytes() == before


@pytest.mark.parametrize("damage", [b"", b"not a database", b"SQLite format 3\x00" + b"\xff" * 200])
def test_damaged_build_records_are_ignored_with_a_note_and_rebuilt(warm, tmp_path, damage):
    (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.", tags="[knee]"))
    (warm / ".pipeline/state.sqlite").write_bytes(damage)
    result = build_into(warm, warm / "output")
    if damage:
        assert "note: the build records in state.sqlite could not be read" in result.stderr
    assert tree(warm / "output") == cold(warm, tmp_path, "records")
    build_into(warm, warm / "output", "--no-cache")
    assert tree(warm / "output") == cold(warm, tmp_path, "records-again")


def test_a_damaged_unit_record_read_after_the_others_is_ignored_with_a_note_and_rebuilt(warm, tmp_path):
    """The unit records are read when the build first uses them, after the other tables."""
    path = warm / ".pipeline/state.sqlite"
    sql(path, f"UPDATE units SET data = x'00ff' WHERE number = {set_of(path, 'units', 'content/posts/p07.md')}")
    CHANGES["article text"](warm)
    result = build_into(warm, warm / "output")
    assert "note: the build records in state.sqlite could not be read" in result.stderr
    assert tree(warm / "output") == cold(warm, tmp_path, "unit-row")
    again = build_into(warm, warm / "output")
    assert "could not be read" not in again.stderr
    (warm / "content/posts/p04.md").write_text(post("Article 4", "2026-03-05", "Newer body.", tags="[knee]"))
    build_into(warm, warm / "output")
    assert tree(warm / "output") == cold(warm, tmp_path, "unit-row-again")


@pytest.mark.parametrize("row", ["x'00ff'", "x'" + pickle.dumps({"site/tags/x.html": ("key", "not an output")}).hex() + "'",
                                 "x'" + pickle.dumps([("key", "not a set")]).hex() + "'"])
def test_a_damaged_output_record_is_ignored_with_a_note_and_rebuilt(warm, tmp_path, row):
    """Output records (site-wide files) are kept in pickled sets: a row that is not one, or holds
    anything but output records, means no records at all, never a wrong adoption."""
    path = warm / ".pipeline/state.sqlite"
    name = next(name for name in record_sets(path, "outputs") if name.startswith("site/tags/"))
    sql(path, f"UPDATE outputs SET data = {row} WHERE number = {set_of(path, 'outputs', name)}")
    CHANGES["article text"](warm)
    result = build_into(warm, warm / "output")
    assert "note: the build records in state.sqlite could not be read" in result.stderr
    assert tree(warm / "output") == cold(warm, tmp_path, "output-row")
    assert "could not be read" not in build_into(warm, warm / "output").stderr


def test_records_of_other_code_are_replaced_and_a_section_whose_key_differs_is_rendered_again(warm, tmp_path):
    path = warm / ".pipeline/state.sqlite"
    # sections whose keys no longer match: each is rendered again, none is spliced in
    sql(path, "UPDATE sections SET key = 'stale'")
    CHANGES["article text"](warm)
    build_into(warm, warm / "output")
    assert tree(warm / "output") == cold(warm, tmp_path, "stale-sections")
    sql(path, "UPDATE meta SET value = 'other code' WHERE name = 'records-code'")
    CHANGES["article deleted"](warm)
    build_into(warm, warm / "output")
    assert tree(warm / "output") == cold(warm, tmp_path, "other-code")
    [(code,)] = sql(path, "SELECT value FROM meta WHERE name = 'records-code'")
    sources = list(record_sets(path, "sources"))
    assert code != "other code" and "content/posts/dry.md" not in sources and len(sources) == 12


def test_only_the_changed_article_is_rendered_again(warm):
    (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.", tags="[knee, topic 0]"))
    result = built(warm)
    # it and the two pages that show it as their neighbour
    assert sorted(result.work.articles_rendered) == ["content/posts/p02.md", "content/posts/p03.md",
                                                     "content/posts/p04.md"]
    assert result.work.articles_reused == 10
    assert "site/article-3/index.html" in result.changes.changed
    # every output the result describes, made, streamed or taken from a record, with its bytes' hash
    assert {a.path: a.sha256 for a in result.artifacts} == {
        path: hashlib.sha256(data).hexdigest() for path, data in tree(warm / "output").items()
        if path != ".pipeline-output"}
    (warm / "content/posts/p05.md").write_text(post("Renamed Five", "2026-03-06", "Body 5.", tags="[knee, topic 2]"))
    # p05 and its neighbours p04 and p06; p04 links to p05 by its new slug, so p04's neighbour p03 too
    assert sorted(built(warm).work.articles_rendered) == ["content/posts/p03.md", "content/posts/p04.md",
                                                          "content/posts/p05.md", "content/posts/p06.md"]
    assert tree(warm / "output") == cold(warm, warm.parent, "spy")


def test_compiled_templates_are_reused_until_their_template_changes(warm, tmp_path):
    (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.", tags="[knee, topic 0]"))
    assert built(warm).work.templates_compiled == ()
    template = warm / "templates/social/post.txt"
    template.write_text(template.read_text() + "\nNew line.\n")
    assert built(warm).work.templates_compiled == ("social/post.txt",)
    assert tree(warm / "output") == cold(warm, tmp_path, "compiled")
    # one folder for this pipeline and Jinja, one per environment: HTML and text code differ
    (version,) = (warm / ".pipeline/templates").iterdir()
    assert {"blog-html", "newsletter-html", "newsletter-text", "social-text"} <= {p.name for p in version.iterdir()}


def test_the_scheduling_exports_are_made_again_only_when_a_post_in_them_changes(tmp_path):
    posts = {"knee.md": post("Knee Basics", "2026-11-24T11:00:00", "About knees.", tags="[knee]"),
             "hip.md": post("Hip Strength", "2026-11-24T11:30:00", "About hips.", tags="[hip]"),
             "old.md": post("Old News", "2026-03-01", "From the spring.", tags="[knee]")}
    project = make_project(tmp_path / "p", posts)
    exports = ["social/hootsuite-linkedin.csv", "social/calendar.ics"]

    def run():
        """Were the exports made again (else taken from the records)? Made or taken, all of them."""
        made = built(project).work.site_files_made
        made = [path for path in exports if path in made]
        assert made in ([], exports)
        return bool(made)

    assert run()
    csv = project / "output/social/hootsuite-linkedin.csv"
    assert b"Knee Basics" in csv.read_bytes() and b"Hip Strength" in csv.read_bytes()
    # an article with no post to come: the exports are taken as they are
    (project / "content/posts/old.md").write_text(post("Old News", "2026-03-01", "Edited.", tags="[knee]"))
    assert not run()
    assert tree(project / "output") == cold(project, tmp_path, "old-edited")
    # a post in them changes (the article's title): made again
    (project / "content/posts/hip.md").write_text(post("Hip Strength Today", "2026-11-24T11:30:00", "About hips.",
                                                       tags="[hip]"))
    assert run()
    assert b"Hip Strength Today" in csv.read_bytes()
    assert tree(project / "output") == cold(project, tmp_path, "hip-edited")


@pytest.mark.parametrize("damage", ["empty", "garbage", "cut after the header", "cut in the checksum"])
def test_damaged_compiled_templates_are_compiled_again(warm, tmp_path, damage):
    from jinja2.bccache import bc_magic
    compiled = list((warm / ".pipeline/templates").rglob("*.cache"))
    assert compiled
    for path in compiled:
        data = path.read_bytes()
        path.write_bytes({"empty": b"", "garbage": b"garbage", "cut after the header": data[:len(data) // 3],
                          "cut in the checksum": bc_magic + data[len(bc_magic):len(bc_magic) + 5]}[damage])
    (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.", tags="[knee, topic 0]"))
    build_into(warm, warm / "output")
    assert tree(warm / "output") == cold(warm, tmp_path, "damaged-templates")


def test_no_cache_keeps_no_compiled_templates(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Article", "2026-03-01", "Body.")})
    build_into(project, project / "output", "--no-cache")
    assert not (project / ".pipeline/templates").exists()


@pytest.mark.parametrize("upset", ["spare tree deleted", "output copied back from a backup"])
def test_outputs_whose_times_moved_but_bytes_did_not_are_kept_not_rendered_again(warm, tmp_path, upset):
    # Deleting the spare tree moves the ctime of every file of output/ (each loses a hard link); a
    # backup restored by copying gives every file new times and inodes. The bytes are hashed
    # instead of the articles rendered again.
    build_into(warm, warm / "output")   # a second build: output/ and the spare tree share inodes
    if upset == "spare tree deleted":
        shutil.rmtree(warm / ".output-spare")
    else:
        shutil.copytree(warm / "output", tmp_path / "backup")
        shutil.rmtree(warm / "output")
        shutil.copytree(tmp_path / "backup", warm / "output", copy_function=shutil.copyfile)
    (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", "New body.", tags="[knee, topic 0]"))
    assert 0 < len(built(warm).work.articles_rendered) <= 3   # the article and its two neighbours
    assert tree(warm / "output") == cold(warm, tmp_path, "upset")


def test_the_cache_keeps_what_adopted_records_stand_for(warm):
    # After an edit, the other articles come from their records; their cached Markdown must stay,
    # so a template change afterwards re-renders every page without converting every article again.
    CHANGES["article text"](warm)
    assert built(warm).work.markdown_conversions == 1   # the edited article's (its page has its new text)
    assert "New body." in (warm / "output/site/article-3/index.html").read_text()
    CHANGES["template"](warm)
    work = built(warm).work
    assert len(work.articles_rendered) == 13 and work.markdown_conversions == 0
    assert tree(warm / "output") == cold(warm, warm.parent, "template-after-edit")


def test_sources_unchanged_since_they_were_read_are_not_read_again_but_a_same_size_edit_is(warm):
    for path in (warm / "content/posts").glob("*.md"):  # older than a second: their metadata is trusted
        os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    built(warm)
    assert built(warm).work.sources_read == ()
    target = warm / "content/posts/p03.md"
    before = target.stat()
    target.write_text(target.read_text().replace("Body 3.", "Body X."))  # same size, mtime put back
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    assert "content/posts/p03.md" in built(warm).work.sources_read
    assert "Body X." in (warm / "output/site/article-3/index.html").read_text()
    assert tree(warm / "output") == cold(warm, warm.parent, "same-size")


def test_templates_that_show_more_of_an_article_stay_right_after_an_edit(warm, tmp_path):
    # Staff may show any field in listings and beside an article: the records must not assume which.
    for name, old, new in (("list.html", "{{ article.summary }}", "{{ article.summary }} by {{ article.author }}"),
                           ("article.html", "{{ older.title }}", "{{ older.title }} ({{ older.author }})")):
        template = warm / "templates/blog" / name
        assert old in template.read_text()
        template.write_text(template.read_text().replace(old, new))
    build_into(warm, warm / "output")
    (warm / "content/posts/p05.md").write_text(post("Article 5", "2026-03-06", "Body 5. See [next](p06.md).",
                                                    tags="[knee, topic 2]", author="Dr. New Author"))
    build_into(warm, warm / "output")
    assert "Dr. New Author" in (warm / "output/site/article-6/index.html").read_text()
    assert tree(warm / "output") == cold(warm, tmp_path, "shows-more")


def test_a_report_section_is_keyed_by_every_field_of_its_findings():
    # A kept section must never show an old finding: the key reads every field a finding has.
    import inspect
    from dataclasses import fields

    from pipeline.errors import Finding, Location

    finding = Finding(Location("content/posts/a.md", 3, 7), "message", "warning", "rule", "line", "blog",
                      "blog/a/index.html", "reason")
    made_with = [name for name in inspect.signature(Finding).parameters]   # location, message, ...
    assert len(finding.fields()) == len(made_with) - 1 + len(fields(Location))
    assert set(finding.fields()) == {"content/posts/a.md", 3, 7, "message", "warning", "rule", "line", "blog",
                                     "blog/a/index.html", "reason"}
    assert Finding.from_fields(finding.fields()) == finding


def test_the_cache_drops_what_no_build_uses_any_more(warm):
    # Each edit leaves the old version's entries behind; the build drops them, so the cache holds
    # one build's worth however often an article is edited (and records stand for the rest).
    def entries():
        return {key for (key,) in sql(warm / ".pipeline/state.sqlite", "SELECT key FROM entries")}

    sizes = []
    for round_ in range(6):
        (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", f"Body, take {round_}.",
                                                        tags="[knee, topic 0]"))
        build_into(warm, warm / "output")
        sizes.append(len(entries()))
    assert sizes[1:] == sizes[:-1], sizes   # one build's worth: the same number of entries after every edit
    (warm / "content/posts/dry.md").unlink()
    build_into(warm, warm / "output")
    assert len(entries()) < sizes[-1]


def test_a_rebuild_drops_what_it_superseded_without_reading_every_key_unless_something_else_is_unused(
        warm, monkeypatch):
    import sqlite3

    log = warm.parent / "statements.log"   # a file: the cache is saved by another process (pipeline.incremental.saves)
    real = sqlite3.connect

    def logged(statement):
        with log.open("a") as handle:
            handle.write(statement + "\n")

    def traced(*args, **kwargs):
        connection = real(*args, **kwargs)
        connection.set_trace_callback(logged)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    database = warm / ".pipeline/state.sqlite"

    def edit_and_build(round_):
        log.write_text("")
        (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", f"Body, take {round_}.",
                                                        tags="[knee, topic 0]"))
        build_into(warm, warm / "output")
        scanned = "SELECT key FROM entries" in log.read_text().splitlines()
        return scanned, {key for (key,) in sql(database, "SELECT key FROM entries")}

    _, first = edit_and_build(1)
    scanned, second = edit_and_build(2)
    assert not scanned   # the superseded entries were known
    assert len(second) == len(first) and second != first   # the last version's entries, not the one before's
    sql(database, "INSERT INTO entries VALUES ('stray:entry', x'00')")
    scanned, third = edit_and_build(3)
    assert scanned and "stray:entry" not in third and len(third) == len(second)
    assert tree(warm / "output") == cold(warm, warm.parent, "dropped")


def test_a_card_is_drawn_again_only_when_its_title_or_the_clinics_names_change(warm):
    template = warm / "templates/blog/article.html"
    template.write_text(template.read_text().replace("</nav>", "</nav>\n<p>Edited template.</p>"))
    CHANGES["article text"](warm)
    work = built(warm).work
    assert "Edited template." in (warm / "output/site/article-3/index.html").read_text()
    assert len(work.articles_rendered) == 13 and work.cards_drawn == ()   # every page rendered again, no card drawn again
    CHANGES["article title (neighbours' links)"](warm)
    assert built(warm).work.cards_drawn == ("content/posts/p05.md",)
    assert tree(warm / "output") == cold(warm, warm.parent, "cards")
    CHANGES["site settings"](warm)   # the site's title is on every card
    assert sorted(built(warm).work.cards_drawn) == sorted(f"content/posts/{p.name}" for p in
                                                          (warm / "content/posts").glob("*.md"))
    assert tree(warm / "output") == cold(warm, warm.parent, "cards-settings")


@pytest.mark.parametrize("template", ["blog/article.html", "newsletter/email.html", "social/post.txt"])
def test_after_a_template_edit_each_article_is_read_once_not_also_to_probe_the_cache(warm, template):
    for path in (warm / "content/posts").glob("*.md"):  # older than a second: the records are trusted
        os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    built(warm)
    path = warm / "templates" / template
    path.write_text(path.read_text() + "\n")
    assert sorted(built(warm).work.sources_read) == sorted(f"content/posts/{p.name}" for p in
                                                           (warm / "content/posts").glob("*.md"))
    assert tree(warm / "output") == cold(warm, warm.parent, "template-read-once")


def test_a_page_template_edit_makes_no_social_json_or_report_section_again(warm):
    # Both show an article's posts or checks and claims, which a page template does not change.
    template = warm / "templates/blog/article.html"
    template.write_text(template.read_text().replace("</nav>", "</nav>\n<p>Edited template.</p>"))
    work = built(warm).work
    assert "Edited template." in (warm / "output/site/article-3/index.html").read_text()
    made = work.site_files_made
    assert not [path for path in made if path.startswith("social/")] and work.report_sections_rendered == ()
    assert "site/index.html" not in made   # the listings do not use the article template
    assert tree(warm / "output") == cold(warm, warm.parent, "page-template")
    template = warm / "templates/social/post.txt"
    template.write_text(template.read_text() + "\nNew line.\n")
    made = built(warm).work.site_files_made
    assert len([path for path in made if path.startswith("social/") and path.endswith(".json")]) == 13
    assert tree(warm / "output") == cold(warm, warm.parent, "social-template")


def test_each_kind_of_blog_page_is_rendered_again_only_when_a_template_it_uses_changes(warm):
    def edit(name: str, old: str, new: str) -> tuple[list, set]:
        """The site files made again and the articles rendered again after the edit."""
        template = warm / "templates/blog" / name
        assert old in template.read_text()
        template.write_text(template.read_text().replace(old, new, 1))
        work = built(warm).work
        found = [path for path in work.site_files_made if path.startswith("site/")], set(work.articles_rendered)
        assert tree(warm / "output") == cold(warm, warm.parent, name)
        return found

    site_files, articles = edit("list.html", "{% extends", "<!-- listing -->\n{% extends")
    assert articles == set() and "site/index.html" in site_files and "site/tags/knee/index.html" in site_files
    assert "site/sitemap.xml" not in site_files
    assert edit("sitemap.xml", "</urlset>", "<!-- sitemap --></urlset>") == (["site/sitemap.xml"], set())
    # both the article pages and the listings use the base template; a file that is not another
    # page's template counts for every page (the sitemap too, though it does not use it)
    site_files, articles = edit("base.html", "</head>", "<!-- base --></head>")
    assert len(articles) == 13 and "site/index.html" in site_files and "site/sitemap.xml" in site_files


def test_a_page_template_depends_on_every_file_but_the_page_templates_it_does_not_use(tmp_path):
    from pipeline.templating import page_digests

    folder = tmp_path / "blog"
    files = {"base.html": "<html>{% block main %}{% endblock %}</html>",
             "article.html": '{% extends "base.html" %}{% block main %}{% include "parts/byline.html" %}{% endblock %}',
             "parts/byline.html": "by {{ author }}", "list.html": '{% extends "base.html" %}',
             "sitemap.xml": "<urlset/>", "static/style.css": "body {}"}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    pages = ("article.html", "list.html", "sitemap.xml")

    def changed_by(name: str, text: str) -> set[str]:
        before = page_digests(folder, pages)
        (folder / name).write_text(text)
        after = page_digests(folder, pages)
        return {page for page in pages if after[page] != before[page]}

    assert changed_by("list.html", '{% extends "base.html" %}{# edited #}') == {"list.html"}
    assert changed_by("sitemap.xml", "<urlset></urlset>") == {"sitemap.xml"}
    # any other file may be used by any page: partials, the base template, static files
    assert changed_by("parts/byline.html", "written by {{ author }}") == set(pages)
    assert changed_by("base.html", "<html>{% block main %}{% endblock %}</html>\n") == set(pages)
    assert changed_by("static/style.css", "body { margin: 0 }") == set(pages)
    # a page template another one uses, even through a partial, counts for both
    (folder / "parts/byline.html").write_text('by {{ author }}{% include "sitemap.xml" %}')
    assert changed_by("sitemap.xml", "<urlset> </urlset>") == {"sitemap.xml", "article.html"}
    # one that names a template only at run time may use any of them
    (folder / "list.html").write_text('{% extends "base.html" %}{% include name %}')
    assert changed_by("sitemap.xml", "<urlset>  </urlset>") == set(pages)
    (folder / "list.html").write_text("{% broken")   # cannot be read: likewise
    assert changed_by("sitemap.xml", "<urlset>   </urlset>") == set(pages)


def test_editing_the_report_page_template_renders_no_article_section_again(warm):
    for name, expected in (("report.html", 0), ("article.html", 13)):
        template = warm / "templates/report" / name
        template.write_text(template.read_text() + "\n<!-- edited -->\n")
        assert len(built(warm).work.report_sections_rendered) == expected, name
        assert "<!-- edited -->" in (warm / "output/report.html").read_text()
        assert tree(warm / "output") == cold(warm, warm.parent, f"report-{name}")


def test_source_records_are_read_back_as_they_were_made(tmp_path):
    """Source records come back from their pickled sets with every value they were made with:
    every kind of front matter value, time zones included, and the digest of the article, which
    the record carries (the frozen article holds nothing but its fields)."""
    from datetime import datetime, timedelta

    from dataclasses import replace

    from pipeline.incremental import cache
    from pipeline.build import load_site
    from pipeline.errors import FindingList
    from pipeline.options import Options
    from pipeline.incremental.records import Records
    from pipeline.model import Article

    evidence = ("\n  - citation: 10.2519/jospt.2017.7096\n    title: A review\n    supports: [claim-pain-relief]")
    accept = "\n  - rule: claim-best\n    reason: Compares two of our own programs."
    project = make_project(tmp_path / "p", {
        "full.md": post("Full", "2026-05-01T09:30:00-05:00", "Which plan is best? Dry needling may help with pain relief.",
                        tags="[knee, Dry Needling]", updated="2026-05-03", author="Sam Lee, PT",
                        summary="A summary.", evidence=evidence, reviewed_by="Dr. Ann Roe, DPT",
                        reviewed_on="2026-05-02", accept=accept, image="/img/knee.png", image_alt="A knee",
                        newsletter="{subject: 'June: hips', preheader: 'Three exercises'}",
                        social="{x: Our own words.}"),
        "zoned.md": post("Zoned", "2026-06-01T08:00", "Local time in the site's zone."),
        "draft.md": post("Draft", "2026-06-02", "Not yet.", draft="true"),
    }, files={"content/static/img/knee.png": _tiny_png()})
    build_into(project, project / "output")
    read = Records(project / ".pipeline", cache.code_digest())
    read.close()
    assert read.sources.keys() == record_sets(project / ".pipeline/state.sqlite", "sources").keys()
    # The records as this build makes them (in process, with nothing to read): each read back has
    # every value it was made with (times with their zones: repr shows them).
    made = Records(None, "")
    load_site(project, Options(now=datetime(2026, 11, 24, 12, 0)), FindingList(), [], made)
    assert made.new_sources.keys() == read.sources.keys() and len(read.sources) == 3
    unkeyed = dict(stat=None, key="", convert_key="", context="")   # (keyed by the build's settings)
    for name, record in read.sources.items():
        fresh = made.new_sources[name]
        assert repr(replace(record, **unkeyed)) == repr(replace(fresh, **unkeyed))
        assert record.digest == fresh.digest and (record.article is None) == (fresh.article is None)
        if record.article is not None:
            assert vars(record.article).keys() == Article.__dataclass_fields__.keys()
    zoned = read.sources["content/posts/zoned.md"]
    assert type(zoned.article.date.tzinfo).__name__ == "ZoneInfo"
    full = read.sources["content/posts/full.md"]
    assert full.article.date.utcoffset() == timedelta(hours=-5) and full.article.evidence[0].supports == (
        "claim-pain-relief",) and full.article.accept[0].rule == "claim-best"
    assert full.article.social == (("x", "Our own words."),) and full.article.reviewed_on is not None
    assert read.sources["content/posts/draft.md"].article is None


def test_unit_and_output_records_are_read_back_with_every_field_they_were_written_with(warm):
    """Unit and output records come back from their pickled sets without running their
    constructors: each with every field of its class, findings and checks of their own classes,
    a unit's details from their own row."""
    import zlib
    from dataclasses import fields

    from pipeline.incremental import cache
    from pipeline.compliance.checker import Check
    from pipeline.errors import Finding
    from pipeline.incremental.records import OutputRecord, Records, UnitRecord

    (warm / "content/posts/p05.md").write_text(post("Article 5", "2026-03-06", "Which plan is best? It may "
                                                     "improve circulation.", tags="[knee]"))
    build_into(warm, warm / "output")
    path = warm / ".pipeline/state.sqlite"
    records = Records(warm / ".pipeline", cache.code_digest())
    try:
        units, outputs = record_sets(path, "units"), record_sets(path, "outputs")
        assert records.units.keys() == units.keys() and records.outputs.keys() == outputs.keys() and len(units) == 13
        for record_class, table in ((UnitRecord, records.units), (OutputRecord, records.outputs)):
            assert all(vars(record).keys() == {f.name for f in fields(record_class)} and type(record) is record_class
                       for record in table.values())
        assert all(vars(records.outputs[name]) == vars(record) for name, record in outputs.items())
        details = dict(sql(path, "SELECT name, data FROM details"))
        for name, record in records.units.items():
            assert {**vars(record), "details": b""} == vars(units[name]) and units[name].details == b""
            assert record.unpack() == pickle.loads(zlib.decompress(unseal(details[name])))
        findings = [f for record in records.units.values() for f in record.findings]
        checks = [c for record in records.outputs.values() for c in record.checks]
        assert findings and all(type(f) is Finding for f in findings)
        assert checks and all(type(c) is Check and vars(c).keys() == {f.name for f in fields(Check)} for c in checks)
        assert {c.found for c in checks} == {True}
        assert records.units["content/posts/p05.md"].unpack()[1]   # its claims, from the details
    finally:
        records.close()


def test_a_build_writes_again_only_the_sets_of_records_that_changed(warm, monkeypatch, tmp_path):
    """An edited article's source record is written again with the other records of its set, and
    no other set of source records is; nor any set of unit records but those of the articles
    made again. A new article's record goes in at its place: the sets before it stay as they were."""
    monkeypatch.setenv("PIPELINE_RECORD_SET_SIZE", "3")   # 13 articles: five sets of each kind
    # Inputs edited a minute ago, whatever the machine's speed: a file changed within a second of a
    # build is not trusted, and its record would be written again once it is (a set more or less).
    settle(warm)
    CHANGES["article text"](warm)
    build_into(warm, warm / "output")   # (every set written again: their members changed)
    path = warm / ".pipeline/state.sqlite"
    tables = ("sources", "units", "outputs")
    sql(path, "CREATE TABLE written (name TEXT, number INTEGER)", *(
        f"CREATE TRIGGER written_{table} AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO written VALUES ('{table}', new.number); END" for table in tables))

    def written(table):
        found = {number for name, number in sql(path, "SELECT name, number FROM written") if name == table}
        sql(path, f"DELETE FROM written WHERE name = '{table}'")
        return found

    held = {table: set(sets_of(path, table)) for table in tables}
    assert len(held["sources"]) == len(held["units"]) == 5 and len(held["outputs"]) > 5
    edited = "content/posts/p03.md"
    (warm / edited).write_text(post("Article 3", "2026-03-04", "Newer body.", tags="[knee]"))   # (tags as they were)
    build_into(warm, warm / "output")
    assert written("sources") == {set_of(path, "sources", edited)}
    # Its page and its neighbours' pages (which link to it by its title) are made again.
    assert set_of(path, "units", edited) in written("units") <= {
        set_of(path, "units", f"content/posts/p0{i}.md") for i in (2, 3, 4)}
    assert written("outputs") < held["outputs"]
    # A new article, the oldest: its unit record goes last (newest first), beside p00's, whose page
    # links to it; every set before stays as it was. (Its source record goes by path, after
    # p05.md; the other articles' source records change too: they link to articles by file name.)
    (warm / "content/posts/p055.md").write_text(post("Article 5.5", "2026-01-01", "Older than all, no tags."))
    build_into(warm, warm / "output")
    assert written("units") == {4} and set(sets_of(path, "units")[4]) == {"content/posts/p00.md",
                                                                        "content/posts/p055.md"}
    assert set_of(path, "sources", "content/posts/p055.md") == 2
    assert tree(warm / "output") == cold(warm, tmp_path, "p055")
    # Deleted, its records go, and no set keeps one: the sets after them hold other members now.
    made = set(record_sets(path, "outputs"))
    (warm / "content/posts/p055.md").unlink()
    build_into(warm, warm / "output")
    kept = record_sets(path, "outputs")
    assert made - set(kept) and all("article-5-5" not in name for name in kept)
    assert "content/posts/p055.md" not in record_sets(path, "sources") | record_sets(path, "units")


def test_unchanged_report_sections_are_copied_from_the_last_report_or_else_from_the_records(warm, tmp_path):
    """A section whose article and findings are unchanged is read from the report the last build
    wrote, where the records place it; if that report is not as written (edited by hand, gone),
    from the records. Either way the report equals a cold build's."""
    report = warm / "output/report.html"
    damage = {"copied": lambda: None,
              "unpacked": lambda: report.write_bytes(report.read_bytes().replace(b"Article 5", b"Article X")),
              "gone": report.unlink}
    for run, (name, damage_by_hand) in enumerate(damage.items()):
        damage_by_hand()
        # (a claim: the section changes, so the report is written, not kept as it was)
        (warm / "content/posts/p03.md").write_text(post("Article 3", "2026-03-04", f"Body {run}. It may improve "
                                                        "circulation.", tags="[knee]"))
        work = built(warm, jobs=None).work
        assert work.report_sections_rendered == ("content/posts/p03.md",) and work.report_written
        # the twelve others from the last report, or else from the records
        assert (work.report_sections_copied, work.report_sections_unpacked) == ((12, 0) if name == "copied" else (0, 12))
        assert tree(warm / "output") == cold(warm, tmp_path, name)


def test_a_report_that_would_be_the_same_bytes_is_kept_and_any_difference_writes_it_again(warm, tmp_path):
    """The report (20 MB at 5,000 articles) is not written again when this build's would be the
    last one's bytes: same page, same sections in the same order. A changed section, page or
    order, or a report no longer as written, writes it again; either way it equals a cold build's."""
    def article(i, date, body=None, title=None):
        body = body or f"Body {i}. See [next](p{(i + 1) % 12:02}.md)."
        (warm / f"content/posts/p{i:02}.md").write_text(post(title or f"Article {i}", date, body,
                                                             tags=f"[knee, topic {i % 3}]"))

    report, rules = warm / "output/report.html", warm / "content/compliance.yaml"
    steps = [
        ("a body edit that moves no finding", lambda: article(3, "2026-03-04", "A new body. Still no claim."), []),
        ("a claim added (its section and the totals)", lambda: article(3, "2026-03-04", "It may improve circulation."),
         ["report.html"]),
        ("an article's date (its section and the order)", lambda: article(4, "2026-03-06T08:00"), ["report.html"]),
        ("the same sections in another order", lambda: article(5, "2026-03-06T09:00"), ["report.html"]),
        ("a time that moves nothing in the report", lambda: article(5, "2026-03-06T10:00"), []),
        ("an article's title (in its section alone)", lambda: article(7, "2026-03-08", title="Seven"), ["report.html"]),
        ("a disclaimer's short form (every section rendered again, the same)",
         lambda: CHANGES["compliance rules"](warm), []),
        ("a disclaimer's text (in the page's rules, in no section)", lambda: rules.write_text(
            rules.read_text().replace("call 911.", "call 911 at once.")), ["report.html"]),
        ("the report edited by hand", lambda: (report.write_bytes(report.read_bytes().replace(b"Article 8", b"Art 8")),
                                              article(6, "2026-03-07", "A third body.")), ["report.html"]),
    ]
    for name, change, written in steps:
        change()
        work = built(warm, jobs=None).work
        assert (["report.html"] if work.report_written else []) == written, name
        assert tree(warm / "output") == cold(warm, tmp_path, name.replace(" ", "-")), name


def test_a_preview_with_drafts_does_not_undo_the_cache_and_records_of_the_published_build(tmp_path):
    """Builds that include drafts or future articles (the preview server's) keep their cache and
    records in a folder of their own: a draft with a new tag changes every page's tag list, and
    sharing them made the next `pipeline build` render every article again."""
    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{1 + i:02}", f"Body {i}.", tags="[knee]") for i in range(12)}
    posts["draft.md"] = post("Draft", "2026-04-01", "Not yet.", tags="[new topic]", draft="true")
    project = make_project(tmp_path / "p", posts)
    build_into(project, project / "output")
    build_into(project, tmp_path / "preview", "--drafts")
    (project / "content/posts/p05.md").write_text(post("Article 5", "2026-03-06", "Edited.", tags="[knee]"))
    rendered = built(project, jobs=None).work.articles_rendered
    assert sorted(rendered) == ["content/posts/p04.md", "content/posts/p05.md", "content/posts/p06.md"]
    assert (project / ".pipeline/drafts/state.sqlite").is_file() and (project / ".pipeline/state.sqlite").is_file()
    assert tree(project / "output") == cold(project, tmp_path, "after-preview")


def test_a_previews_first_build_starts_from_the_published_builds_cache(tmp_path):
    """A preview (drafts: its own cache and records) reads what it lacks from the published
    build's cache, never writing it: only the draft is converted and drawn, every page is
    rendered again (the draft's new tag is in each one's tag list), and the result equals a
    preview built from nothing."""
    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{1 + i:02}", f"Body {i}.", tags="[knee]") for i in range(12)}
    posts["draft.md"] = post("Draft", "2026-04-01", "Not yet.", tags="[new topic]", draft="true")
    project = make_project(tmp_path / "p", posts)
    build_into(project, project / "output")
    published = (project / ".pipeline/state.sqlite").read_bytes()
    work = built(project, tmp_path / "preview", drafts=True).work
    # one conversion, the draft's (the only article the published build did not convert)
    assert work.markdown_conversions == 1 and work.cards_drawn == ("content/posts/draft.md",)
    assert len(work.articles_rendered) == 13 and "Not yet." in (tmp_path / "preview/site/draft/index.html").read_text()
    assert (project / ".pipeline/state.sqlite").read_bytes() == published
    assert (project / ".pipeline/drafts/state.sqlite").is_file()
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".pipeline", "output"))
    build_into(copy, tmp_path / "preview-cold", "--drafts", "--no-cache")
    assert tree(tmp_path / "preview") == tree(tmp_path / "preview-cold")


def _check(project, *extra):
    result = cli(project, "check", "--now", NOW, "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


def _append_claim(project):
    path = project / "content/posts/p03.md"
    path.write_text(path.read_text() + "\nRest helps, but movement heals.\n")


@pytest.mark.parametrize("change", list(CHANGES) + ["a claim added"], ids=list(CHANGES) + ["a claim added"])
def test_a_check_after_a_change_finds_what_a_check_from_scratch_finds(warm, tmp_path, change):
    # `check` takes what did not change from the last build's records (never writing them).
    CHANGES.get(change, _append_claim)(warm)
    fresh = tmp_path / "fresh"
    shutil.copytree(warm, fresh, ignore=shutil.ignore_patterns(".pipeline", "output", ".output-*"))
    assert _check(warm) == _check(fresh, "--no-cache")
    if change == "a claim added":
        assert any(f["rule"] == "claim-heal" and f["path"] == "content/posts/p03.md" for f in _check(warm)[1]["findings"])


def test_a_rebuilds_artifacts_taken_from_the_records_describe_what_a_cold_build_makes(warm, tmp_path):
    """The outputs a rebuild adopts stay their records' tuples until asked for; asked for, each is
    the artifact a cold build makes, without its content, and a field read for all of them (the
    link check's paths, the summary's channels) is the same as read from each."""
    from datetime import datetime

    from pipeline import build
    from pipeline.options import Options

    options = Options(now=datetime(2026, 11, 24, 12, 0), jobs=1)
    CHANGES["article text"](warm)
    rebuilt = build.run(warm, options, out=warm / "output").artifacts
    copy = tmp_path / "copy"
    shutil.copytree(warm, copy, ignore=shutil.ignore_patterns(".pipeline", "output"))
    made = build.run(copy, replace_cache(options)).artifacts   # in memory, with content

    def fields(artifact):
        return artifact.sha256, artifact.channel, artifact.media_type, artifact.articles, artifact.for_readers

    assert {a.path: fields(a) for a in rebuilt} == {a.path: fields(a) for a in made}
    assert all(a.content == b"" for a in rebuilt) and len(rebuilt) == len(made)
    for name in ("path", "channel", "sha256"):
        assert rebuilt.field(name) == [getattr(a, name) for a in rebuilt]
    assert rebuilt[-1] == list(rebuilt)[-1] and rebuilt[1:3] == list(rebuilt)[1:3]


def replace_cache(options):
    """The same options, without the build cache (a cold build)."""
    from dataclasses import replace

    return replace(options, cache=False)


def test_a_check_renders_only_what_changed_since_the_last_build_and_holds_no_content(warm):
    store = warm / ".pipeline/state.sqlite"

    def records() -> list:   # every row of the build records (the store also holds the cache, which a check keeps)
        return [sql(store, f"SELECT * FROM {table} ORDER BY 1") for table in
                ("sources", "units", "outputs", "details", "sections", "layout")] + \
            [sql(store, "SELECT * FROM meta WHERE name LIKE 'records-%' ORDER BY 1")]

    before = records()
    assert built(warm, checking=True).work.articles_rendered == ()   # all 13 articles from the records
    _append_claim(warm)
    result = built(warm, checking=True)   # (as `pipeline check`: it raises what the check would fail on)
    assert 1 <= len(result.work.articles_rendered) <= 3   # the edited article and the two whose pages link to it
    assert result.artifacts and all(a.content == b"" and len(a.sha256) == 64 for a in result.artifacts)
    assert records() == before   # read, never written


def test_check_refuses_two_outputs_for_one_file_as_build_does(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")}, files={"content/static/index.html": "<p>x</p>"})
    for command, headline in (("build", "Build failed: 1 error, 0 warnings in 1 file. Nothing was written to "
                                         "output/.\n"), ("check", "Check failed: 1 error, 0 warnings in 1 file.\n")):
        result = cli(project, command, "--now", NOW)
        assert result.exit_code == 1
        assert "two outputs would be written to the same file: site/index.html" in result.stderr
        assert result.stderr.endswith(headline)


@pytest.mark.parametrize("static", ["knee-basics/index.html", "Feed.xml"])
def test_a_new_file_over_an_output_taken_from_the_records_is_refused(tmp_path, static):
    """The article's page (adopted before the static files are made) and the feed (adopted after
    them) come from the last build's records; either way the new file is refused by name."""
    project = make_project(tmp_path / "p", {"a.md": post()})
    build_into(project, project / "output")
    before = tree(project / "output")
    (project / "content/static").mkdir(exist_ok=True)
    (project / "content/static" / static).parent.mkdir(parents=True, exist_ok=True)
    (project / "content/static" / static).write_text("<p>x</p>")
    result = cli(project, "build", "--now", NOW)
    assert result.exit_code == 1
    assert "two outputs would be written to the same file: " in result.stderr
    assert f"site/{static}" in result.stderr and "Nothing was written to output/." in result.stderr
    assert tree(project / "output") == before


def test_a_finding_made_outside_an_articles_record_changes_its_report_section(warm, tmp_path):
    """An article's report section shows every finding about it, not only those its record holds
    (whose digest the record keeps, so that an unchanged section is not keyed by hashing its
    findings' text again). The social-past warning comes from the site stage and the clock: when
    the clock moves past the article's first week, its record is taken as it is, yet its section
    changes; and back. Each time the output equals a cold build's at that time. (The warning is
    for posts not caught up: social.catch_up is off here.)"""
    (warm / "content/site.yaml").write_text(SITE_YAML + "social:\n  catch_up: 0m\n")
    assert cli(warm, "build", "--now", "2026-04-20T12:00", "--out", str(warm / "output")).exit_code == 0
    warning = "left out of the scheduling exports"
    for run, (now, warned) in enumerate((("2026-04-01T12:00", True), ("2026-04-20T12:00", False),
                                         ("2026-04-02T12:00", True))):
        result = built(warm, now=datetime.fromisoformat(now), jobs=None)
        assert (warning in "\n".join(finding.format() for finding in result.findings)) == warned
        section = (warm / "output/report.html").read_text().split("<code>content/posts/dry.md</code>")[1]
        assert (warning in section.split("<section")[0]) == warned
        assert result.work.report_sections_rendered == ("content/posts/dry.md",)
        copy = tmp_path / f"cold-{run}"
        shutil.copytree(warm, copy, ignore=shutil.ignore_patterns(".pipeline", "output"))
        assert cli(copy, "build", "--now", now, "--out", str(copy / "output"), "--no-cache").exit_code == 0
        assert tree(warm / "output") == tree(copy / "output")
