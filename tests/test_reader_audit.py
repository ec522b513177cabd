"""A reader's audit: the shipped sample site's newsletter emails (every article's and a digest) at
375 and 600 px, and the blog's home, an article and a tag page at 375 and 1280 px, opened in
Debian's Chromium offline: no serious or critical axe-core violation, every visible text at least
4.5:1 against the background it is drawn on (3:1 when large), no sideways scroll. Full-page
screenshots are kept in test-artifacts/reader-audit/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import NOW, REPO, cli
from readers import ARTIFACTS, Reader, chromium, contrast, large

pytestmark = pytest.mark.slow

EMAIL_WIDTHS = (375, 600)
PAGE_WIDTHS = (375, 1280)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The shipped content and templates, built with a digest of the year's articles."""
    project = tmp_path_factory.mktemp("reader-audit") / "sample"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    result = cli(project, "digest", "--since", "2026-01-01", "--now", NOW)
    assert result.exit_code == 0, result.output
    return project


def _largest(folders) -> Path:
    """The folder whose page has the most to read: the fullest test of the styles."""
    return max(folders, key=lambda folder: ((folder / "index.html").stat().st_size, folder.name))


@pytest.fixture(scope="module")
def audits(sample, browser):
    """Every audit, keyed by "email" and "page"; each opens its document once per width."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    base_url = yaml.safe_load((sample / "content/site.yaml").read_text("utf-8"))["base_url"]
    site = sample / "output/site"
    reader = Reader(browser, {base_url: site})
    found = {"email": [], "page": []}
    try:
        for email in sorted((sample / "output/newsletter").glob("*/email.html")):
            for width in EMAIL_WIDTHS:
                found["email"].append(reader.audit(f"newsletter/{email.parent.name}/email.html", width,
                                                   html=email.read_text("utf-8"),
                                                   shot=f"email-{email.parent.name}-{width}.png"))
        articles = [f for f in site.iterdir() if f.name not in {"tags", "page", "static", "og"}
                    and (f / "index.html").is_file()]
        pages = {"home": site, "article": _largest(articles), "tag": _largest((site / "tags").iterdir())}
        for kind, folder in pages.items():
            path = folder.relative_to(site).as_posix() + "/" if folder != site else ""
            for width in PAGE_WIDTHS:
                found["page"].append(reader.audit(f"site/{path}index.html", width, url=base_url + path,
                                                  shot=f"page-{kind}-{folder.name}-{width}.png"))
    finally:
        reader.close()
    for audit in found["email"] + found["page"]:
        print(f"screenshot: {audit.screenshot}")
    return found


def test_every_email_and_the_three_kinds_of_page_are_audited_at_each_width(sample, audits):
    emails = sorted(p.parent.name for p in (sample / "output/newsletter").glob("*/email.html"))
    assert any(name.startswith("digest-") for name in emails) and len(emails) >= 2, emails
    assert [(a.name, a.width) for a in audits["email"]] == [
        (f"newsletter/{name}/email.html", width) for name in emails for width in EMAIL_WIDTHS]
    assert len(audits["page"]) == 3 * len(PAGE_WIDTHS)
    for audit in audits["email"] + audits["page"]:
        # the checks had something to read: a heading, paragraphs, links, the footer
        assert len(audit.texts) >= 5, (audit.where, audit.texts)
        assert audit.screenshot.read_bytes().startswith(b"\x89PNG"), audit.screenshot


def _report(audits, check: str) -> str:
    """The failures of `check` (an Audit method), a line repeated in one document shown once with its
    count, each document's lines followed by its screenshot."""
    lines = []
    for audit in audits:
        found = getattr(audit, check)()
        for line in dict.fromkeys(found):
            lines.append(line + (f" ({found.count(line)} times)" if found.count(line) > 1 else ""))
        if found:
            lines.append(f"    screenshot: {audit.screenshot}")
    return "\n".join(lines)


def test_pages_and_emails_find_the_sites_stylesheet_and_images(audits):
    """What was audited is what readers get: no file of the site is missing, no style or font is
    fetched from elsewhere (the audit runs offline)."""
    missing = [f"{a.where}: {url}" for a in audits["page"] + audits["email"] for url in a.missing]
    assert not missing, "the site's own files were not found:\n" + "\n".join(missing)
    elsewhere = [f"{a.where}: {kind} {url}" for a in audits["page"] + audits["email"] for kind, url in a.blocked
                 if kind in {"stylesheet", "font", "script"}]
    assert not elsewhere, "styles, fonts or scripts from other sites:\n" + "\n".join(elsewhere)


@pytest.mark.parametrize("kind", ["email", "page"])
def test_no_serious_or_critical_axe_violations(audits, kind):
    failures = _report(audits[kind], "axe_failures")
    assert not failures, "serious or critical axe-core violations:\n" + failures


@pytest.mark.parametrize("kind", ["email", "page"])
def test_every_visible_text_has_enough_contrast_with_its_background(audits, kind):
    failures = _report(audits[kind], "contrast_failures")
    assert not failures, "texts below WCAG AA contrast with their background:\n" + failures


@pytest.mark.parametrize("kind", ["email", "page"])
def test_nothing_scrolls_sideways(audits, kind):
    failures = _report(audits[kind], "scroll_failures")
    assert not failures, "sideways scrolling:\n" + failures


# The same machinery on documents whose answers are known.

BAD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bad</title></head><body>
<main>
<p style="background-color:#eeeeee;color:#ffffff">White on light grey</p>
<table role="presentation"><tr><td bgcolor="#0b5cad">
<a href="https://clinic.example/" style="color:#0b5cad">Blue link in a blue bgcolor cell</a></td></tr></table>
<div style="background:#ffffff"><span style="color:rgba(0,0,0,0.3)">Translucent black text</span></div>
<div style="opacity:0.3"><p>Paragraph in a faded block</p></div>
<p style="font-size:16px;color:#949494">Small grey text</p>
<p style="background-image:linear-gradient(#000000,#333333);color:#111111">Text on a gradient</p>
<p style="filter:invert(1);color:#000000">Inverted by a filter</p>
<div style="width:800px">A block wider than a phone</div>
<img src="https://clinic.example/photo.jpg">
</main></body></html>"""

GOOD = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Good</title></head><body>
<div style="display:none;font-size:1px;max-height:0;max-width:0;opacity:0;overflow:hidden">Hidden preheader</div>
<div style="font-size:1px;line-height:1px;max-height:0;overflow:hidden;color:#ffffff">Collapsed preheader</div>
<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);color:#eeeeee">Screen reader only</span>
<p style="visibility:hidden;color:#ffffff">Invisible paragraph</p>
<p style="color:#ffffff">&zwnj;&nbsp;&#8203; &zwnj;</p>
<main>
<h1 style="font-size:24px;color:#949494">Large grey heading</h1>
<p style="color:#000000">Black on white</p>
<table role="presentation"><tr><td bgcolor="#0b5cad">
<a href="https://clinic.example/" style="color:#ffffff;font-weight:bold">White link in a blue bgcolor cell</a></td></tr></table>
<div style="background:rgba(0,0,0,0.7)"><span style="color:#ffffff">White on 70% black</span></div>
</main></body></html>"""


@pytest.fixture(scope="module")
def reader(browser):
    reader = Reader(browser)
    yield reader
    reader.close()


def test_contrast_arithmetic_is_wcags():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((255, 255, 255), (255, 255, 255)) == pytest.approx(1)
    assert contrast((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert contrast((255, 255, 255), (0x0b, 0x5c, 0xad)) == pytest.approx(6.67, abs=0.01)
    assert large(24, 400) and large(18.67, 700) and not large(18.67, 400) and not large(23.9, 600)


def test_the_audit_flags_illegible_text_a_wide_block_and_axe_violations(reader):
    audit = reader.audit("bad snippet", 375, html=BAD, shot="check-bad-375.png")
    flagged = "\n".join(audit.contrast_failures())
    for text in ["White on light grey", "Blue link in a blue bgcolor cell", "Translucent black text",
                 "Paragraph in a faded block", "Small grey text"]:
        assert f"'{text}'" in flagged, (text, flagged)
    assert "'Text on a gradient' <html > body > main > p>: colours unknown (background-image" in flagged
    assert "rgb(11, 92, 173) on rgb(11, 92, 173) is 1.00:1, needs 4.5:1" in flagged   # bgcolor is painted
    assert "'Inverted by a filter' <html > body > main > p>: colours unknown (filter or blend mode" in flagged
    assert "'A block wider than a phone'" not in flagged
    assert audit.scroll_failures() and audit.scroll_width >= 800
    rules = {v["id"] for v in audit.violations}
    assert {"color-contrast", "image-alt"} <= rules, rules


def test_the_audit_passes_legible_text_and_ignores_hidden_text(reader):
    audit = reader.audit("good snippet", 375, html=GOOD, shot="check-good-375.png")
    assert audit.contrast_failures() == [] and audit.scroll_failures() == [] and audit.axe_failures() == []
    assert sorted(t["text"] for t in audit.texts) == ["Black on white", "Large grey heading",
                                                      "White link in a blue bgcolor cell", "White on 70% black"]


def test_the_reader_serves_the_site_from_its_folder_and_nothing_else(browser, tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static/style.css").write_text("p { color: #123456; }", "utf-8")
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Site</title>'
        '<link rel="stylesheet" href="/blog/static/style.css"><link rel="stylesheet" href="/blog/static/gone.css">'
        '</head><body><main><p>Styled</p><img src="https://elsewhere.example/x.png" alt="Elsewhere"></main></body></html>',
        "utf-8")
    reader = Reader(browser, {"https://clinic.example/blog/": tmp_path})
    try:
        audit = reader.audit("served", 600, url="https://clinic.example/blog/", shot="check-served-600.png")
    finally:
        reader.close()
    assert audit.missing == ["https://clinic.example/blog/static/gone.css"]
    assert reader.blocked == audit.blocked == [("image", "https://elsewhere.example/x.png")]
    assert [t["color"] for t in audit.texts if t["text"] == "Styled"] == [[0x12, 0x34, 0x56]]
