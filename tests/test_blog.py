"""The blog channel: what `pipeline build` writes under output/site/ and how pages behave."""

from __future__ import annotations

import json
import re

import feedparser
import lxml.html
import pytest

from conftest import SITE_YAML, build, build_errors, cli, make_project, post, tree


def page(project, path: str):
    return lxml.html.fromstring((project / "output" / "site" / path).read_bytes())


def test_build_writes_articles_index_tags_sitemap_robots_and_assets(project):
    result = build(project)
    assert result.exit_code == 0, result.stderr
    files = set(tree(project / "output" / "site"))
    assert {"index.html", "knee-basics/index.html", "hip-strength-for-runners/index.html",
            "tags/knee/index.html", "tags/strength/index.html", "tags/hip/index.html", "sitemap.xml",
            "feed.xml", "atom.xml", "static/style.css"} <= files
    assert result.stdout.splitlines()[-1].startswith("Built 2 articles: ")


def test_article_page_has_metadata_readers_and_search_engines_need(project):
    build(project)
    doc = page(project, "knee-basics/index.html")
    assert doc.get("lang") == "en-US"
    assert doc.findtext(".//title") == "Knee Basics | Test Clinic Blog"
    assert doc.xpath("//meta[@name='description']/@content") == ["Knees carry a lot. See the hip article."]
    assert doc.xpath("//link[@rel='canonical']/@href") == ["https://clinic.example/blog/knee-basics/"]
    assert doc.xpath("//*[@class='author']/text()") == ["By Clinic Staff"]
    assert doc.xpath("//time/@datetime")[0] == "2026-05-01T00:00:00-04:00"
    assert doc.xpath("//*[@class='reading-time']/text()") == ["1 min read"]
    assert doc.xpath("//ul[@class='tags']//a/text()") == ["knee", "strength"]
    data = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert data["@type"] == "BlogPosting" and data["headline"] == "Knee Basics"
    assert data["datePublished"] == "2026-05-01T00:00:00-04:00"
    assert data["mainEntityOfPage"]["@id"] == "https://clinic.example/blog/knee-basics/"


def test_previous_and_next_links_follow_publication_order(project):
    build(project)
    older = page(project, "knee-basics/index.html")
    newer = page(project, "hip-strength-for-runners/index.html")
    assert older.xpath("//a[@rel='next']/@href") == ["/blog/hip-strength-for-runners/"]
    assert older.xpath("//a[@rel='prev']") == []
    assert newer.xpath("//a[@rel='prev']/@href") == ["/blog/knee-basics/"]


def test_markdown_links_to_other_articles_become_their_urls(project):
    build(project)
    doc = page(project, "knee-basics/index.html")
    assert doc.xpath("//div[@class='content']//a/@href") == ["/blog/hip-strength-for-runners/"]


def test_link_to_a_missing_article_file_is_an_error(tmp_path):
    errors = build_errors(tmp_path / "p", {"a.md": post("A", body="Read [this](gone.md).")})
    assert ("content/posts/a.md:6:13: error: link to 'gone.md': no published article has that file; check the "
            "file name (drafts and future articles are not published)") in errors


def test_index_is_newest_first_and_paginated(tmp_path):
    posts = {f"p{i:02}.md": post(f"Post {i:02}", f"2026-03-{i:02}") for i in range(1, 24)}
    project = make_project(tmp_path / "p", posts)
    assert build(project).exit_code == 0
    first = page(project, "index.html").xpath("//article/h2/a/text()")
    assert first == [f"Post {i:02}" for i in range(23, 13, -1)]
    assert page(project, "page/2/index.html").xpath("//article/h2/a/text()")[0] == "Post 13"
    assert page(project, "page/3/index.html").xpath("//article/h2/a/text()") == ["Post 03", "Post 02", "Post 01"]
    assert page(project, "index.html").xpath("//nav[@class='pager']/a[@rel='next']/@href") == ["/blog/page/2/"]
    assert page(project, "page/3/index.html").xpath("//nav[@class='pager']/a/@href") == ["/blog/page/2/"]
    assert not (project / "output/site/page/4").exists()
    assert "<loc>https://clinic.example/blog/page/3/</loc>" in (project / "output/site/sitemap.xml").read_text()


def test_tag_spellings_share_one_page(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("A", "2026-01-01", tags="[Back Pain]"),
        "b.md": post("B", "2026-01-02", tags="[back pain]"),
        "c.md": post("C", "2026-01-03", tags="[back pain]"),
    })
    assert build(project).exit_code == 0
    doc = page(project, "tags/back-pain/index.html")
    assert doc.xpath("//article/h2/a/text()") == ["C", "B", "A"]
    assert doc.findtext(".//h1") == "Articles tagged \u201cback pain\u201d"


def test_drafts_and_future_articles_are_left_out_unless_asked(tmp_path):
    project = make_project(tmp_path / "p", {
        "live.md": post("Live", "2026-05-01"),
        "draft.md": post("Draft Post", "2026-05-01", draft="true"),
        "later.md": post("Later Post", "2026-12-25"),
    })
    assert build(project).exit_code == 0
    everything = b"".join(tree(project / "output").values())
    assert b"Draft Post" not in everything and b"Later Post" not in everything
    assert build(project, "--drafts", "--future").exit_code == 0
    assert (project / "output/site/draft-post/index.html").exists()
    assert (project / "output/site/later-post/index.html").exists()
    assert cli(project, "build", "--now", "2026-12-26").exit_code == 0
    assert (project / "output/site/later-post/index.html").exists()
    assert not (project / "output/site/draft-post").exists()


def test_summary_defaults_to_the_first_paragraph_trimmed(tmp_path):
    words = " ".join(["word"] * 80)
    project = make_project(tmp_path / "p", {"a.md": post("A", body=f"{words}\n\nSecond paragraph.")})
    assert build(project).exit_code == 0
    description = page(project, "a/index.html").xpath("//meta[@name='description']/@content")[0]
    assert description.endswith("word\u2026") and len(description) <= 200


def assert_no_active_content(html: str, where: str) -> None:
    """No script (but JSON-LD), no event handler, no javascript:/data: URL, no iframe/object/embed."""
    doc = lxml.html.document_fromstring(html)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in ("iframe", "object", "embed", "form", "style"), (where, element.tag)
        if element.tag == "script":
            assert element.get("type") == "application/ld+json", where
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, name)
            if name in ("href", "src", "action", "formaction"):
                assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), (where, value)


def test_raw_html_and_script_links_never_reach_any_output(tmp_path):
    body = ('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">\n\n'
            '[click](javascript:alert(3)) [also](&#106;avascript:alert(4)) [data](data:text/html;base64,xx)\n\n'
            '<iframe src="https://evil.example/"></iframe>\n')
    project = make_project(tmp_path / "p", {"a.md": post("A", body=body)})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    for name, data in tree(project / "output" / "site").items():
        if name.endswith(".html"):
            assert_no_active_content(data.decode(), name)
    for feed in ("feed.xml", "atom.xml"):
        for entry in feedparser.parse((project / "output/site" / feed).read_bytes()).entries:
            assert_no_active_content(entry.content[0].value, feed)
    assert ("content/posts/a.md:6:7: warning: raw HTML '<script>' (and 2 more raw HTML tags on this line) is left "
            "out of the output") in result.stderr
    assert "content/posts/a.md:8:9: warning: link 'javascript:alert(3)' uses a javascript: address" in result.stderr


@pytest.mark.parametrize("body", ["", "\n\n   \n", "<div></div>"])
def test_an_article_with_no_text_is_built_with_a_warning_at_its_body(tmp_path, body):
    """As Mailchimp's checklist flags a campaign without content: the page, email and posts of an
    article whose body is empty (or only raw HTML, which is left out) would show only its title."""
    source = "---\ntitle: A\ndate: 2026-05-01\n---\n" + body
    project = make_project(tmp_path / "p", {"a.md": source, "b.md": post("B")})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert ("content/posts/a.md:5: warning: the article has no text after its front matter: its page, "
            "newsletter and posts show only the title; write the article below the closing ---") in result.stderr
    assert "b.md:5: warning" not in result.stderr
    assert (project / "output/site/a/index.html").exists()


def test_front_matter_text_is_escaped_in_every_context(tmp_path):
    title = '"Knees </script><b onmouseover=x>&amp; hips"'
    project = make_project(tmp_path / "p", {"a.md": post(title, slug="knees")})
    assert build(project).exit_code == 0
    html = (project / "output/site/knees/index.html").read_text()
    assert "</script><b" not in html and "<b onmouseover" not in html
    doc = page(project, "knees/index.html")
    assert doc.findtext(".//h1") == "Knees </script><b onmouseover=x>&amp; hips"
    data = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert data["headline"] == "Knees </script><b onmouseover=x>&amp; hips"


def test_build_with_no_articles_writes_an_empty_blog(tmp_path):
    project = make_project(tmp_path / "p")
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert "No articles yet." in (project / "output/site/index.html").read_text()


def test_static_files_from_content_are_published(tmp_path):
    """Files as they are; images made again, without their metadata (see test_images)."""
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(photo, "JPEG")
    project = make_project(tmp_path / "p", {"a.md": post("A", image="images/knee.jpg", image_alt="A knee")},
                           files={"content/static/images/knee.jpg": photo.getvalue(),
                                  "content/static/files/handout.pdf": b"%PDF-1.4 handout"})
    assert build(project).exit_code == 0
    assert (project / "output/site/files/handout.pdf").read_bytes() == b"%PDF-1.4 handout"
    with Image.open(project / "output/site/images/knee.jpg") as published:
        assert (published.format, published.size) == ("JPEG", (300, 200))
    doc = page(project, "a/index.html")
    assert doc.xpath("//img[@class='lead-image']/@src")[0].startswith("/blog/images/knee-300w.")
    assert doc.xpath("//img[@class='lead-image']/@alt") == ["A knee"]


def test_reading_time_counts_words(tmp_path):
    body = " ".join(["step"] * 700)
    project = make_project(tmp_path / "p", {"a.md": post("A", body=body)})
    build(project)
    assert page(project, "a/index.html").xpath("//*[@class='reading-time']/text()") == ["3 min read"]


def test_sitemap_lists_canonical_urls_without_tracking(project):
    build(project)
    sitemap = (project / "output/site/sitemap.xml").read_text()
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert "https://clinic.example/blog/knee-basics/" in locs
    assert all(loc.startswith("https://clinic.example/blog/") and "utm_" not in loc for loc in locs)


def test_a_blog_under_a_path_writes_no_robots_txt_where_crawlers_never_read_it(project):
    assert build(project).exit_code == 0
    site = project / "output/site"
    assert (site / "sitemap.xml").is_file() and not (site / "robots.txt").exists()
    assert "robots.txt" not in (site / "sitemap.xml").read_text()


def test_a_blog_at_the_domain_root_writes_robots_txt_naming_its_sitemap(tmp_path):
    site_yaml = SITE_YAML.replace("base_url: https://clinic.example/blog/", "base_url: https://clinic.example/")
    project = make_project(tmp_path / "p", {"a.md": post("A")}, site=site_yaml)
    assert build(project).exit_code == 0
    robots = (project / "output/site/robots.txt").read_text().splitlines()
    assert robots[:2] == ["User-agent: *", "Allow: /"]
    assert "Sitemap: https://clinic.example/sitemap.xml" in robots
    assert "<loc>https://clinic.example/a/</loc>" in (project / "output/site/sitemap.xml").read_text()


def test_moving_the_blog_under_a_path_removes_the_robots_txt_it_wrote(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A")},
                           site=SITE_YAML.replace("clinic.example/blog/", "clinic.example/"))
    build(project)
    assert (project / "output/site/robots.txt").is_file()
    (project / "content/site.yaml").write_text(SITE_YAML, encoding="utf-8")
    assert build(project).exit_code == 0
    assert not (project / "output/site/robots.txt").exists()


def test_a_rebuild_says_exactly_what_changed(project):
    first = build(project)
    assert "Changes since the last build: " in first.stdout and "  added    site/knee-basics/index.html" in first.stdout
    assert "No changes since the last build." in build(project).stdout
    (project / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "New words.", tags="[knee]"))
    result = build(project)
    assert "  changed  site/knee-basics/index.html" in result.stdout
    assert "  removed  site/tags/strength/page" not in result.stdout
    assert "  changed  site/feed.xml" in result.stdout
    assert "  changed  site/hip-strength-for-runners/index.html" not in result.stdout


EVIDENCE = ('[{citation: "doi:10.2519/jospt.2017.7096", title: "Dry needling for neck pain: a review", '
            'supports: [claim-pain-relief]}, {citation: "PMID: 31234567", title: "Hip strength & running"}, '
            '{citation: "https://www.apta.org/patient-care/guide", title: "APTA guide <for patients>"}]')


def test_an_article_shows_its_sources_and_who_reviewed_it_when(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Neck Pain", "2026-05-01", evidence=EVIDENCE,
                                                         reviewed_by='"Dana Reyes, DPT"',
                                                         reviewed_on="2026-05-03")})
    assert build(project).exit_code == 0
    doc = page(project, "neck-pain/index.html")
    reviewed = doc.xpath("//article//header//*[@class='reviewed']")[0]
    assert reviewed.text_content() == "Medically reviewed by Dana Reyes, DPT on May 3, 2026"
    assert reviewed.xpath(".//time/@datetime") == ["2026-05-03"]
    section = doc.xpath("//section[@class='sources']")[0]
    assert section.xpath(".//h2/text()") == ["Sources"]
    items = section.xpath(".//li")
    assert [li.xpath("string(cite)") for li in items] == ["Dry needling for neck pain: a review",
                                                           "Hip strength & running", "APTA guide <for patients>"]
    assert [li.xpath("a/@href")[0] for li in items] == ["https://doi.org/10.2519/jospt.2017.7096",
                                                        "https://pubmed.ncbi.nlm.nih.gov/31234567/",
                                                        "https://www.apta.org/patient-care/guide"]
    assert [li.xpath("string(a)") for li in items] == ["doi:10.2519/jospt.2017.7096", "PMID: 31234567", "apta.org"]


def test_a_reviewed_article_is_a_medical_web_page_to_search_engines(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Neck Pain", "2026-05-01", evidence=EVIDENCE,
                                                         reviewed_by='"Dana Reyes, DPT"',
                                                         reviewed_on="2026-05-03"),
                                            "b.md": post("Plain", "2026-05-02")})
    assert build(project).exit_code == 0
    data = json.loads(page(project, "neck-pain/index.html").xpath("//script[@type='application/ld+json']/text()")[0])
    assert data["@type"] == "MedicalWebPage" and data["@context"] == "https://schema.org"
    assert data["reviewedBy"] == {"@type": "Person", "name": "Dana Reyes, DPT"}
    assert data["lastReviewed"] == "2026-05-03"
    assert [(c["name"], c["url"]) for c in data["citation"]] == [
        ("Dry needling for neck pain: a review", "https://doi.org/10.2519/jospt.2017.7096"),
        ("Hip strength & running", "https://pubmed.ncbi.nlm.nih.gov/31234567/"),
        ("APTA guide <for patients>", "https://www.apta.org/patient-care/guide")]
    assert data["headline"] == "Neck Pain" and data["url"] == "https://clinic.example/blog/neck-pain/"
    plain = page(project, "plain/index.html")
    assert json.loads(plain.xpath("//script[@type='application/ld+json']/text()")[0])["@type"] == "BlogPosting"
    assert not plain.xpath("//*[@class='sources'] | //*[@class='reviewed']")
