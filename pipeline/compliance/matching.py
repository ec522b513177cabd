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
    return text.translate(_FOLD)


@lru_cache(maxsize=None)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    """One regex matching any of `phrases` as whole words; spaces and hyphens are interchangeable."""
    alternatives = []
    for phrase in sorted(phrases, key=len, reverse=True):
        words = re.split(r"[\s\-]+", fold(phrase).strip())
        alternatives.append(r"[\s\-]+".join(re.escape(w) for w in words if w))
    return re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])")


def find_phrases(phrases: tuple[str, ...], text: str):
    """Yield (start, end) of every whole-word match of any phrase in `text`."""
    if not phrases:
        return
    for match in phrase_pattern(phrases).finditer(fold(text)):
        yield match.start(), match.end()


def normalise_space(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def contains_text(haystack: str, needle: str) -> bool:
    """Does `haystack` show `needle`, ignoring case, accents, quote styles and line breaks?"""
    return normalise_space(needle) in normalise_space(haystack)


class Haystack:
    """A text normalised once, to look for many needles in."""

    def __init__(self, text: str):
        self.normalised = normalise_space(text)

    def __contains__(self, needle: str) -> bool:
        return normalise_space(needle) in self.normalised
