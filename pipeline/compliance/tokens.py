"""A passage as words: each with its folded form, lemma, sentence and source offset.

Words: letters (with inner apostrophes: "can't"; a possessive "'s" is its own token), numbers
("87", "2.5", "#1"), "%" and the straight double quote (curly quotes, guillemets and italics
become one; see passages). Hyphens and other punctuation separate words, so "pain-free",
"pain free" and "pain\u00adfree" are the same two words.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import chain, repeat

from pipeline.compliance.normalise import fold, lemma, normalise
from pipeline.compliance.passages import Passage

_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|#\d+|[^\W_]+(?:'(?!s\b)[^\W_]+)*|[%\"]|'s\b")
# The same words in ASCII text (most English text, once normalised), where an explicit class is quicker.
_ASCII_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|#\d+|[A-Za-z0-9]+(?:'(?!s\b)[A-Za-z0-9]+)*|[%\"]|'s\b")
_END = re.compile(r"[.!?\u2026;:-]")   # where a sentence or clause may end (see _bounds)
_DASHES = re.compile(r"-+")
_AFTER = re.compile(r"[.!?\u2026]*[\"')\]]*\s+")
ABBREVIATIONS = frozenset("dr mr mrs ms st vs etc no sr sra dra dres e.g i.e approx dept min hr hrs ft lb".split())
NUMBER, QUOTE, CAPITAL, INFLECTED = 1, 2, 4, 8   # INFLECTED: its lemma is not its form


class Tokens:
    """The words of one passage in parallel lists (index i is the i-th word). Sentences are
    numbered in order (`sents` never decreases), so a sentence's words are found by bisection."""

    __slots__ = ("passage", "lang", "forms", "lemmas", "sents", "flags", "_at", "_flagged", "_text",
                 "_where", "_cuts", "_spans")

    def __init__(self, passage: Passage, lang: str):
        self.passage, self.lang = passage, lang
        text, where = normalise(passage.text)
        bounds = _bounds(text)
        if passage.breaks:   # joined passages: each starts a sentence
            bounds = sorted(set(bounds).union(_normal_offsets(passage.breaks, where)))
        cuts = [0] + bounds + [len(text)]
        words: list[str] = []
        counts = []
        if text.isascii():
            for start, end in zip(cuts, cuts[1:]):
                before = len(words)
                _ascii_words(text[start:end], words)
                counts.append(len(words) - before)
        else:
            for start, end in zip(cuts, cuts[1:]):
                found = _TOKEN.findall(text, start, end)
                words += found
                counts.append(len(found))
        known = _WORDS.get(lang)
        if known is None:
            known = _WORDS[lang] = ({}, {}, {})
        form_of, lemma_of, flags_of = known
        for word in set(words).difference(form_of):
            form_of[word], lemma_of[word], flags_of[word] = _word(word, lang)
        self.forms = list(map(form_of.__getitem__, words))
        self.lemmas = list(map(lemma_of.__getitem__, words))
        self.flags = list(map(flags_of.__getitem__, words))
        self.sents = list(chain.from_iterable(repeat(k, c) for k, c in enumerate(counts)))
        self._text, self._where, self._cuts = text, where, cuts
        self._spans: dict[int, list] = {}
        self._at = None
        self._flagged: dict[int, list[int]] = {}

    def span(self, i: int) -> tuple[int, int]:
        """(start, end) of word i in the passage's text, as written (found when asked for:
        only a few words' positions are ever needed)."""
        sent = self.sents[i]
        spans = self._spans.get(sent)
        if spans is None:
            where = self._where
            pattern = _ASCII_TOKEN if self._text.isascii() else _TOKEN
            spans = [m.span() for m in pattern.finditer(self._text, self._cuts[sent], self._cuts[sent + 1])]
            if where is not None:
                spans = [(where[a], where[b - 1] + 1) for a, b in spans]
            self._spans[sent] = spans
        return spans[i - bisect_left(self.sents, sent)]

    def start(self, i: int) -> int:
        return self.span(i)[0]

    def end(self, i: int) -> int:
        return self.span(i)[1]

    @property
    def at(self) -> tuple[dict[str, list[int]], dict[str, list[int]], set[str]]:
        """Where each word occurs, in order: (form -> indexes, lemma -> indexes of the words whose
        lemma is not their form, and the keys of both: the passage's vocabulary)."""
        if self._at is None:
            form_list, lemma_list = self.forms, self.lemmas
            forms: dict[str, list[int]] = dict.fromkeys(form_list)
            for form in forms:
                forms[form] = []
            for i, form in enumerate(form_list):
                forms[form].append(i)
            lemmas: dict[str, list[int]] = {}
            for i in self.flagged(INFLECTED):
                found = lemmas.get(lemma_list[i])
                if found is None:
                    lemmas[lemma_list[i]] = [i]
                else:
                    found.append(i)
            self._at = (forms, lemmas, forms.keys() | lemmas.keys())
        return self._at

    def where(self, word: str, lo: int = 0, hi: int | None = None) -> list[int]:
        """Indexes (from lo, before hi), in order, of the words whose form or lemma is `word`."""
        forms, lemmas, _ = self.at
        return _between(sorted(set(forms.get(word, ())).union(lemmas.get(word, ()))), lo, hi)

    def flagged(self, flag: int, lo: int = 0, hi: int | None = None) -> list[int]:
        """Indexes (from lo, before hi), in order, of the words with `flag` (NUMBER, CAPITAL)."""
        found = self._flagged.get(flag)
        if found is None:
            found = self._flagged[flag] = [i for i, f in enumerate(self.flags) if f & flag]
        return _between(found, lo, hi) if lo or hi is not None else found

    def __len__(self) -> int:
        return len(self.forms)

    def sentence_range(self, index: int) -> tuple[int, int]:
        """(first, end) word indexes of the sentence word `index` is in."""
        sent = self.sents[index]
        return bisect_left(self.sents, sent), bisect_right(self.sents, sent)

    def text(self, first: int, end: int) -> str:
        """The passage's text of words first..end-1, as written."""
        return self.passage.text[self.start(first):self.end(end - 1)]


def _between(indexes: list[int], lo: int, hi: int | None) -> list[int]:
    """The sorted `indexes` from lo, before hi (None: to the end)."""
    return indexes[bisect_left(indexes, lo):len(indexes) if hi is None else bisect_left(indexes, hi)]


_CLOSING = frozenset(",.;:!?)")   # marks that end a word and are no word themselves


def _ascii_words(text: str, words: list[str]) -> None:
    """Append the words of ASCII `text` (as _ASCII_TOKEN finds them) to `words`. No word spans a
    space, so each run between spaces is taken alone: most are a word, or a word and a comma or
    full stop, known without the expression."""
    findall = _ASCII_TOKEN.findall
    for run in text.split():
        if run.isalpha():
            words.append(run)
        elif run[-1] in _CLOSING and run[:-1].isalpha():
            words.append(run[:-1])
        else:
            words += findall(run)


# language -> (word as written -> its folded form, -> its folded lemma, -> its flags)
_WORDS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, int]]] = {}


def _word(word: str, lang: str) -> tuple[str, str, int]:
    """(folded form, folded lemma, flags) of a word as written."""
    lower = word.lower()
    flag = CAPITAL if word[0].isupper() else 0
    if word[0].isdigit() and (word.isdigit() or not word.isalnum()) or word[0] == "#":
        flag |= NUMBER
    elif word == '"':
        flag |= QUOTE
    form = fold(lower)
    base = form if flag & (NUMBER | QUOTE) or word == "'s" else lemma(lower, lang)
    return form, base, flag | INFLECTED if base != form else flag


def _normal_offsets(offsets: list[int], where: list[int] | None) -> list[int]:
    """Offsets of the original text as offsets of its normalised text."""
    if where is None:
        return offsets
    return [bisect_left(where, o) for o in offsets]


def _bounds(text: str) -> list[int]:
    """Offsets where a sentence starts: after . ! ? and a capital (not after an abbreviation),
    and where a clause starts: after ; or : or a spaced dash (a negation does not reach past it)."""
    bounds = []
    last = -1
    for match in _END.finditer(text):
        at = match.start()
        if at < last:
            continue
        char = text[at]
        if char == "-":
            if at and text[at - 1].isspace():
                after = _AFTER.match(text, _DASHES.match(text, at).end())
                if after and after.end() > at:
                    bounds.append(after.end())
                    last = after.end()
            continue
        after = _AFTER.match(text, at + 1)
        if after is None or after.end() == at + 1 and not text[at + 1:at + 2].isspace():
            continue
        end = after.end()
        last = end
        if char in ";:":
            bounds.append(end)
            continue
        following = text[end:end + 2].lstrip("\"'(\u00bf\u00a1")
        if not following or not (following[0].isupper() or following[0].isdigit()) and \
                text[end:end + 1] not in ("\u00bf", "\u00a1"):
            continue
        if char == ".":
            before = text[max(0, at - 24):at].rsplit(None, 1)
            word = before[-1].lower().lstrip("(\"'") if before else ""
            if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        bounds.append(end)
    return bounds
