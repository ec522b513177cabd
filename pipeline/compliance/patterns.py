"""Token patterns, the language of compliance.yaml's rules, compiled and matched over Tokens.

A pattern is words separated by spaces, matched within one sentence:
  cure             the word or any of its inflections (cures, cured, curing): words are lemmas;
                   a word is also matched exactly as written ("best" matches only "best")
  cure|heal        any of the alternatives; an alternative of several words is written with
                   hyphens (get-better|improve), as hyphens separate words anyway
  again?           optional
  <num>            a number: digits, or a word of the language's `number` slot (two, dos)
  <pct>            a percentage: 87%, 87 percent, 87 por ciento
  <name>           a capitalised word that does not start its sentence (a person's name)
  {care}           any phrase of the slot `care` (compliance.yaml `slots:`, per language)
  ...              up to four words of anything; ..  up to two
A phrase of a rule's `phrases:` list is a pattern of plain words.
"""

from __future__ import annotations

import re

from pipeline.compliance.normalise import fold, normalise
from pipeline.compliance.tokens import CAPITAL, NUMBER, QUOTE, Tokens

GAP = 4
SHORT_GAP = 2
_WORD = re.compile(r"#?\d+(?:[.,]\d+)*|%|\"|'s|[^\W\d_]+(?:'[^\W\d_]+)*")
_PERCENT = ("%",), ("percent",), ("per", "cent"), ("por", "ciento"), ("porciento",)


class PatternError(ValueError):
    """A pattern that cannot be compiled; the message says why, in the author's terms."""


def words(text: str) -> tuple[str, ...]:
    """`text` as folded words, as Tokens splits a passage."""
    normal, _ = normalise(text)
    out = []
    for word in _WORD.findall(normal):
        lower = word.lower()
        if lower.endswith("'s") and len(lower) > 2:
            out += [fold(lower[:-2]), "'s"]
        else:
            out.append(fold(lower))
    return tuple(out)


def compile_pattern(source: str, slots: dict[str, tuple[tuple[str, ...], ...]]) -> tuple:
    """Elements (kind, data, optional) of one pattern; `slots`: name -> its phrases as words."""
    elements = []
    for item in source.split():
        optional = item.endswith("?") and len(item) > 1
        if optional:
            item = item[:-1]
        if item in ("...", ".."):
            elements.append(("gap", GAP if item == "..." else SHORT_GAP, True))
        else:
            parts = item.split("|")
            special = [_special(part, slots, source) for part in parts if _is_special(part)]
            alternatives = tuple(w for w in (words(p) for p in parts if not _is_special(p)) if w)
            if not alternatives and not special:
                raise PatternError(f"pattern {source!r}: {item!r} has no word in it")
            choices = special + ([_choice(alternatives, False)] if alternatives else [])
            elements.append(choices[0][:2] + (optional,) if len(choices) == 1 else
                            ("alt", tuple(choices), optional))
    while elements and elements[0][2]:
        elements.pop(0)   # leading optional words change where a match starts, not whether it matches
    while elements and elements[-1][2]:
        elements.pop()
    if not elements:
        raise PatternError(f"pattern {source!r} needs at least one word that is not optional")
    return tuple(elements)


def _is_special(part: str) -> bool:
    return part in ("<num>", "<pct>", "<name>") or (part.startswith("{") and part.endswith("}"))


def _special(part: str, slots: dict, source: str) -> tuple:
    if part.startswith("<"):
        return (part[1:-1], None, False)
    name = part[1:-1]
    if name not in slots:
        raise PatternError(f"pattern {source!r} uses slot {{{name}}}, which `slots:` does not define for this "
                           f"language")
    return _choice(slots[name], False)


def _choice(alternatives, optional: bool) -> tuple:
    if all(len(a) == 1 for a in alternatives):
        return ("word", frozenset(a[0] for a in alternatives), optional)
    return ("seq", tuple(sorted(set(alternatives), key=len, reverse=True)), optional)


def first_keys(pattern: tuple) -> tuple[str, ...]:
    """What the word a match starts at must be: words, or "#num" / "#name"."""
    return _keys(pattern[0])


def _keys(element: tuple) -> tuple[str, ...]:
    kind, data, _ = element
    if kind == "alt":
        return tuple({key for sub in data for key in _keys(sub)})
    if kind == "word":
        return tuple(data)
    if kind == "seq":
        return tuple({a[0] for a in data})
    return ("#name",) if kind == "name" else ("#num",)


class Index:
    """Patterns by the word they start with, to try at each word only those that can match."""

    def __init__(self):
        self.by_word: dict[str, list] = {}

    def add(self, pattern: tuple, payload) -> None:
        for key in first_keys(pattern):
            self.by_word.setdefault(key, []).append((pattern, payload))

    def matches(self, tokens: Tokens, numbers: frozenset):
        """(first, end, payload) of every pattern match, at every word of `tokens`."""
        by_word = self.by_word
        if not by_word:
            return
        nums, names = by_word.get("#num"), by_word.get("#name")
        forms, lemmas, flags, sents = tokens.forms, tokens.lemmas, tokens.flags, tokens.sents
        for i in range(len(forms)):
            form, lemma_ = forms[i], lemmas[i]
            candidates = by_word.get(form)
            if lemma_ != form:
                more = by_word.get(lemma_)
                if more:
                    candidates = more if not candidates else candidates + more
            if nums and (flags[i] & NUMBER or form in numbers):
                candidates = nums if not candidates else candidates + nums
            if names and flags[i] & CAPITAL and is_name(tokens, i):
                candidates = names if not candidates else candidates + names
            if not candidates:
                continue
            sentence_end = tokens.sentence_range(i)[1]
            seen = set()
            for pattern, payload in candidates:
                if id(pattern) in seen:
                    continue
                seen.add(id(pattern))
                end = match_at(pattern, 0, tokens, i, sentence_end, numbers)
                if end > i:
                    yield i, end, payload


def is_name(tokens: Tokens, i: int) -> bool:
    """A capitalised word that is not "I" nor its sentence's first (unless a possessive follows)."""
    if tokens.forms[i] == "i" or tokens.flags[i] & (NUMBER | QUOTE):
        return False
    return tokens.sentence_range(i)[0] != i or (i + 1 < len(tokens.forms) and tokens.forms[i + 1] == "'s")


def match_at(pattern: tuple, k: int, tokens: Tokens, i: int, end: int, numbers: frozenset) -> int:
    """The end of the longest match of pattern[k:] from word i (within the sentence ending at
    `end`), or -1."""
    if k == len(pattern):
        return i
    kind, data, optional = pattern[k]
    best = -1
    if kind == "gap":
        for j in range(i, min(i + data, end) + 1):
            found = match_at(pattern, k + 1, tokens, j, end, numbers)
            if found > best:
                best = found
        return best
    for after in _element(kind, data, tokens, i, end, numbers):
        found = match_at(pattern, k + 1, tokens, after, end, numbers)
        if found > best:
            best = found
    if optional:
        found = match_at(pattern, k + 1, tokens, i, end, numbers)
        if found > best:
            best = found
    return best


def _element(kind, data, tokens: Tokens, i: int, end: int, numbers: frozenset):
    """Where the words one element matches at word i end (none, one or several)."""
    if i >= end:
        return
    forms, lemmas = tokens.forms, tokens.lemmas
    if kind == "word":
        if forms[i] in data or lemmas[i] in data:
            yield i + 1
    elif kind == "alt":
        for sub_kind, sub_data, _ in data:
            yield from _element(sub_kind, sub_data, tokens, i, end, numbers)
    elif kind == "seq":
        for alternative in data:
            if _phrase_at(alternative, tokens, i, end):
                yield i + len(alternative)
    elif kind == "num":
        if tokens.flags[i] & NUMBER or forms[i] in numbers:
            yield i + 1
    elif kind == "pct":
        if tokens.flags[i] & NUMBER or forms[i] in numbers:
            for sign in _PERCENT:
                if _phrase_at(sign, tokens, i + 1, end):
                    yield i + 1 + len(sign)
    elif kind == "name":
        if tokens.flags[i] & CAPITAL and is_name(tokens, i):
            yield i + 1


def _phrase_at(phrase: tuple[str, ...], tokens: Tokens, i: int, end: int) -> bool:
    if i + len(phrase) > end:
        return False
    forms, lemmas = tokens.forms, tokens.lemmas
    return all(forms[i + n] == w or lemmas[i + n] == w for n, w in enumerate(phrase))
