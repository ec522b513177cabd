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
_END = re.compile(r"[.!?\u2026;:-]")   # where a sentence or clause may end (see _bounds)
_DASHES = re.compile(r"-+")
_AFTER = re.compile(r"[.!?\u2026]*[\"')\]]*\s+")
ABBREVIATIONS = frozenset("dr mr mrs ms st vs etc no sr sra dra dres e.g i.e approx dept min hr hrs ft lb".split())
NUMBER, QUOTE, CAPITAL = 1, 2, 4


class Tokens:
    """The words of one passage in parallel lists (index i is the i-th word). Sentences are
    numbered in order (`sents` never decreases), so a sentence's words are found by bisection."""

    __slots__ = ("passage", "lang", "forms", "lemmas", "sents", "flags", "_vocab", "_text", "_where", "_cuts",
                 "_spans")

    def __init__(self, passage: Passage, lang: str):
        self.passage, self.lang = passage, lang
        text, where = normalise(passage.text)
        bounds = _bounds(text)
        if passage.breaks:   # joined passages: each starts a sentence
            bounds = sorted(set(bounds).union(_normal_offsets(passage.breaks, where)))
        cuts = [0] + bounds + [len(text)]
        words: list[str] = []
        counts = []
        for start, end in zip(cuts, cuts[1:]):
            found = _TOKEN.findall(text, start, end)
            words += found
            counts.append(len(found))
        known = _WORDS.get(lang)
        if known is None:
            known = _WORDS[lang] = {}
        info = [known.get(w) or _word(known, w, lang) for w in words]
        self.forms = [i[0] for i in info]
        self.lemmas = [i[1] for i in info]
        self.flags = [i[2] for i in info]
        self.sents = list(chain.from_iterable(repeat(k, c) for k, c in enumerate(counts)))
        self._text, self._where, self._cuts = text, where, cuts
        self._spans: dict[int, list] = {}
        self._vocab = None

    def span(self, i: int) -> tuple[int, int]:
        """(start, end) of word i in the passage's text, as written (found when asked for:
        only a few words' positions are ever needed)."""
        sent = self.sents[i]
        spans = self._spans.get(sent)
        if spans is None:
            where = self._where
            spans = [m.span() for m in _TOKEN.finditer(self._text, self._cuts[sent], self._cuts[sent + 1])]
            if where is not None:
                spans = [(where[a], where[b - 1] + 1) for a, b in spans]
            self._spans[sent] = spans
        return spans[i - bisect_left(self.sents, sent)]

    def start(self, i: int) -> int:
        return self.span(i)[0]

    def end(self, i: int) -> int:
        return self.span(i)[1]

    @property
    def vocab(self) -> set[str]:
        """Every form and lemma in the passage."""
        if self._vocab is None:
            self._vocab = set(self.forms).union(self.lemmas)
        return self._vocab

    def where(self, word: str, lo: int = 0, hi: int | None = None) -> set[int]:
        """Indexes (from lo, before hi) of the words whose form or lemma is `word`."""
        out = set()
        hi = len(self.forms) if hi is None else hi
        for values in (self.forms, self.lemmas):
            at = lo - 1
            try:
                while True:
                    at = values.index(word, at + 1, hi)
                    out.add(at)
            except ValueError:
                pass
        return out

    def __len__(self) -> int:
        return len(self.forms)

    def sentence_range(self, index: int) -> tuple[int, int]:
        """(first, end) word indexes of the sentence word `index` is in."""
        sent = self.sents[index]
        return bisect_left(self.sents, sent), bisect_right(self.sents, sent)

    def text(self, first: int, end: int) -> str:
        """The passage's text of words first..end-1, as written."""
        return self.passage.text[self.start(first):self.end(end - 1)]


_WORDS: dict[str, dict[str, tuple[str, str, int]]] = {}   # language -> word as written -> its facts


def _word(known: dict, word: str, lang: str) -> tuple[str, str, int]:
    """(folded form, folded lemma, flags) of a word as written."""
    lower = word.lower()
    flag = CAPITAL if word[0].isupper() else 0
    if word[0].isdigit() and (word.isdigit() or not word.isalnum()) or word[0] == "#":
        flag |= NUMBER
    elif word == '"':
        flag |= QUOTE
    form = fold(lower)
    facts = known[word] = (form, form if flag & (NUMBER | QUOTE) or word == "'s" else lemma(lower, lang), flag)
    return facts


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
