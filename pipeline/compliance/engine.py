"""The claim engine: rules (phrases and token patterns per language) matched over the sentences
of every text an article ships, minus negated claims, harmless senses and titles of works.

Pure: it reads an article's fields and source lines, and returns hits; it keeps nothing between
articles but the last article's words (asked for by several checks of the same article).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.compliance.normalise import primary
from pipeline.compliance.passages import Passage, body_passages, field_passage, join
from pipeline.compliance.patterns import Index, compile_pattern, words
from pipeline.compliance.tokens import CAPITAL, QUOTE, Tokens

# Front-matter fields that ship (to the page, feeds, email headers or posts), by key path.
FIELDS = (("title",), ("summary",), ("image_alt",), ("newsletter", "subject"), ("newsletter", "preheader"))
NEAR = 3          # an exception within this many words of a claim cancels it
WINDOW = 7        # a negation this many words before a claim negates it (NegEx's window)


@dataclass(frozen=True)
class Hit:
    rule: str
    field: str
    line: int
    col: int
    text: str


class Language:
    """One language's compiled patterns."""

    def __init__(self, lang: str, data: dict):
        slots = {name: tuple(w for w in (words(p) for p in phrases) if w)
                 for name, phrases in data.get("slots", {}).items()}
        self.numbers = frozenset(p[0] for p in slots.get("number", ()) if len(p) == 1)
        self.claims, self.negation = Index(), Index()
        self.exceptions: dict[str, Index] = {}   # rule -> its exceptions
        self.story, self.mentions = Index(), {}
        stops = [words(p) for p in data.get("stop", ())]
        self.stops = frozenset(w[0] for w in stops if len(w) == 1)
        self.narrow = frozenset(w for p in data.get("narrow", ()) for w in words(p))
        self.works = frozenset(w for p in data.get("works", ()) for w in words(p))
        self.staff = frozenset(w for p in data.get("staff", ()) for w in words(p))
        for rule_id, patterns, exceptions in data.get("rules", ()):
            for source in patterns:
                self.claims.add(compile_pattern(source, slots), rule_id)
            for source in exceptions:
                self.exceptions.setdefault(rule_id, Index()).add(compile_pattern(source, slots), rule_id)
        for kind in ("before", "after", "pseudo", "stop"):
            for source in data.get(kind, ()):
                if kind != "stop" or len(words(source)) > 1:
                    self.negation.add(compile_pattern(source, slots), kind)
        for source in data.get("story", ()):
            self.story.add(compile_pattern(source, slots), "story")
        for disclaimer_id, phrases in data.get("mentions", ()):
            index = self.mentions[disclaimer_id] = Index()
            for source in phrases:
                index.add(compile_pattern(source, slots), disclaimer_id)


class Engine:
    """Compiled once per rules file. `languages`: language -> its data, as rules.py reads it."""

    def __init__(self, languages: dict[str, dict], default: str):
        self.default = primary(default)
        self.languages = {lang: Language(lang, data) for lang, data in languages.items()}
        self._last: tuple = (None, None)     # the last article and its words
        self._story: tuple = (None, None)    # those words and the story sign found in them

    def language(self, article) -> str:
        return primary(getattr(article, "lang", "") or self.default)

    def texts(self, article) -> list[Tokens]:
        """The words of every passage the article ships, in its language."""
        if self._last[0] is article:
            return self._last[1]
        lang = self.language(article)
        result = [Tokens(join(article_passages(article)), lang)]
        self._last = (article, result)
        return result

    def claims(self, article) -> list[Hit]:
        """Every claim finding in the article, one per claim, at its first word."""
        language = self.languages.get(self.language(article))
        if language is None:
            return []
        hits = []
        for tokens in self.texts(article):
            found = [(i, end, rule) for i, end, rule in language.claims.matches(tokens, language.numbers)]
            if not found:
                continue
            scope = Scope(language, tokens)
            kept: list[tuple[int, int, str]] = []
            for i, end, rule in sorted(found, key=lambda h: (h[0] - h[1], h[0])):
                if any(k[0] <= i and end <= k[1] or (k[2] == rule and tokens.sents[k[0]] == tokens.sents[i])
                       for k in kept) or scope.harmless(i, end, rule):
                    continue   # inside a longer claim, or its rule already found in the sentence, or harmless
                kept.append((i, end, rule))
            for i, end, rule in sorted(kept):
                line, col = tokens.passage.position(tokens.start(i))
                hits.append(Hit(rule, tokens.passage.field_at(tokens.start(i)), line, col, tokens.text(i, end)))
        return hits

    def mentions(self, article, disclaimer_id: str) -> bool:
        """Does the article mention anything of the disclaimer's `mentions` in its language?"""
        language = self.languages.get(self.language(article))
        index = language.mentions.get(disclaimer_id) if language else None
        if index is None:
            return False
        return any(next(index.matches(t, language.numbers), None) for t in self.texts(article))

    def story(self, article) -> Hit | None:
        """The first sign that the article tells a patient's story (a named person's comeback, a
        first-person quote attributed to someone not on staff)."""
        tokens = self.texts(article)
        if self._story[0] is not tokens:
            self._story = (tokens, self._find_story(article))
        return self._story[1]

    def _find_story(self, article) -> Hit | None:
        language = self.languages.get(self.language(article))
        if language is None:
            return None
        for tokens in self.texts(article):
            for i, end, _ in language.story.matches(tokens, language.numbers):
                first, last = tokens.sentence_range(i)
                if any(tokens.forms[j] in language.staff or tokens.lemmas[j] in language.staff
                       for j in range(first, last)):
                    continue
                line, col = tokens.passage.position(tokens.start(i))
                return Hit("patient-story", tokens.passage.field_at(tokens.start(i)), line, col,
                           tokens.text(i, end))
        return None


class Scope:
    """Negation triggers and sense exceptions in the sentences of one passage's claims, found
    when a claim needs them."""

    def __init__(self, language: Language, tokens: Tokens):
        self.language, self.tokens = language, tokens
        self._negation: dict[int, list] = {}
        self._exceptions: dict[int, list] = {}

    def harmless(self, i: int, end: int, rule: str) -> bool:
        return self.negated(i, end) or self.excepted(i, end, rule) or self.in_title(i, end)

    def _in_sentence(self, index: Index, cache: dict, i: int, key=None) -> list:
        first, last = self.tokens.sentence_range(i)
        if (first, key) not in cache:
            cache[first, key] = list(index.matches(self.tokens, self.language.numbers, first, last))
        return cache[first, key]

    def negated(self, i: int, end: int) -> bool:
        tokens, stops = self.tokens, self.language.stops
        first, last = tokens.sentence_range(i)
        found = self._in_sentence(self.language.negation, self._negation, i)
        found = found + [(j, j + 1, "before") for j in range(first, i) if tokens.forms[j].endswith("n't")]
        pseudo = [(a, b) for a, b, kind in found if kind == "pseudo"]
        stopped = [a for a, b, kind in found if kind == "stop"]
        for a, b, kind in found:
            if kind == "before" and first <= a and b <= i and i - b <= WINDOW:
                if any(p <= a < q for p, q in pseudo) or (a == first and self._comma_after(b)):
                    continue   # "not only", "no doubt", an answer's "No, ...": not a negation
                if any(tokens.forms[j] in stops for j in range(b, i)) or any(b <= j < i for j in stopped):
                    continue
                if b - a == 1 and tokens.forms[a] in self.language.narrow and \
                        "," in tokens.passage.text[tokens.end(a):tokens.start(i)]:
                    continue   # "no knee pain, forever": "no" reaches its noun phrase only
                return True
            elif kind == "after" and end <= a <= end + 1 and b <= last:
                return True
        return False

    def _comma_after(self, b: int) -> bool:
        tokens = self.tokens
        return tokens.passage.text[tokens.end(b - 1):tokens.end(b - 1) + 1] == ","

    def excepted(self, i: int, end: int, rule: str) -> bool:
        index = self.language.exceptions.get(rule)
        if index is None:
            return False
        found = self._in_sentence(index, self._exceptions, i, rule)
        return any(a < end + NEAR and b > i - NEAR for a, b, _ in found)

    def in_title(self, i: int, end: int) -> bool:
        """Inside the title of a book, film or the like: quoted, italic or capitalised, in a
        sentence that names a kind of work."""
        tokens, works = self.tokens, self.language.works
        first, last = tokens.sentence_range(i)
        if not any(tokens.lemmas[j] in works or tokens.forms[j] in works for j in range(first, last)):
            return False
        before = sum(1 for j in range(first, i) if tokens.flags[j] & QUOTE)
        after = any(tokens.flags[j] & QUOTE for j in range(end, last))
        return (before % 2 == 1 and after) or (i > first and bool(tokens.flags[i] & CAPITAL))


def article_passages(article):
    """Passages of every text the article ships: its front-matter fields and its body."""
    front = article.front
    offset = front.line_offset
    for keys in FIELDS + tuple(("social", platform) for platform, _ in article.social):
        span = front.node(keys)
        if span is not None:
            passage = field_passage(".".join(keys), article.lines, (span.start_mark, span.end_mark), offset)
            if passage is not None:
                yield passage
    body = article.lines[article.body_line - 1:]
    yield from body_passages(body, article.body_line)


__all__ = ["Engine", "Hit", "Passage", "article_passages"]
