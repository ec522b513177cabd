"""Phrase matching for rules and disclaimers: whole words, case- and accent-insensitive,
with positions that map back to the original text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


_PLAIN = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
          "\u00a0": " ", "\u2011": "-"}


class _FoldTable(dict):
    """str.translate table computed one character at a time, then cached (translate runs in C)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in _PLAIN:
            folded = _PLAIN[char]
        else:
            base = unicodedata.normalize("NFKD", char)[:1] or char
            lower = base.lower()
            folded = lower if len(lower) == 1 else base
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lowercase, accents removed, typographic quotes and dashes made plain; same length as `text`."""
    if text.isascii():
        return text.lower()
    # Mostly ASCII text: translate only the runs of other characters (translate is slow per
    # character); every folded character is already lowercase, so lower() then changes only ASCII.
    return _NON_ASCII.sub(_fold_run, text).lower()


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_run(match: re.Match) -> str:
    return match.group().translate(_FOLD)


@lru_cache(maxsize=None)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    """One regex matching any of `phrases` as whole words; spaces and hyphens are interchangeable."""
    alternatives = []
    for phrase in sorted(phrases, key=len, reverse=True):
        words = re.split(r"[\s\-]+", fold(phrase).strip())
        alternatives.append(r"[\s\-]+".join(re.escape(w) for w in words if w))
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")


@lru_cache(maxsize=None)
def _first_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The word each phrase's regex starts with ("" when it has none: then anything may match)."""
    firsts = set()
    for phrase in phrases:
        words = [w for w in re.split(r"[\s\-]+", fold(phrase).strip()) if w]
        firsts.add(words[0] if words else "")
    return tuple(sorted(firsts))


def may_contain(phrases: tuple[str, ...], folded: str) -> bool:
    """False when no phrase can match in `folded` text: none of their first words occurs in it
    (a substring search, far faster than the phrase regex, which needs that word to match)."""
    return any(word in folded for word in _first_words(phrases))


def find_phrases(phrases: tuple[str, ...], text: str):
    """Yield (start, end) of every whole-word match of any phrase in `text`."""
    if not phrases:
        return
    for match in phrase_pattern(phrases).finditer(fold(text)):
        yield match.start(), match.end()


def normalise_space(text: str) -> str:
    """Folded, with every run of whitespace one space (str.split splits where regex \\s matches)."""
    return " ".join(fold(text).split())


_normalised_needle = lru_cache(maxsize=4096)(normalise_space)  # disclaimers: a few texts, looked up often


class Haystack:
    """A text normalised once, to look for many needles in: `needle in haystack` ignores case,
    accents, quote styles and line breaks."""

    def __init__(self, text: str):
        self.normalised = normalise_space(text)

    def __contains__(self, needle: str) -> bool:
        return _normalised_needle(needle) in self.normalised
