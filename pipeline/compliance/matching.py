"""Phrase matching for rules and disclaimers: whole words, case- and accent-insensitive,
with positions that map back to the original text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def fold(text: str) -> str:
    """Lowercase, accents removed, typographic quotes and dashes made plain; same length as `text`."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)[0] if ord(char) > 127 else char
        lower = base.lower()
        out.append(lower if len(lower) == 1 else base)
    return "".join(out).translate(_PLAIN)


_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "-", "\u00a0": " ", "\u2011": "-"})


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
