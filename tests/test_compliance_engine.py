"""The compliance engine through the command line: every shipped field checked at its line,
negation in both directions, languages, patient stories, and rules that staff write as data."""

from __future__ import annotations

import json

import yaml

from conftest import REPO, build, cli, make_project, post

NOW = "2026-11-24"
SHIPPED = (REPO / "content" / "compliance.yaml").read_text("utf-8")


def findings(project):
    return json.loads(cli(project, "check", "--format", "json", "--now", NOW).stdout)["findings"]


def where(items, rule=None):
    return sorted((f["rule"], f["line"], f["column"]) for f in items if rule is None or f["rule"] == rule)


def test_a_claim_in_any_shipped_field_is_reported_at_that_fields_line_and_column(tmp_path):
    source = post("Hips", body="Plain advice about hips.", image="https://example.org/a.jpg",
                  image_alt="A brace that cures hip pain",
                  newsletter="\n  subject: Guaranteed relief\n  preheader: Plain words",
                  social="\n  x: >-\n    Strong hips for skiers,\n    forever.")
    project = make_project(tmp_path / "p", {"a.md": source})
    found = findings(project)
    assert ("claim-cure", 5, 25) in where(found)          # image_alt: "cures"
    assert ("claim-guarantee", 7, 12) in where(found)     # newsletter.subject
    assert ("claim-permanent", 12, 5) in where(found)     # the social text's second line
    assert not [f for f in found if f["rule"] and f["rule"].startswith("claim") and f["line"] == 8]


def test_negated_and_disclaiming_sentences_pass_and_a_not_only_claim_is_caught(tmp_path):
    body = ("We can't promise a cure.\n\nNo therapy is without risk.\n\nBeware of any clinic that promises a "
            "miracle.\n\nQuick fixes are a myth.\n\nIt not only loosens the neck but cures it.\n\n"
            "There are no side effects.")
    project = make_project(tmp_path / "p", {"a.md": post("Neck", body=body)})
    assert where(findings(project), None) == [("claim-cure", 14, 34), ("claim-no-side-effects", 16, 11)]


def test_words_in_a_harmless_sense_pass(tmp_path):
    body = ("Grab some instant coffee. Guaranteed parking for every appointment. 100% of the proceeds go to "
            "the food bank.\n\nOur book club is reading *The Miracle Morning*.")
    project = make_project(tmp_path / "p", {"a.md": post("Lobby", body=body)})
    assert where(findings(project)) == []


def test_a_claim_wrapped_over_two_lines_or_broken_by_soft_hyphens_is_found_at_its_first_word(tmp_path):
    body = "Our class can\ncure an unstable ankle.\n\nA break\u00adthrough for knees, and it is risk\u2011free."
    project = make_project(tmp_path / "p", {"a.md": post("Ankles", body=body)})
    assert where(findings(project)) == [("claim-breakthrough", 9, 3), ("claim-cure", 7, 1),
                                        ("claim-risk-free", 9, 38)]


def test_a_spanish_article_is_checked_with_spanish_rules_and_carries_spanish_disclaimers(tmp_path):
    body = "La punción seca cura la ciática. No podemos prometer resultados."
    project = make_project(tmp_path / "p", {"a.md": post("Punción seca", body=body, lang="es"),
                                            "b.md": post("Knees", body="Plain advice.")})
    assert where(findings(project)) == [("claim-cure", 7, 17)]
    rules = yaml.safe_load(SHIPPED)
    rules["rules"] = []
    quiet = make_project(tmp_path / "q", {"a.md": post("Punción seca", body=body, lang="es")},
                         compliance=yaml.safe_dump(rules, allow_unicode=True))
    assert build(quiet, "--now", NOW).exit_code == 0
    page = " ".join((quiet / "output/site/puncion-seca/index.html").read_text("utf-8").split())
    assert "En Next Level PT, la punción seca la realizan fisioterapeutas" in page
    assert "Este artículo es de carácter educativo y no constituye consejo médico." in page
    assert "This article is for general education" not in page
    posts = json.loads((quiet / "output/social/puncion-seca.json").read_text("utf-8"))["posts"]
    assert all("Solo educativo, no es consejo médico." in p["text"] for p in posts.values())
    # A reader's tools (screen readers, translation, search) are told the page's language.
    assert '<html lang="es">' in page and '<meta property="og:locale" content="es">' in page
    email = " ".join((quiet / "output/newsletter/puncion-seca/email.html").read_text("utf-8").split())
    assert '<html lang="es">' in email and "Este artículo es de carácter educativo" in email
    assert "This article is for general education" not in email
    feed = " ".join((quiet / "output/site/feed.xml").read_text("utf-8").split())
    assert "Este artículo es de carácter educativo" in feed


def test_an_article_in_a_language_without_disclaimer_text_is_an_error_naming_what_is_missing(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("Genou", body="Conseils.", lang="fr")})
    result = build(project, "--now", NOW)
    assert result.exit_code == 1
    assert ("content/posts/a.md:4:7: error[disclaimer-language]: disclaimer 'medical' applies to this article but "
            "has no text in its language 'fr' (it has en, es); add `fr:` to its `text:` and `short:` in "
            "content/compliance.yaml") in result.stderr


def test_an_undeclared_patient_story_is_asked_to_declare_itself_and_carries_the_disclosure(tmp_path):
    story = post("Back on the Trail", body="When Maria first came to us she could not walk far.\n\n"
                 "\"I hike every weekend now,\" says Maria.")
    declared = post("Back on Court", body="\"I serve again,\" says Dan.", kind="patient-story")
    staff = post("Meet Jordan", body="\"I love this work,\" says Jordan, our newest physical therapist.")
    project = make_project(tmp_path / "p", {"story.md": story, "declared.md": declared, "staff.md": staff})
    found = findings(project)
    assert where(found, "patient-story-undeclared") == [("patient-story-undeclared", 6, 1)]
    assert [f["path"] for f in found if f["rule"] == "patient-story-undeclared"] == ["content/posts/story.md"]
    assert "declare it with `kind: patient-story`" in next(f["message"] for f in found if f["rule"])
    assert build(project, "--now", NOW).exit_code == 0
    for slug, carries in (("back-on-the-trail", True), ("back-on-court", True), ("meet-jordan", False)):
        page = (project / f"output/site/{slug}/index.html").read_text("utf-8")
        assert ('id="disclaimer-testimonial"' in page) == carries, slug


def test_staff_add_a_pattern_rule_and_a_sense_exception_without_code(tmp_path):
    rules = yaml.safe_load(SHIPPED)
    rules["rules"].append({"id": "claim-detox", "level": "error", "message": '"{match}" is a detox claim',
                           "patterns": {"en": ["flush|remove ... toxin"]},
                           "except": {"en": ["toxin from the|your? lawn|garden"]}})
    body = "Massage flushes out toxins.\n\nWe remove toxins from the garden shed."
    project = make_project(tmp_path / "p", {"a.md": post("Detox", body=body)},
                           compliance=yaml.safe_dump(rules, allow_unicode=True))
    assert where(findings(project), "claim-detox") == [("claim-detox", 6, 9)]
    listed = cli(project, "rules").stdout
    assert "claim-detox: blocks publishing" in listed and "also (en): flush/remove \u2026 toxin" in listed


def test_a_broken_pattern_and_a_bad_lang_are_reported_at_their_lines(tmp_path):
    rules = yaml.safe_load(SHIPPED)
    rules["rules"][0]["patterns"] = {"en": ["cure ... {remedy}"]}
    project = make_project(tmp_path / "p", {"a.md": post("A", lang="english", kind="story")},
                           compliance=yaml.safe_dump(rules, allow_unicode=True, width=1000))
    result = cli(project, "rules")
    assert result.exit_code == 1
    assert "pattern 'cure ... {remedy}' uses slot {remedy}, which `slots:` does not define" in result.stderr
    assert "content/compliance.yaml:" in result.stderr
    fixed = make_project(tmp_path / "q", {"a.md": post("A", lang="english", kind="story")})
    errors = build(fixed, "--now", NOW).stderr
    assert "content/posts/a.md:4:7: error: lang: 'english' is not valid (use a language tag like es or es-MX)" in errors
    assert "content/posts/a.md:5:7: error: kind: expected one of article, patient-story, got 'story'" in errors
