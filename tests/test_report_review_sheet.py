"""The compliance report reads as a review sheet: grouped by article, each finding once, messages
in plain words, the front matter that clears a finding shown as an example that works when added,
and the disclaimers that were found folded away."""

from __future__ import annotations

import lxml.html
import yaml

from conftest import NOW, build, cli, make_project, post
from pipeline.compliance.checker import MISSING, Check, Claim
from pipeline.compliance.sheet import sheet
from pipeline.errors import ERROR, WARNING, Finding, Location
from pipeline.model import Evidence

BODY = "The best plan may reduce pain and restore mobility. It may also reduce pain at night."


def report(project):
    return lxml.html.fromstring((project / "output/report.html").read_bytes())


def section(doc, slug):
    return doc.xpath(f"//section[@id='article-{slug}']")[0]


def text(element) -> str:
    return " ".join(element.text_content().split())


def test_findings_are_grouped_by_article_each_once_in_plain_words(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01", BODY), "b.md": post("B", "2026-05-02")})
    assert build(project).exit_code == 0
    doc = report(project)
    assert [a.get("href") for a in doc.xpath("(//table)[1]//a")] == ["#article-b", "#article-a"]
    assert [text(td) for td in doc.xpath("(//table)[1]//tr/td[3]")] == ["nothing to review", "needs review"]
    a = section(doc, "a")
    claims = [[text(td) for td in tr.xpath("td")] for tr in a.xpath(".//h3[.='Health claims']/following-sibling::table[1]//tbody/tr")]
    assert [(row[0], row[1], row[4]) for row in claims] == [
        ("line 6", "“reduce pain”", "needs a cited source and a clinician’s review"),
        ("line 6", "“restore mobility”", "needs a cited source and a clinician’s review"),
        ("line 6", "“reduce pain”", "needs a cited source and a clinician’s review")]
    findings = [text(tr) for tr in a.xpath(".//h3[.='Findings']/following-sibling::table[1]//tbody/tr")]
    assert findings == ['line 6 warning "best" is a superiority claim that needs comparative evidence; '
                        'say "works well" (claim-best) the article']   # the claims are not repeated here
    for cell in a.xpath(".//td"):
        assert "`" not in cell.text_content() and "[{" not in cell.text_content()
    assert text(section(doc, "b").xpath(".//p[contains(@class, 'status')]")[0]) == "Nothing needs review."


def test_the_found_disclaimers_are_folded_away(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", tags="[dry needling]")})
    assert build(project).exit_code == 0
    a = section(report(project), "a")
    folded = a.xpath(".//details")
    assert len(folded) == 1 and folded[0].get("open") is None
    assert text(folded[0].xpath("summary")[0]) == "Disclaimers: 28 of 28 required placements found"
    assert all(td.xpath("ancestor::details") for td in a.xpath(".//td[.='found']"))
    assert len(folded[0].xpath(".//td[.='found']")) == 28


def add_front_matter(project, name, example: dict) -> None:
    path = project / "content/posts" / name
    head, body = path.read_text().split("\n---\n", 1)
    front = yaml.safe_load(head.removeprefix("---\n"))
    for key, value in example.items():
        front[key] = front.get(key, []) + value if isinstance(value, list) else value
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body)


def test_the_example_front_matter_clears_the_findings_it_is_shown_for(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01", BODY)})
    assert build(project).exit_code == 0
    examples = section(report(project), "a").xpath(".//pre[@class='example']/text()")
    assert len(examples) == 2
    evidence, accept = (yaml.safe_load(example) for example in examples)
    assert set(evidence) == {"evidence", "reviewed_by", "reviewed_on"}
    assert evidence["evidence"][0]["supports"] == ["claim-mobility", "claim-pain-relief"]
    assert accept == {"accept": [{"rule": "claim-best", "reason": accept["accept"][0]["reason"]}]}
    evidence["evidence"][0].update(citation="10.2519/jospt.2017.7096", title="Gattie 2017")
    evidence.update(reviewed_by="Sam Ortiz, PT, DPT", reviewed_on="2026-05-03")
    add_front_matter(project, "a.md", evidence)
    add_front_matter(project, "a.md", accept)
    result = cli(project, "build", "--strict", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    a = section(report(project), "a")
    assert not a.xpath(".//pre[@class='example']")
    assert text(a.xpath(".//p[contains(@class, 'status')]")[0]) == "Nothing needs review."
    assert "substantiated, reviewed by Sam Ortiz, PT, DPT" in text(a)
    assert set(a.xpath(".//a[.='doi:10.2519/jospt.2017.7096']/@href")) == {"https://doi.org/10.2519/jospt.2017.7096"}


def test_an_article_with_a_reviewer_is_shown_only_the_evidence_to_add(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01", "This may reduce pain.",
                                                         reviewed_by="Sam Ortiz", reviewed_on="2026-05-03")})
    assert build(project).exit_code == 0
    example = yaml.safe_load(section(report(project), "a").xpath(".//pre[@class='example']/text()")[0])
    assert set(example) == {"evidence"} and example["evidence"][0]["supports"] == ["claim-pain-relief"]


class Reviewed:
    reviewed_by = "Sam Ortiz"


def test_a_problem_seen_in_several_outputs_is_one_row_naming_them_all():
    where = Location("content/posts/a.md")
    findings = [Finding(where, f"newsletter output/newsletter/a/{out} lacks the clinic's postal address (CAN-SPAM); "
                        "check the footer of templates/newsletter/", ERROR, "footer-address", channel="newsletter",
                        artifact=f"output/newsletter/a/{out.split(' ')[0]}")
                for out in ("email.txt", "message.eml (text part)")]
    findings += [Finding(where, f"{channel} output/{out} lacks disclaimer 'medical'; check templates/{channel}/ still "
                         "renders the disclaimers", ERROR, MISSING, channel=channel, artifact=f"output/{out}")
                 for channel, out in (("feed", "site/feed.xml (item x)"), ("newsletter", "newsletter/a/email.txt"))]
    checks = [Check("site/feed.xml", "feed", "item x", "a", "medical", False),
              Check("site/atom.xml", "feed", "entry x", "a", "medical", True),
              Check("newsletter/a/email.txt", "newsletter", "text", "a", "medical", False)]
    claim = Claim("content/posts/a.md", "claim-pain-relief", "reduce pain", Location(where.path, 6, 3),
                  (Evidence("PMID: 28158962", "Gattie 2017"),), False)
    findings.append(Finding(claim.location, '"reduce pain" needs substantiation', WARNING, claim.rule))
    findings.append(Finding(where, "the x post(s) would go out too soon", WARNING, "social-past", channel="social",
                            artifact="output/social/a.json"))
    made = sheet(checks, [claim], findings, Reviewed(), {"claim-pain-relief"})
    assert [(row.rule, row.message, row.places) for row in made["rows"]] == [
        (MISSING, "The required disclaimer “medical” is missing. Check that each channel's templates still show "
                  "the disclaimers (templates/<channel>/).", ("feed: site/feed.xml (item x)", "newsletter: "
                                                              "newsletter/a/email.txt")),
        ("footer-address", "Lacks the clinic's postal address (CAN-SPAM); check the footer of templates/newsletter/",
         ("newsletter: newsletter/a/email.txt", "newsletter: newsletter/a/message.eml (text part)")),
        ("social-past", "The x post(s) would go out too soon", ("social: social/a.json",))]
    assert made["claims"][0].finding is findings[-2] and made["status"] == "fix" and made["found"] == 1
    assert made["claims"][0].sources[0].href == "https://pubmed.ncbi.nlm.nih.gov/28158962/"
