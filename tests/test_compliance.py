"""Compliance is the spine: required disclaimers on every channel's rendered output, claim rules
with exact positions, acceptances, substantiation, and the report a reviewer signs off."""

from __future__ import annotations

import json
import shutil

import feedparser
import lxml.html
import pytest
import yaml

from conftest import REPO, build, build_errors, cli, make_project, post
from pipeline.compliance.extract import visible_text
from pipeline.slugs import slugify

PUBLISHED = "2026-11-21T09:00"  # when the customer's article goes live: every social post is still ahead
SHIPPED_RULES = yaml.safe_load((REPO / "content/compliance.yaml").read_text("utf-8"))
DISCLAIMERS = {d["id"]: " ".join(d["text"]["en"].split()) for d in SHIPPED_RULES["disclaimers"]}


def shipped_project(tmp_path):
    project = tmp_path / "shipped"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    return project


def page_text(path) -> str:
    return " ".join(lxml.html.fromstring(path.read_bytes()).xpath("//body")[0].text_content().split())


def feed_texts(project, name) -> dict[str, str]:
    parsed = feedparser.parse((project / "output/site" / name).read_bytes())
    assert parsed.bozo == 0
    return {e.link: " ".join(lxml.html.fromstring(e.content[0].value).text_content().split())
            for e in parsed.entries}


def required_for(tags: set[str], text: str) -> set[str]:
    """The shipped rules, restated independently of the checker, for the shipped articles."""
    needed = {"medical"}
    if "dry-needling" in tags or "dry needling" in text.lower():
        needed.add("dry-needling")
    if tags & {"testimonial", "patient-story"} or "patient story" in text.lower():
        needed.add("testimonial")
    return needed


def test_every_required_disclaimer_is_in_every_output_of_every_channel(tmp_path):
    project = shipped_project(tmp_path)
    result = build(project)
    assert result.exit_code == 0, result.stderr
    site = project / "output" / "site"
    rss, atom = feed_texts(project, "feed.xml"), feed_texts(project, "atom.xml")
    articles = sorted((REPO / "content/posts").glob("*.md"))
    assert len(articles) >= 4
    for source in articles:
        front = yaml.safe_load(source.read_text("utf-8").split("---")[1])
        slug = front.get("slug") or slugify(front["title"])
        page = site / slug / "index.html"
        url = f"https://nextlevelpt.example/blog/{slug}/"
        tags = {t.lower().replace(" ", "-") for t in front.get("tags", [])}
        needed = required_for(tags, source.read_text("utf-8"))
        for disclaimer in needed:
            text = DISCLAIMERS[disclaimer]
            assert text in page_text(page), (source.name, "blog", disclaimer)
            assert text in rss[url], (source.name, "rss", disclaimer)
            assert text in atom[url], (source.name, "atom", disclaimer)
    assert DISCLAIMERS["medical"] in page_text(site / "index.html")
    assert DISCLAIMERS["dry-needling"] in page_text(site / "how-dry-needling-works/index.html")


def test_the_shipped_content_has_no_errors_and_only_the_customers_unreviewed_claims_as_warnings(tmp_path):
    project = shipped_project(tmp_path)
    result = cli(project, "check", "--format", "json", "--now", PUBLISHED)
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["errors"] == 0
    assert {f["path"] for f in report["findings"]} == {"content/posts/how-dry-needling-works.md"}
    rules = {f["rule"] for f in report["findings"]}
    assert rules == {"claim-pain-relief", "claim-mobility", "claim-recovery", "claim-endorphins",
                     "claim-blood-flow", "claim-best"}
    strict = cli(project, "check", "--strict", "--now", PUBLISHED)
    assert strict.exit_code == 1
    assert "error[claim-pain-relief]" in strict.stderr


# A phrase each shipped rule must catch, and a near miss it must not.
CATCH_AND_MISS = {
    "claim-cure": ("This stretch cures sciatica.", "Secure, accurate notes; a manicure; curious readers."),
    "claim-guarantee": ("Results guaranteed.", "We guard your privacy."),
    "claim-miracle": ("A miracle for knees.", "Mirabel Street and admirable care."),
    "claim-permanent": ("A permanent fix for back pain.", "Permanent staff and a fixed schedule."),
    "claim-no-side-effects": ("It has no side effects.", "No one side of the effect is studied."),
    "claim-risk-free": ("A risk-free treatment.", "We discuss risk factors freely."),
    "claim-100-percent": ("It works 100% of the time.", "Over 1000 patients treated; 100.5 km walked."),
    "claim-instant": ("Feel instant relief.", "Instantiate the plan; constant practice."),
    "claim-quick-fix": ("A quick fix for knees.", "A quick fixture check."),
    "claim-secret": ("The secret to strong knees.", "Our secretary books visits."),
    "claim-breakthrough": ("A breakthrough therapy.", "We break habits."),
    "claim-clinically-proven": ("A clinically proven method.", "A clinically reviewed method."),
    "claim-all-natural": ("An all-natural approach.", "All of it is naturally paced."),
    "claim-best": ("The best clinic in town.", "Bestow patience; bestseller lists."),
    "claim-number-one": ("Avon's #1 clinic.", "Room #12 and room 1."),
    "claim-only": ("The only treatment you need.", "Not only knees but hips; lonely nights."),
    "claim-proven": ("A proven approach.", "Provenance of the idea."),
    "claim-eliminate": ("It eliminates pain.", "Elimination diets are not our field."),
    "claim-heal": ("Needles heal tissue.", "Health and healthy habits; healing time."),
    "claim-pain-relief": ("It can reduce pain.", "Reduced painting time."),
    "claim-recovery": ("Exercise will speed recovery.", "Recovery speed was not measured."),
    "claim-blood-flow": ("It increases blood flow.", "Blood tests flow through the lab."),
    "claim-endorphins": ("It releases endorphins.", "Endorsed by nobody; dolphins swim."),
    "claim-mobility": ("It will restore mobility.", "Mobility aids are restored to the shelf."),
    "claim-universal": ("It works for everyone.", "Everyone is welcome at the open house."),
    "claim-speed": ("Pain-free within three sessions.", "Book three sessions within a month."),
    "claim-statistic": ("Nine in ten clients say it helped.", "Nine in ten chairs are taken by noon."),
    "claim-regulatory": ("An FDA-approved method.", "The FDA publishes device recalls."),
    "claim-superior-care": ("Safer than surgery.", "Ask your surgeon about surgery."),
}


def test_the_catch_table_covers_every_shipped_rule():
    assert set(CATCH_AND_MISS) == {r["id"] for r in SHIPPED_RULES["rules"]}


@pytest.mark.parametrize("rule", sorted(CATCH_AND_MISS))
def test_each_shipped_rule_catches_its_phrase_and_not_its_near_miss(tmp_path, rule):
    catch, miss = CATCH_AND_MISS[rule]
    project = make_project(tmp_path / "p", {"catch.md": post("Catch", body=catch),
                                            "miss.md": post("Miss", body=miss)})
    result = cli(project, "check", "--format", "json", "--now", "2026-11-24")
    findings = json.loads(result.stdout)["findings"]
    hits = [(f["path"], f["line"]) for f in findings if f["rule"] == rule]
    assert hits == [("content/posts/catch.md", 6)], findings
    assert not [f for f in findings if f["path"].endswith("miss.md") and f["rule"] and f["rule"].startswith("claim-")]


def test_claim_findings_give_exact_position_message_and_suggestion(tmp_path):
    project = make_project(tmp_path / "p", {"back.md": post(
        "Back Pain", body="Line one.\n\nOur program CURES back pain and is Risk-Free.")})
    result = build(project)
    assert result.exit_code == 1
    assert ('content/posts/back.md:8:13: error[claim-cure]: "CURES" is a prohibited health claim; say '
            '"may help relieve"\n    8 | Our program CURES back pain and is Risk-Free.\n      |             ^') in result.stderr
    assert ('content/posts/back.md:8:36: error[claim-risk-free]: "Risk-Free" denies risks the service carries; '
            'say "low-risk when performed by a licensed therapist"') in result.stderr


def test_claims_are_caught_in_title_and_summary_and_through_accents(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post(
        "A Miracle for Knees", summary="Guaranteed relief", body="It is a cúre? No, a cure.")})
    report = json.loads(cli(project, "check", "--format", "json", "--now", "2026-11-24").stdout)
    where = {(f["rule"], f["line"], f["column"]) for f in report["findings"]}
    assert ("claim-miracle", 2, 10) in where
    assert ("claim-guarantee", 4, 10) in where
    assert ("claim-cure", 7, 9) in where and ("claim-cure", 7, 21) in where


def test_links_and_code_are_not_scanned_for_claims(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post(
        "A", body="See [our guide](https://example.org/cure-guide/) and `cure()` and https://x.example/miracle")})
    report = json.loads(cli(project, "check", "--format", "json", "--now", "2026-11-24").stdout)
    assert report["findings"] == []


def test_a_stricter_rule_reports_an_overlapping_phrase_once(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", body="A clinically proven method.")})
    report = json.loads(cli(project, "check", "--format", "json", "--now", "2026-11-24").stdout)
    assert [f["rule"] for f in report["findings"]] == ["claim-clinically-proven"]


def test_json_findings_have_the_documented_shape(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", body="The best miracle.")})
    result = cli(project, "check", "--format", "json", "--now", "2026-11-24")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["warnings"] == 1
    assert report["findings"][0] == {
        "rule": "claim-best", "severity": "warning", "path": "content/posts/a.md", "line": 6, "column": 5,
        "channel": None, "artifact": None, "accepted": None,
        "message": '"best" is a superiority claim that needs comparative evidence; say "works well"'}


def test_accepted_findings_pass_strict_and_still_appear_in_every_report(tmp_path):
    accept = "\n  - rule: claim-best\n    reason: Compares two of our own programs, not other clinics."
    project = make_project(tmp_path / "p", {"a.md": post("A", body="Which plan is best for you?",
                                                         accept=accept)})
    result = cli(project, "build", "--strict", "--now", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    assert ("content/posts/a.md:9:15: accepted warning[claim-best]: \"best\" is a superiority claim that needs "
            "comparative evidence; say \"works well\" (accepted: Compares two of our own programs, not other "
            "clinics.)") in result.stderr
    report = json.loads(cli(project, "check", "--format", "json", "--now", "2026-11-24").stdout)
    assert report["warnings"] == 0
    assert report["findings"][0]["accepted"] == "Compares two of our own programs, not other clinics."
    html = (project / "output/report.html").read_text()
    assert "Accepted: Compares two of our own programs, not other clinics." in html


def test_accepting_an_unknown_rule_or_a_missing_disclaimer_is_an_error(tmp_path):
    accept = "\n  - rule: disclaimer-missing\n    reason: We do not want it."
    errors = build_errors(tmp_path / "p", {"a.md": post("A", accept=accept)})
    assert ("content/posts/a.md:5:11: error[accept-unknown-rule]: accept[0].rule: no claim rule "
            "'disclaimer-missing' exists (see `pipeline rules`); disclaimers cannot be accepted away") in errors


def test_evidence_and_a_reviewer_substantiate_a_claim(tmp_path):
    evidence = ("\n  - citation: 10.2519/jospt.2017.7096\n    title: Gattie 2017 meta-analysis\n"
                "    supports: [claim-pain-relief]")
    body = "Dry needling may reduce pain."
    unreviewed = make_project(tmp_path / "a", {"a.md": post("A", body=body, evidence=evidence)})
    report = json.loads(cli(unreviewed, "check", "--format", "json", "--now", "2026-11-24").stdout)
    assert [f["rule"] for f in report["findings"]] == ["claim-pain-relief"]
    reviewed = make_project(tmp_path / "b", {"a.md": post("A", body=body, evidence=evidence,
                                                          reviewed_by="Sam Ortiz, PT, DPT", reviewed_on="2026-10-01")})
    result = cli(reviewed, "build", "--strict", "--now", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    html = (reviewed / "output/report.html").read_text()
    assert "substantiated, reviewed" in html and "10.2519/jospt.2017.7096" in html


def test_evidence_naming_an_unknown_rule_is_an_error_with_a_hint(tmp_path):
    evidence = "\n  - citation: PMID 28158962\n    title: Gattie 2017\n    supports: [claim-pain-releif]"
    errors = build_errors(tmp_path / "p", {"a.md": post("A", evidence=evidence)})
    assert ("content/posts/a.md:7:16: error[evidence-unknown-rule]: evidence[0].supports: no claim rule "
            "'claim-pain-releif' (did you mean 'claim-pain-relief'?)") in errors


def test_disclaimers_apply_by_tag_or_by_a_mention_in_any_case_or_accent(tmp_path):
    project = make_project(tmp_path / "p", {
        "tagged.md": post("Tagged", tags="[Dry Needling]"),
        "mention.md": post("Mention", body="We offer DRY-NÉEDLING on Tuesdays."),
        "plain.md": post("Plain", body="Needling your sister is not dry humour."),
    })
    assert build(project).exit_code == 0
    site = project / "output/site"
    assert DISCLAIMERS["dry-needling"] in page_text(site / "tagged/index.html")
    assert DISCLAIMERS["dry-needling"] in page_text(site / "mention/index.html")
    assert DISCLAIMERS["dry-needling"] not in page_text(site / "plain/index.html")
    assert DISCLAIMERS["medical"] in page_text(site / "plain/index.html")


def test_a_patient_story_carries_the_testimonial_disclosure(tmp_path):
    project = make_project(tmp_path / "p", {"story.md": post("Maria's Story", tags="[patient story]",
                                                             body='"I hiked again in May," Maria told us.')})
    assert build(project).exit_code == 0
    text = page_text(project / "output/site/marias-story/index.html")
    assert DISCLAIMERS["testimonial"] in text
    assert "generally" in DISCLAIMERS["testimonial"] and "payment" in DISCLAIMERS["testimonial"]


@pytest.mark.parametrize("channel, template, old, artifacts", [
    ("blog", "templates/blog/article.html", "{{ disclaimer.text }}", ["output/site/knee-basics/index.html"]),
    ("feed", "templates/feed/item.html", "{{ disclaimer.text }}",
     ["output/site/feed.xml (item https://clinic.example/blog/knee-basics/)",
      "output/site/atom.xml (entry https://clinic.example/blog/knee-basics/)"]),
])
def test_a_template_that_drops_the_disclaimer_fails_check(project, channel, template, old, artifacts):
    path = project / template
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, "Talk to us."))
    result = cli(project, "check", "--now", "2026-11-24")
    assert result.exit_code == 1
    for artifact in artifacts:
        assert (f"content/posts/knee.md: error[disclaimer-missing]: {channel} {artifact} lacks disclaimer "
                f"'medical'; check templates/{channel}/ still renders the disclaimers") in result.stderr
    report = json.loads(cli(project, "check", "--format", "json", "--now", "2026-11-24").stdout)
    missing = [f for f in report["findings"] if f["rule"] == "disclaimer-missing"]
    assert {f["channel"] for f in missing} == {channel}
    assert {f["artifact"] for f in missing} >= {a.split(" (")[0] for a in artifacts}


@pytest.mark.parametrize("wrapper", [
    "<!-- {} -->", '<p hidden>{}</p>', '<p style="display: none">{}</p>', '<p aria-hidden="true">{}</p>',
    '<p style="font-size:0">{}</p>', "<script>/* {} */</script>", "<template>{}</template>",
])
def test_a_disclaimer_a_reader_cannot_see_does_not_count(project, wrapper):
    path = project / "templates/blog/article.html"
    source = path.read_text()
    marker = '<p class="disclaimer" id="disclaimer-{{ disclaimer.id }}">{{ disclaimer.text }}</p>'
    assert marker in source
    path.write_text(source.replace(marker, wrapper.format("{{ disclaimer.text }}")))
    result = cli(project, "check", "--now", "2026-11-24")
    assert result.exit_code == 1
    assert "error[disclaimer-missing]: blog output/site/knee-basics/index.html lacks disclaimer 'medical'" \
        in result.stderr


def test_visible_text_ignores_what_readers_do_not_see():
    html = ('<html><head><title>T</title><style>p{}</style></head><body><p>Shown</p><!-- hidden -->'
            '<div hidden>no</div><span style="visibility:hidden">no</span><p>and <b>bold</b>.</p></body></html>')
    assert visible_text(html) == "Shown and bold."


def test_an_email_html_and_the_same_html_as_its_message_part_are_read_once_each_time_they_repeat():
    """The page read once serves both units: they hold the very text and links it gave (a second
    reading would make new ones). Another document in between means reading it again."""
    from email.message import EmailMessage
    from email.policy import SMTP

    from pipeline.compliance import extract
    from pipeline.model import Artifact
    page = '<html><body><p>Shown <a href="https://a.example/">link</a></p><p hidden>no</p></body></html>\n'
    message = EmailMessage()
    message.set_content("Shown", subtype="plain")
    message.add_alternative(page, subtype="html", cte="quoted-printable")
    email = Artifact("newsletter/x/email.html", page.encode(), "newsletter", "text/html", ("x",))
    eml = Artifact("newsletter/x/message.eml", message.as_bytes(policy=SMTP), "newsletter", "message/rfc822",
                   ("x",))   # as sent: CRLF
    html_part = [u for u in extract.units(email) + extract.units(eml) if u.label in ("page", "html part")]
    assert [(u.text, u.links) for u in html_part] == [("Shown link", ("https://a.example/",))] * 2
    assert html_part[0].text is html_part[1].text and html_part[0].links is html_part[1].links   # read once
    first = extract.visible(page)
    assert first[0] is html_part[0].text   # the same document again: not read again
    assert extract.visible("<p>Other</p>") == ("Other", ())
    again = extract.visible(page.encode())
    assert again == ("Shown link", ("https://a.example/",)) and again[0] is not first[0]   # read again


def test_listing_pages_carry_the_sitewide_disclaimer(project):
    base = project / "templates/blog/base.html"
    base.write_text(base.read_text().replace("{{ disclaimer.text }}", "", 1))
    result = cli(project, "check", "--now", "2026-11-24")
    assert result.exit_code == 1
    assert ("output/site/index.html: error[disclaimer-missing]: blog output/site/index.html lacks disclaimer "
            "'medical'") in result.stderr


def test_rules_lists_disclaimers_and_rules_in_force(project):
    data = json.loads(cli(project, "rules", "--format", "json").stdout)
    medical = next(d for d in data["disclaimers"] if d["id"] == "medical")
    assert set(medical) >= {"id", "text", "short", "channels", "when"}
    assert medical["when"] == "always" and medical["channels"] == ["blog", "feed", "newsletter", "social"]
    dry = next(d for d in data["disclaimers"] if d["id"] == "dry-needling")
    assert "dry-needling" in dry["when"]["tags"]
    assert dry["texts"]["es"].startswith("En Next Level PT, la punción seca")
    cure = next(r for r in data["rules"] if r["id"] == "claim-cure")
    assert {"id", "level", "message"} <= set(cure) and cure["level"] == "error"
    text = cli(project, "rules").stdout
    assert "  medical  [blog, feed, newsletter, social]  on every article" in text
    assert "  error   claim-cure: blocks publishing" in text
    assert '      catches (en): "cure", "cure-all" (and their other forms)' in text
    assert "better/superior/safer/faster/stronger/effective/successful/powerful than … [surgery, operation, " \
           "cortisone, …]" in text


def test_compliance_rules_are_validated_with_positions(tmp_path):
    rules = ("disclaimers:\n  - id: medical\n    text: Not advice.\n"
             "    short: This short form is far too long to fit inside a social post disclaimer slot\n"
             "    channels: [blog]\n    when: sometimes\nrules:\n  - id: Claim Cure\n    level: fatal\n"
             "    phrases: [cure]\n    message: no\n")
    project = make_project(tmp_path / "p", compliance=rules)
    result = cli(project, "rules")
    assert result.exit_code == 1
    err = result.stderr
    assert "content/compliance.yaml:4:12: error: disclaimers[0].short: is 75 characters long; the limit is 60" in err
    assert ("content/compliance.yaml:6:11: error: disclaimers[0].when: expected `always`, or a mapping with "
            "kinds:, tags: and/or mentions:, got 'sometimes'") in err
    assert "content/compliance.yaml:8:9: error: rules[0].id: 'Claim Cure' is not valid" in err
    assert "content/compliance.yaml:9:12: error: rules[0].level: expected one of error, warning, got 'fatal'" in err


@pytest.mark.slow
def test_the_report_is_valid_html_and_lists_each_channel(tmp_path):
    project = shipped_project(tmp_path)
    assert build(project).exit_code == 0
    html = (project / "output/report.html").read_text()
    doc = lxml.html.fromstring(html)
    section = next(s for s in doc.xpath("//section[@class='article']")
                   if "How Dry Needling Works" in s.findtext("h2"))
    rows = [" ".join(cell.text_content().strip() for cell in r) for r in section.xpath(".//table[1]//tr")[1:]]
    assert "blog site/how-dry-needling-works/index.html page dry-needling found" in rows
    assert any(r.startswith("feed site/atom.xml entry") and r.endswith("medical found") for r in rows)
    assert "evidence cited, awaiting clinician review" in html
    from test_html_valid import validate
    folder = tmp_path / "report-only"
    folder.mkdir()
    shutil.copy(project / "output/report.html", folder / "report.html")
    validate(folder)


def test_fold_is_the_same_fast_or_slow_for_every_character():
    """fold() translates only non-ASCII runs and lowercases the rest: it must equal translating
    every character with the fold table, for every code point and beside ASCII."""
    from pipeline.compliance.matching import _FOLD, fold
    every = "A".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF) + "Z\u0130"
    assert fold(every) == every.translate(_FOLD)
    assert len(fold(every)) == len(every)
