"""A passage as words: each with its folded form, lemma, sentence and source offset.

Words: letters (with inner apostrophes: "can't"; a possessive "'s" is its own token), numbers
("87", "2.5", "#1"), "%" and the straight double quote (curly quotes, guillemets and italics
become one; see passages). Hyphens and other punctuation separate words, so "pain-free",
"pain free" and "pain\u00adfree" are the same two words.
"""

from __future__ import annotations

import re

from pipeline.compliance.normalise import fold, lemma, normalise
from pipeline.compliance.passages import Passage

_TOKEN = re.compile(r"#?\d+(?:[.,]\d+)*|%|\"|[^\W\d_]+(?:'[^\W\d_]+)*")
_END = re.compile(r"[.!?\u2026]+[\"')\]]*\s+|[;:]\s+|\s-+\s")
ABBREVIATIONS = frozenset("dr mr mrs ms st vs etc no sr sra dra dres e.g i.e approx dept min hr hrs ft lb".split())
NUMBER, QUOTE, CAPITAL = 1, 2, 4


class Tokens:
    """The words of one passage in parallel lists (index i is the i-th word)."""

    __slots__ = ("passage", "lang", "starts", "ends", "forms", "lemmas", "sents", "flags", "sent_first")

    def __init__(self, passage: Passage, lang: str):
        self.passage, self.lang = passage, lang
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.forms: list[str] = []
        self.lemmas: list[str] = []
        self.sents: list[int] = []
        self.flags: list[int] = []
        self.sent_first: list[int] = []   # per sentence, the index of its first word
        text, where = normalise(passage.text)
        bounds = [m.end() for m in _END.finditer(text) if _is_boundary(text, m)]
        bound_index, sent = 0, 0
        self.sent_first.append(0)
        for match in _TOKEN.finditer(text):
            start, word = match.start(), match.group()
            while bound_index < len(bounds) and bounds[bound_index] <= start:
                bound_index += 1
                if len(self.forms) > self.sent_first[-1]:
                    sent += 1
                    self.sent_first.append(len(self.forms))
            lower = word.lower()
            flag = CAPITAL if word[0].isupper() else 0
            if word[0].isdigit() or word[0] == "#":
                flag |= NUMBER
            elif word == '"':
                flag |= QUOTE
            end = match.end()
            if lower.endswith("'s") and len(lower) > 2:
                self._add(start, end - 2, fold(lower[:-2]), lemma(lower[:-2], lang), sent, flag, where)
                self._add(end - 2, end, "'s", "'s", sent, 0, where)
                continue
            form = fold(lower)
            self._add(start, end, form, lemma(lower, lang) if not flag & (NUMBER | QUOTE) else form, sent, flag,
                      where)

    def _add(self, start, end, form, lemma_, sent, flag, where) -> None:
        if where is not None:
            start, end = where[start], where[end - 1] + 1
        self.starts.append(start)
        self.ends.append(end)
        self.forms.append(form)
        self.lemmas.append(lemma_)
        self.sents.append(sent)
        self.flags.append(flag)

    def __len__(self) -> int:
        return len(self.forms)

    def sentence_range(self, index: int) -> tuple[int, int]:
        """(first, end) word indexes of the sentence word `index` is in."""
        sent = self.sents[index]
        first = self.sent_first[sent]
        end = self.sent_first[sent + 1] if sent + 1 < len(self.sent_first) else len(self.forms)
        return first, end

    def text(self, first: int, end: int) -> str:
        """The passage's text of words first..end-1, as written."""
        return self.passage.text[self.starts[first]:self.ends[end - 1]]


def _is_boundary(text: str, match: re.Match) -> bool:
    if text[match.start()] in ";:" or text[match.start()].isspace():
        return True   # a clause ends: a negation before it does not reach past it
    after = text[match.end():match.end() + 2].lstrip("\"'(\u00bf\u00a1")
    if not after or not (after[0].isupper() or after[0].isdigit()) and text[match.end()] not in "\u00bf\u00a1":
        return False
    if text[match.start()] == ".":
        before = text[:match.start()].rsplit(None, 1)
        word = before[-1].lower().lstrip("(\"'") if before else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
    return True
