"""RSS and Atom feeds, read back with feedparser as a feed reader would."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

import feedparser
import pytest
import lxml.html

from conftest import build, make_project, post


def parse(project, name):
    parsed = feedparser.parse((project / "output" / "site" / name).read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def shown(detail) -> str:
    """What a feed reader shows of a text construct: HTML is rendered, plain text is shown as written."""
    if detail.type in ("text/html", "application/xhtml+xml"):
        return lxml.html.fragment_fromstring(detail.value, create_parent="div").text_content()
    return detail.value


def test_both_feeds_parse_cleanly_with_full_content_and_summary(project):
    assert build(project).exit_code == 0
    for name in ("feed.xml", "atom.xml"):
        feed = parse(project, name)
        assert feed.feed.title == "Test Clinic Blog"
        titles = [e.title for e in feed.entries]
        assert titles == ["Hip Strength for Runners", "Knee Basics"]
        knee = feed.entries[1]
        assert knee.summary == "Knees carry a lot. See the hip article."
        assert '<a href="https://clinic.example/blog/hip-strength-for-runners/">the hip article</a>' \
            in knee.content[0].value


def test_ids_are_canonical_urls_and_never_change_between_builds(project):
    build(project)
    first = [e.id for e in parse(project, "atom.xml").entries]
    (project / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "Edited text.",
                                                        tags="[knee]"), "utf-8")
    build(project)
    assert [e.id for e in parse(project, "atom.xml").entries] == first
    assert first == ["https://clinic.example/blog/hip-strength-for-runners/",
                     "https://clinic.example/blog/knee-basics/"]
    rss = parse(project, "feed.xml")
    assert [e.id for e in rss.entries] == first
    rss_text = (project / "output/site/feed.xml").read_text()
    assert rss_text.count('<guid isPermaLink="true">https://clinic.example/blog/') == 2


def test_dates_use_each_format_and_build_date_comes_from_content(project):
    build(project)
    rss_text = (project / "output/site/feed.xml").read_text()
    assert "<lastBuildDate>Mon, 01 Jun 2026 04:00:00 +0000</lastBuildDate>" in rss_text
    assert "<pubDate>Fri, 01 May 2026 04:00:00 +0000</pubDate>" in rss_text
    atom = parse(project, "atom.xml")
    assert atom.feed.updated == "2026-06-01T04:00:00+00:00"
    assert atom.entries[1].published == "2026-05-01T04:00:00+00:00"
    assert parsedate_to_datetime("Mon, 01 Jun 2026 04:00:00 +0000").isoformat() == "2026-06-01T04:00:00+00:00"


def test_updated_date_drives_atom_updated(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01", updated="2026-07-04T10:00:00")})
    build(project)
    entry = parse(project, "atom.xml").entries[0]
    assert entry.updated == "2026-07-04T14:00:00+00:00"
    assert entry.published == "2026-05-01T04:00:00+00:00"


def test_feeds_carry_the_newest_twenty_by_default(tmp_path):
    posts = {f"p{i:02}.md": post(f"Post {i:02}", f"2026-01-{i:02}") for i in range(1, 26)}
    project = make_project(tmp_path / "p", posts)
    build(project)
    for name in ("feed.xml", "atom.xml"):
        titles = [e.title for e in parse(project, name).entries]
        assert titles == [f"Post {i:02}" for i in range(25, 5, -1)]


def test_feeds_stay_well_formed_with_markup_characters_in_every_field(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post(
        '"Tom & Jerry ]]> <b>bold</b> \\ud800"', slug="tricky", summary='"Less < more & ]]> \\u0007 bell \\udfff"',
        body="Text with ]]> and & and <b>tags</b> and \x0b.", tags='["R&D \\x1b"]', author='"A \\x00 B"')})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    for name in ("feed.xml", "atom.xml"):
        entry = parse(project, name).entries[0]
        assert entry.title == "Tom & Jerry ]]> <b>bold</b>"
        if name == "atom.xml":
            assert entry.author == "A  B" and entry.tags[0].label == "R&D"
        else:
            assert entry.tags[0].term == "R&D"
        assert shown(entry.summary_detail).startswith("Less < more & ]]>")
        assert "\x07" not in entry.summary
        assert "]]&gt;" in entry.content[0].value or "]]>" in entry.content[0].value


def test_every_item_names_its_author_in_both_feeds(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01", author="Dana Reyes, DPT"),
                                            "b.md": post("B", "2026-05-02")})
    assert build(project).exit_code == 0
    for name in ("feed.xml", "atom.xml"):
        assert [e.author for e in parse(project, name).entries] == ["Clinic Staff", "Dana Reyes, DPT"]
    assert "<dc:creator>Dana Reyes, DPT</dc:creator>" in (project / "output/site/feed.xml").read_text()


@pytest.mark.parametrize("summary", ["Use <b> for bold", "When a < b and c > d", "Tom &amp; Jerry", "x <br/> y"])
def test_a_plain_text_summary_shows_as_written_in_every_reader(tmp_path, summary):
    project = make_project(tmp_path / "p", {"a.md": post("A", summary=json.dumps(summary))})
    assert build(project).exit_code == 0
    for name in ("feed.xml", "atom.xml"):
        entry = parse(project, name).entries[0]
        assert shown(entry.summary_detail) == summary, name


def test_an_item_shows_who_reviewed_it_and_its_sources_as_its_page_does(tmp_path):
    evidence = '[{citation: "doi:10.2519/jospt.2017.7096", title: "Gattie <2017>"}, {citation: "PMID 28158962", title: Two}]'
    project = make_project(tmp_path / "p", {"a.md": post("A", evidence=evidence, reviewed_by='"Sam Ortiz, PT"',
                                                         reviewed_on="2026-05-03")})
    assert build(project).exit_code == 0
    for name in ("feed.xml", "atom.xml"):
        content = lxml.html.fragment_fromstring(parse(project, name).entries[0].content[0].value, create_parent="div")
        assert "Medically reviewed by Sam Ortiz, PT on May 3, 2026." in content.text_content()
        assert [(a.text, a.get("href")) for a in content.xpath("//li/a")] == [
            ("doi:10.2519/jospt.2017.7096", "https://doi.org/10.2519/jospt.2017.7096"),
            ("PMID: 28158962", "https://pubmed.ncbi.nlm.nih.gov/28158962/")]
        assert content.xpath("string(//li[1]/cite)") == "Gattie <2017>"
