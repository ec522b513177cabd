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
    by_first: dict[str, list] = {}
    for alternative in sorted(set(alternatives), key=len, reverse=True):
        by_first.setdefault(alternative[0], []).append(alternative)
    return ("seq", {first: tuple(alts) for first, alts in by_first.items()}, optional)


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
        return tuple(data)
    return ("#name",) if kind == "name" else ("#num",)


class Index:
    """Patterns by the word they start with, to try at each word only those that can match."""

    def __init__(self):
        self.by_word: dict[str, list] = {}

    def add(self, pattern: tuple, payload) -> None:
        entry = (pattern, payload, _required(pattern))
        for key in first_keys(pattern):
            self.by_word.setdefault(key, []).append(entry)

    def matches(self, tokens: Tokens, numbers: frozenset, lo: int = 0, hi: int | None = None):
        """(first, end, payload) of every pattern match, at every word of `tokens` (or of words lo
        to hi-1: one sentence). Only the words that can start a pattern are tried, in the
        sentences that hold every word the pattern needs: found by set operations, not word by word."""
        by_word = self.by_word
        if not by_word:
            return
        whole = lo == 0 and hi is None
        hi = len(tokens.forms) if hi is None else hi
        sents = tokens.sents
        if whole:
            at_form, at_lemma, vocab = tokens.at
        else:
            vocab = set(tokens.forms[lo:hi]).union(tokens.lemmas[lo:hi])
        within: dict[int, object] = {}   # per pattern: the sentences that hold every word it needs, or True

        def sentences(entry) -> object:
            if not whole:   # one sentence: possible() found every word in it
                return True
            found = within.get(id(entry[0]))
            if found is None:
                found = True
                for need in entry[2]:
                    words = need & vocab
                    here = {sents[p] for word in words for p in at_form.get(word, ())}
                    here.update(sents[p] for word in words for p in at_lemma.get(word, ()))
                    found = here if found is True else found & here
                within[id(entry[0])] = found
            return found

        def possible(entries) -> tuple[list, object]:
            """The patterns whose every required word occurs in the passage, and the sentences
            where one of them may match (True: any)."""
            entries = [e for e in entries if all(not need.isdisjoint(vocab) for need in e[2])]
            where: set = set()
            for entry in entries:
                found = sentences(entry)
                if found is True:
                    return entries, True
                where |= found
            return entries, where

        starts: dict[int, list] = {}

        def start(places, entries, allowed, first: bool = False) -> None:
            for i in places:
                if allowed is True or sents[i] in allowed:
                    if first:
                        starts[i] = list(entries)
                    else:
                        starts.setdefault(i, []).extend(entries)

        usable = {}
        for key in by_word.keys() & vocab:
            entries, allowed = possible(by_word[key])
            if entries and allowed:
                usable[key] = entries, allowed
        if usable and whole:   # a word's form is tried before its lemma
            for key in usable.keys() & at_form.keys():
                start(at_form[key], *usable[key], first=True)
            for key in usable.keys() & at_lemma.keys():
                start(at_lemma[key], *usable[key])
        elif usable:
            forms, lemmas = tokens.forms, tokens.lemmas
            for i in [i for i, f in enumerate(forms[lo:hi], lo) if f in usable]:
                starts[i] = list(usable[forms[i]][0])
            for i in [i for i, w in enumerate(lemmas[lo:hi], lo) if w in usable and w != forms[i]]:
                starts.setdefault(i, []).extend(usable[lemmas[i]][0])
        if "#num" in by_word:
            nums, allowed = possible(by_word["#num"])
            if nums and allowed:
                for key in numbers & vocab:
                    start(tokens.where(key, lo, hi), nums, allowed)
                start(tokens.flagged(NUMBER, lo, hi), nums, allowed)
        if "#name" in by_word:
            names, allowed = possible(by_word["#name"])
            if names and allowed:
                start([i for i in tokens.flagged(CAPITAL, lo, hi) if is_name(tokens, i)], names, allowed)
        for i in sorted(starts):
            sent = sents[i]
            sentence_end = -1
            seen = set()
            for entry in starts[i]:
                pattern = entry[0]
                if id(pattern) in seen:
                    continue
                seen.add(id(pattern))
                allowed = sentences(entry)
                if allowed is not True and sent not in allowed:
                    continue   # a word it needs is not in this sentence
                if sentence_end < 0:
                    sentence_end = tokens.sentence_range(i)[1]
                end = match_at(pattern, 0, tokens, i, sentence_end, numbers)
                if end > i:
                    yield i, end, entry[1]


def _required(pattern: tuple) -> tuple[frozenset, ...]:
    """Per element that must match a word, the words it may start with: a passage without any
    of one element's words cannot match the pattern."""
    needs = []
    for index, (kind, data, optional) in enumerate(pattern):
        if optional:
            continue
        if kind == "pct":
            needs.append(frozenset(sign[0] for sign in _PERCENT))
        elif index == 0:
            continue
        elif kind == "word":
            needs.append(data)
        elif kind == "seq":
            needs.append(frozenset(data))
    return tuple(needs)


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
        form, lemma_ = forms[i], lemmas[i]
        alternatives = data.get(form, ())
        if lemma_ != form and lemma_ in data:
            alternatives = alternatives + data[lemma_]
        for alternative in alternatives:
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
