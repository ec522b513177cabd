"""Compliance rules as data: content/compliance.yaml -> Rules (disclaimers and claim rules).

Staff edit the YAML, never code. Validated like site.yaml: every problem at file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.compliance.matching import find_phrases
from pipeline.schema import Field, Invalid, Kind, ListOf, Schema, Validator, load_settings, matching, one_of, text
from pipeline.yamldoc import YamlDoc

RULES_FILE = "content/compliance.yaml"
CHANNELS = ("blog", "feed", "newsletter", "social")
SHORT_LIMIT = 60


@dataclass(frozen=True)
class Disclaimer:
    id: str
    text: str
    short: str
    channels: tuple[str, ...]
    always: bool
    tags: tuple[str, ...] = ()       # tag slugs
    mentions: tuple[str, ...] = ()   # phrases

    @property
    def when(self) -> str | dict:
        if self.always:
            return "always"
        when: dict = {}
        if self.tags:
            when["tags"] = list(self.tags)
        if self.mentions:
            when["mentions"] = list(self.mentions)
        return when

    def applies_to(self, article) -> bool:
        """Does this disclaimer apply to `article` (a pipeline.model.Article)?"""
        if self.always:
            return True
        if self.tags and {t.slug for t in article.tags} & set(self.tags):
            return True
        if self.mentions:
            for text_ in (article.title, article.summary, article.text):
                if next(find_phrases(self.mentions, text_), None):
                    return True
        return False


@dataclass(frozen=True)
class ClaimRule:
    """A phrase rule in the spirit of Vale's `existence` rules. `substantiate` rules are health-benefit
    claims: their findings clear when the article cites evidence for the rule and names a reviewer."""

    id: str
    level: str
    phrases: tuple[str, ...]
    message: str
    suggest: str = ""
    substantiate: bool = False


@dataclass(frozen=True)
class Rules:
    disclaimers: tuple[Disclaimer, ...]
    claims: tuple[ClaimRule, ...]
    doc: YamlDoc | None = None
    _applying: dict = field(default_factory=dict, compare=False, repr=False)  # article slug -> disclaimers

    def disclaimers_for(self, article, channel: str) -> tuple[Disclaimer, ...]:
        key = (article.slug, article.source)
        applying = self._applying.get(key)
        if applying is None:
            applying = self._applying[key] = tuple(d for d in self.disclaimers if d.applies_to(article))
        return tuple(d for d in applying if channel in d.channels)

    def remember(self, article, ids: tuple[str, ...]) -> None:
        """The disclaimers that apply to `article`, as found when it was converted (an article
        loaded without its body cannot be searched for mentions again)."""
        self._applying[(article.slug, article.source)] = tuple(d for d in self.disclaimers if d.id in ids)

    def sitewide(self, channel: str) -> tuple[Disclaimer, ...]:
        """Disclaimers that apply always, on every page of `channel`."""
        return tuple(d for d in self.disclaimers if channel in d.channels and d.always)

    def rule_ids(self) -> set[str]:
        return {r.id for r in self.claims}


def _slug_list(value) -> list[str]:
    from pipeline.slugs import slugify
    if not isinstance(value, list):
        value = [value]
    out = []
    for item in value:
        slug = slugify(text(60).check(item))
        if not slug:
            raise Invalid(f"tag {item!r} has no letters or digits")
        out.append(slug)
    return out


def _channel(value) -> str:
    return one_of(*CHANNELS).check(value)


WHEN = Schema((
    Field("tags", Kind("a list of tags", _slug_list), "Applies when the article has any of these tags."),
    Field("mentions", ListOf(text(100), lenient=True), "Applies when the article's text mentions any of these "
          "phrases (whole words, case- and accent-insensitive)."),
), name="a condition (tags and/or mentions), or the word always")

RULE_ID = matching(r"[a-z0-9]+(-[a-z0-9]+)*", " (use kebab-case such as claim-cure)")

DISCLAIMER = Schema((
    Field("id", RULE_ID, "Stable id, e.g. medical.", required=True, example="id: medical"),
    Field("text", text(2000), "The full disclaimer, as readers see it.", required=True, example="text: ..."),
    Field("short", text(SHORT_LIMIT), f"At most {SHORT_LIMIT} characters, for social posts.", required=True,
          example="short: Educational only, not medical advice."),
    Field("channels", ListOf(Kind("a channel", _channel)), "Which channels must carry it: " + ", ".join(CHANNELS),
          required=True, example="channels: [blog, feed, newsletter, social]"),
    Field("when", Kind("always or a condition", lambda v: _when_shape(v)), "always, or {tags: [...], mentions: [...]}", required=True, example="when: always"),
), name="a disclaimer (id, text, short, channels, when)")

CLAIM = Schema((
    Field("id", RULE_ID, "Stable id, shown in findings as error[id].", required=True, example="id: claim-cure"),
    Field("level", one_of("error", "warning"), "error fails the build; warning is reported.", required=True,
          example="level: error"),
    Field("phrases", ListOf(text(100), lenient=True), "Words or phrases to catch (whole words).", required=True,
          example="phrases: [cure, cures, cured]"),
    Field("message", text(300), "What is wrong; '{match}' is replaced by the words found.", required=True,
          example="message: '\"{match}\" is a prohibited health claim'"),
    Field("suggest", text(200), "What to write instead.", default=""),
    Field("substantiate", Kind("true or false", lambda v: _bool(v)), "A health-benefit claim: cleared by "
          "evidence that supports this rule plus a reviewer.", default=False),
), name="a claim rule (id, level, phrases, message)")

RULES = Schema((
    Field("disclaimers", ListOf(DISCLAIMER), "Disclaimers the pipeline places and verifies.", default=[]),
    Field("rules", ListOf(CLAIM), "Claim rules checked on every article.", default=[]),
), name="the compliance rules")


def _when_shape(value):
    if value == "always" or isinstance(value, dict):
        return value
    raise Invalid("expected `always`, or a mapping with tags: and/or mentions:, got %r" % (value,))


def _bool(value) -> bool:
    if not isinstance(value, bool):
        raise Invalid("expected true or false")
    return value


def load_rules(root: Path) -> Rules:
    """Read and validate content/compliance.yaml; raise PipelineError with every problem."""
    clean, validator = load_settings(root, RULES_FILE, RULES, "the compliance rules file is missing; every site "
                                     "needs at least the medical disclaimer (see README, Compliance)")
    doc, findings = validator.doc, validator.findings
    disclaimers = []
    for index, item in enumerate(clean["disclaimers"]):
        keys = ("disclaimers", index, "when")
        when = doc.data["disclaimers"][index].get("when")
        if when == "always":
            disclaimers.append(Disclaimer(item["id"], item["text"], item["short"], tuple(item["channels"]), True))
            continue
        cond = validator.value(WHEN, when, keys)
        if not isinstance(cond, dict):
            continue
        if not cond["tags"] and not cond["mentions"]:
            validator.fail(keys, "disclaimers[%d].when: give `always`, or `tags:` and/or `mentions:`" % index)
            continue
        disclaimers.append(Disclaimer(item["id"], item["text"], item["short"], tuple(item["channels"]), False,
                                      tuple(cond["tags"] or ()), tuple(cond["mentions"] or ())))
    claims = tuple(ClaimRule(r["id"], r["level"], tuple(r["phrases"]), r["message"], r["suggest"],
                             r["substantiate"]) for r in clean["rules"])
    _check_unique(doc, validator, "disclaimers", [d["id"] for d in clean["disclaimers"]])
    _check_unique(doc, validator, "rules", [r.id for r in claims])
    findings.raise_if_errors()
    return Rules(tuple(disclaimers), claims, doc)


def _check_unique(doc: YamlDoc, validator: Validator, section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, id_ in enumerate(ids):
        if id_ in seen:
            validator.fail((section, index, "id"), f"{section}[{index}].id: '{id_}' is used twice; ids must be unique")
        seen.add(id_)
