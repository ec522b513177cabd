"""Looking for disclaimers in rendered outputs: texts compared case- and accent-insensitive, with
typographic quotes, dashes and line breaks made plain. (Claims are matched by engine.py.)"""

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
