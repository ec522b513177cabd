"""Compliance rules as data: content/compliance.yaml -> Rules (disclaimers and claim rules).

Staff edit the YAML, never code. Validated like site.yaml: every problem at file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import re
from pathlib import Path

from pipeline.compliance.engine import Engine
from pipeline.compliance.normalise import primary
from pipeline.compliance.patterns import PatternError
from pipeline.schema import Field, Invalid, Kind, ListOf, Schema, Validator, load_settings, matching, one_of, text
from pipeline.yamldoc import YamlDoc

RULES_FILE = "content/compliance.yaml"
CHANNELS = ("blog", "feed", "newsletter", "social")
SHORT_LIMIT = 60
from pipeline.model import ARTICLE_KINDS as KINDS   # front matter `kind:`


ANY = "*"   # a text or list given without languages: the site's language (lists: every language)


def _pick(values: tuple, lang: str, default: str):
    """The value of `values` ((language, value) pairs) for primary language `lang`, or None."""
    mapping = dict(values)
    if lang in mapping:
        return mapping[lang]
    if ANY in mapping and lang == default:
        return mapping[ANY]
    return None


@dataclass(frozen=True)
class Disclaimer:
    """A disclaimer with its texts per language; `text`, `short` and `lang` are the ones in force
    (see in_language)."""

    id: str
    text: str
    short: str
    channels: tuple[str, ...]
    always: bool
    tags: tuple[str, ...] = ()       # tag slugs
    mentions: tuple[str, ...] = ()   # phrases and patterns, every language's (as listings show them)
    kinds: tuple[str, ...] = ()      # article kinds (kind: patient-story)
    mentioned: tuple = ()            # (language, phrases) pairs: what the engine matches
    texts: tuple = ()                # (language, text) pairs
    shorts: tuple = ()               # (language, short) pairs
    lang: str = ""

    @property
    def when(self) -> str | dict:
        if self.always:
            return "always"
        when: dict = {}
        if self.kinds:
            when["kinds"] = list(self.kinds)
        if self.tags:
            when["tags"] = list(self.tags)
        for lang, phrases in self.mentioned:
            when["mentions" if lang == ANY else f"mentions ({lang})"] = list(phrases)
        return when

    def languages(self) -> list[str]:
        return [lang for lang, _ in self.texts]

    def in_language(self, lang: str, default: str) -> Disclaimer | None:
        """This disclaimer in primary language `lang`; None when it has no text in it."""
        text_, short = _pick(self.texts, lang, default), _pick(self.shorts, lang, default)
        if text_ is None or short is None:
            return None
        return replace(self, text=text_, short=short, lang=lang)


@dataclass(frozen=True)
class ClaimRule:
    """A claim rule: phrases and token patterns per language (see patterns.py), exceptions that
    make a match harmless. `substantiate` rules are health-benefit claims: their findings clear
    when the article cites evidence for the rule and names a reviewer."""

    id: str
    level: str
    phrases: tuple                   # (language, phrases) pairs
    message: str
    suggest: str = ""
    substantiate: bool = False
    patterns: tuple = ()             # (language, patterns) pairs
    exceptions: tuple = ()           # (language, patterns) pairs


@dataclass(frozen=True)
class Rules:
    disclaimers: tuple[Disclaimer, ...]
    claims: tuple[ClaimRule, ...]
    doc: YamlDoc | None = None
    languages: tuple = ()            # (language, its data: slots, negation, works, staff, story)
    language: str = "en"             # the site's primary language
    _applying: dict = field(default_factory=dict, compare=False, repr=False)  # article slug -> disclaimers
    _engine: list = field(default_factory=list, compare=False, repr=False)

    def for_site(self, language_tag: str) -> Rules:
        return replace(self, language=primary(language_tag), _applying={}, _engine=[])

    @property
    def engine(self) -> Engine:
        if not self._engine:
            self._engine.append(Engine(self._language_data(), self.language))
        return self._engine[0]

    def _language_data(self) -> dict:
        data = {lang: dict(values) for lang, values in self.languages}
        data.setdefault(self.language, {})
        for lang, values in data.items():
            values["rules"] = [(r.id, _pick_all(r.phrases, lang) + _pick_all(r.patterns, lang),
                                _pick_all(r.exceptions, lang)) for r in self.claims]
            values["mentions"] = [(d.id, _pick_all(d.mentioned, lang)) for d in self.disclaimers if d.mentioned]
        return data

    def lang(self, article) -> str:
        return primary(getattr(article, "lang", "") or self.language)

    def applies(self, disclaimer: Disclaimer, article) -> bool:
        """Does `disclaimer` apply to `article` (a pipeline.model.Article, read whole)?"""
        if disclaimer.always:
            return True
        if disclaimer.kinds and (article.kind in disclaimer.kinds or (
                KINDS[1] in disclaimer.kinds and self.engine.story(article) is not None)):
            return True   # a patient story carries its disclosure, declared or not
        if disclaimer.tags and {t.slug for t in article.tags} & set(disclaimer.tags):
            return True
        return bool(disclaimer.mentioned) and self.engine.mentions(article, disclaimer.id)

    def applying(self, article) -> tuple[str, ...]:
        return tuple(d.id for d in self.disclaimers if self.applies(d, article))

    def disclaimers_for(self, article, channel: str) -> tuple[Disclaimer, ...]:
        """The disclaimers `article` carries on `channel`, in its language (in the site's
        language when one has no text in it: check_source reports that as an error)."""
        key = (article.slug, article.source)
        applying = self._applying.get(key)
        if applying is None:
            applying = self._applying[key] = tuple(d for d in self.disclaimers if self.applies(d, article))
        lang = self.lang(article)
        return tuple(d.in_language(lang, self.language) or d.in_language(self.language, self.language)
                     or d for d in applying if channel in d.channels)

    def untranslated(self, article) -> list[Disclaimer]:
        """Disclaimers that apply to `article` but have no text in its language."""
        lang = self.lang(article)
        key = (article.slug, article.source)
        applying = self._applying.get(key) or tuple(d for d in self.disclaimers if self.applies(d, article))
        return [d for d in applying if d.in_language(lang, self.language) is None]

    def remember(self, article, ids: tuple[str, ...]) -> None:
        """The disclaimers that apply to `article`, as found when it was converted (an article
        loaded without its body cannot be searched for mentions again)."""
        self._applying[(article.slug, article.source)] = tuple(d for d in self.disclaimers if d.id in ids)

    def sitewide(self, channel: str) -> tuple[Disclaimer, ...]:
        """Disclaimers that apply always, on every page of `channel`, in the site's language."""
        return tuple(d.in_language(self.language, self.language) or d for d in self.disclaimers
                     if channel in d.channels and d.always)

    def rule_ids(self) -> set[str]:
        return {r.id for r in self.claims}


def _pick_all(values: tuple, lang: str) -> tuple:
    """Phrases or patterns of `values` for `lang`: its own plus those given for every language."""
    mapping = dict(values)
    return tuple(mapping.get(ANY, ())) + tuple(mapping.get(lang, ()))


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


LANG_CODE = re.compile(r"[a-z]{2,3}")


def _phrases(value, limit: int = 400) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Invalid("expected a list of phrases")
    return tuple(text(limit).check(item) for item in value)


def _per_language(check, what: str) -> Kind:
    """`check`ed value, or {language: value, ...}: (language, value) pairs (ANY without languages)."""
    def per_language(value):
        if not isinstance(value, dict):
            return ((ANY, check(value)),)
        out = []
        for lang, item in value.items():
            if not isinstance(lang, str) or not LANG_CODE.fullmatch(lang):
                raise Invalid(f"{lang!r} is not a language; use a two-letter code such as en or es")
            try:
                out.append((lang, check(item)))
            except Invalid as exc:
                raise Invalid(f"{lang}: {exc}") from None
        return tuple(out)
    return Kind(what, per_language)


LANGUAGE_KEYS = {"slots": "named phrase lists for patterns: {care: [surgery, ...]}",
                 "before": "negation words and phrases before a claim (no, not, never, without)",
                 "after": "negation phrases right after a claim (is a myth, does not exist)",
                 "pseudo": "phrases with a negation word that do not negate (not only, no doubt)",
                 "stop": "words that end a negation's reach (but, however)",
                 "narrow": "negations whose reach also ends at a comma (no, without)",
                 "works": "kinds of works whose titles may hold claim words (book, film)",
                 "staff": "words that mark a quote as staff's, not a patient's (therapist, Dr)",
                 "story": "patterns that show an article tells a patient's story"}


def _languages(value) -> tuple:
    if not isinstance(value, dict):
        raise Invalid("expected languages, e.g. {en: {before: [no, not]}, es: {...}}")
    out = []
    for lang, data in value.items():
        if not isinstance(lang, str) or not LANG_CODE.fullmatch(lang):
            raise Invalid(f"{lang!r} is not a language; use a two-letter code such as en or es")
        if not isinstance(data, dict):
            raise Invalid(f"{lang}: expected a mapping with any of " + ", ".join(LANGUAGE_KEYS))
        clean: dict = {}
        for key, item in data.items():
            if key not in LANGUAGE_KEYS:
                raise Invalid(f"{lang}.{key}: unknown; expected any of " + ", ".join(LANGUAGE_KEYS))
            try:
                if key == "slots":
                    if not isinstance(item, dict):
                        raise Invalid("expected {slot name: [phrases]}")
                    clean[key] = {str(name): _phrases(p) for name, p in item.items()}
                else:
                    clean[key] = _phrases(item)
            except Invalid as exc:
                raise Invalid(f"{lang}.{key}: {exc}") from None
        out.append((lang, tuple(clean.items())))
    return tuple(out)


PHRASES = _per_language(_phrases, "phrases, or {language: phrases}")

WHEN = Schema((
    Field("kinds", ListOf(one_of(*KINDS), lenient=True), "Applies to articles of these kinds "
          "(front matter `kind:`), e.g. [patient-story]."),
    Field("tags", Kind("a list of tags", _slug_list), "Applies when the article has any of these tags."),
    Field("mentions", PHRASES, "Applies when the article's text (in its language) mentions any of these "
          "phrases or patterns: a list, or one per language: {en: [...], es: [...]}."),
), name="a condition (kinds, tags and/or mentions), or the word always")

RULE_ID = matching(r"[a-z0-9]+(-[a-z0-9]+)*", " (use kebab-case such as claim-cure)")

DISCLAIMER = Schema((
    Field("id", RULE_ID, "Stable id, e.g. medical.", required=True, example="id: medical"),
    Field("text", _per_language(text(2000).check, "text, or {language: text}"), "The full disclaimer, as "
          "readers see it; one per language: {en: ..., es: ...}.", required=True, example="text: {en: ..., es: ...}"),
    Field("short", _per_language(text(SHORT_LIMIT).check, "text, or {language: text}"), f"At most {SHORT_LIMIT} "
          "characters, for social posts; one per language.", required=True,
          example="short: {en: Educational only, not medical advice.}"),
    Field("channels", ListOf(Kind("a channel", _channel)), "Which channels must carry it: " + ", ".join(CHANNELS),
          required=True, example="channels: [blog, feed, newsletter, social]"),
    Field("when", Kind("always or a condition", lambda v: _when_shape(v)), "always, or {kinds: [...], "
          "tags: [...], mentions: [...]}", required=True, example="when: always"),
), name="a disclaimer (id, text, short, channels, when)")

CLAIM = Schema((
    Field("id", RULE_ID, "Stable id, shown in findings as error[id].", required=True, example="id: claim-cure"),
    Field("level", one_of("error", "warning"), "error fails the build; warning is reported.", required=True,
          example="level: error"),
    Field("phrases", PHRASES, "Words or phrases to catch, in base form (cure also catches cured, curing); "
          "a list, or one per language.", default=()),
    Field("patterns", PHRASES, "Token patterns (see docs/compliance.md): <num>, <pct>, {slot}, a|b, word?, ...",
          default=()),
    Field("except", PHRASES, "Patterns that make a match harmless when they occur within three words of it "
          "(instant coffee, 10% of donations).", default=()),
    Field("message", text(300), "What is wrong; '{match}' is replaced by the words found.", required=True,
          example="message: '\"{match}\" is a prohibited health claim'"),
    Field("suggest", text(200), "What to write instead.", default=""),
    Field("substantiate", Kind("true or false", lambda v: _bool(v)), "A health-benefit claim: cleared by "
          "evidence that supports this rule plus a reviewer.", default=False),
), name="a claim rule (id, level, phrases or patterns, message)")

RULES = Schema((
    Field("languages", Kind("languages", _languages), "Per language: slots, negation, works, staff, story.",
          default=()),
    Field("disclaimers", ListOf(DISCLAIMER), "Disclaimers the pipeline places and verifies.", default=[]),
    Field("rules", ListOf(CLAIM), "Claim rules checked on every article.", default=[]),
), name="the compliance rules")


def _when_shape(value):
    if value == "always" or isinstance(value, dict):
        return value
    raise Invalid("expected `always`, or a mapping with kinds:, tags: and/or mentions:, got %r" % (value,))


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
        texts, shorts = tuple(item["text"]), tuple(item["short"])
        first = Disclaimer(item["id"], texts[0][1], shorts[0][1], tuple(item["channels"]), True, texts=texts,
                           shorts=shorts, lang=texts[0][0])
        if dict(texts).keys() != dict(shorts).keys():
            validator.fail(("disclaimers", index, "short"), f"disclaimers[{index}]: `text` is given in "
                           f"{', '.join(dict(texts))} but `short` in {', '.join(dict(shorts))}; give both in "
                           f"every language")
        if when == "always":
            disclaimers.append(first)
            continue
        cond = validator.value(WHEN, when, keys)
        if not isinstance(cond, dict):
            continue
        if not cond["tags"] and not cond["mentions"] and not cond["kinds"]:
            validator.fail(keys, "disclaimers[%d].when: give `always`, or `kinds:`, `tags:` and/or `mentions:`" % index)
            continue
        mentioned = tuple(cond["mentions"] or ())
        disclaimers.append(replace(first, always=False, tags=tuple(cond["tags"] or ()), mentioned=mentioned,
                                   mentions=tuple(p for _, phrases in mentioned for p in phrases),
                                   kinds=tuple(cond["kinds"] or ())))
    claims = tuple(ClaimRule(r["id"], r["level"], tuple(r["phrases"]), r["message"], r["suggest"],
                             r["substantiate"], tuple(r["patterns"]), tuple(r["except"])) for r in clean["rules"])
    for index, rule in enumerate(claims):
        if not rule.phrases and not rule.patterns:
            validator.fail(("rules", index), f"rules[{index}] ({rule.id}): give `phrases:` and/or `patterns:`")
    _check_unique(doc, validator, "disclaimers", [d["id"] for d in clean["disclaimers"]])
    _check_unique(doc, validator, "rules", [r.id for r in claims])
    findings.raise_if_errors()
    rules = Rules(tuple(disclaimers), claims, doc, tuple(clean["languages"] or ()))
    try:
        rules.engine
    except PatternError as exc:
        validator.fail(_pattern_keys(doc, str(exc)), f"{RULES_FILE}: {exc}")
        findings.raise_if_errors()
    return rules


def _pattern_keys(doc: YamlDoc, message: str) -> tuple:
    """Where the pattern a PatternError names is written (the file's start when not found)."""
    for keys, node in doc.nodes.items():
        value = getattr(node, "value", None)
        if isinstance(value, str) and keys and keys[0] != "<key>" and f"{value!r}" in message:
            return keys
    return ()


def _check_unique(doc: YamlDoc, validator: Validator, section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, id_ in enumerate(ids):
        if id_ in seen:
            validator.fail((section, index, "id"), f"{section}[{index}].id: '{id_}' is used twice; ids must be unique")
        seen.add(id_)
