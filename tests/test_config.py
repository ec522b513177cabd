"""content/site.yaml is validated against its declared schema, with positions and hints."""

from __future__ import annotations

from conftest import SITE_YAML, build, make_project


def config_errors(tmp_path, site: str) -> str:
    project = make_project(tmp_path / "p", site=site)
    result = build(project)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def test_unknown_key_gets_a_did_you_mean(tmp_path):
    errors = config_errors(tmp_path, SITE_YAML + "feed_item: 5\n")
    assert "content/site.yaml:14:1: error: unknown key 'feed_item' (did you mean 'feed_items'?)" in errors


def test_unknown_nested_key_is_named_with_its_parent(tmp_path):
    errors = config_errors(tmp_path, SITE_YAML.replace("  name: Test Clinic\n", "  nmae: Test Clinic\n"))
    assert "content/site.yaml:8:3: error: unknown key 'organization.nmae' (did you mean 'name'?)" in errors
    assert ("content/site.yaml:8:3: error: missing required field 'organization.name' in organization; "
            "add a line like `name: Next Level PT`") in errors


def test_bad_values_are_reported_together(tmp_path):
    site = (SITE_YAML.replace("America/New_York", "Mars/Olympus").replace("https://clinic.example/blog/", "clinic")
            .replace("https://clinic.example/unsubscribe", "http://clinic.example/u"))
    errors = config_errors(tmp_path, site)
    assert ("content/site.yaml:1:11: error: base_url: expected an absolute URL like https://clinic.example/, "
            "got 'clinic'") in errors
    assert ("content/site.yaml:5:11: error: timezone: unknown timezone 'Mars/Olympus'; use an IANA name like "
            "America/New_York") in errors
    assert ("content/site.yaml:13:20: error: newsletter.unsubscribe_url: expected an https:// URL or an "
            "email-service merge tag such as *|UNSUB|*, got 'http://clinic.example/u'") in errors


def test_posts_per_page_must_be_a_whole_number(tmp_path):
    errors = config_errors(tmp_path, SITE_YAML + "posts_per_page: ten\n")
    assert "content/site.yaml:14:17: error: posts_per_page: expected a whole number, got 'ten'" in errors


def test_compliance_file_errors_are_reported_with_config_errors(tmp_path):
    project = make_project(tmp_path / "p", site=SITE_YAML + "colour: red\n",
                           compliance="disclaimers:\n  - id: medical\n    text: x\n    short: y\n"
                                      "    channels: [blog, fax]\n    when: always\n")
    result = build(project)
    assert result.exit_code == 1
    assert "content/site.yaml:14:1: error: unknown key 'colour'" in result.stderr
    assert ("content/compliance.yaml:5:22: error: disclaimers[0].channels[1]: expected one of blog, feed, "
            "newsletter, social, got 'fax'") in result.stderr


def test_merge_tags_are_accepted_for_unsubscribe(tmp_path):
    project = make_project(tmp_path / "p", site=SITE_YAML.replace("https://clinic.example/unsubscribe",
                                                                  "'*|UNSUB|*'"))
    assert build(project).exit_code == 0
