"""Text as the compliance engine compares it: NFKC, every dash and hyphen one "-", soft hyphens
and zero-width characters removed, no-break spaces plain, curly quotes straight; then words
lowercased, accents removed and lemmatised (simplemma, its data bundled) in English and Spanish.

Pure: no caching across builds, no I/O; the memo dictionaries only hold word -> form answers,
which never change within a process.
"""

from __future__ import annotations

import unicodedata

from pipeline.lemmas import lemmatize

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_REMOVED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_SPACES = "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000"
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
           "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"'}


def _char(char: str) -> str:
    if char in _REMOVED:
        return ""
    if char in _DASHES:
        return "-"
    if char in _SPACES:
        return " "
    if char in _QUOTES:
        return _QUOTES[char]
    folded = unicodedata.normalize("NFKC", char)
    return "".join(_QUOTES.get(c, "-" if c in _DASHES else c) for c in folded)


_CHARS: dict[str, str] = {}


def normalise(text: str) -> tuple[str, list[int] | None]:
    """`text` normalised (case kept), and for each of its characters the index of the character of
    `text` it came from (None when that is the identity: plain ASCII text)."""
    if text.isascii():
        return text, None
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            out.append(char)
            where.append(index)
            continue
        mapped = _CHARS.get(char)
        if mapped is None:
            mapped = _CHARS[char] = _char(char)
        for piece in mapped:
            out.append(piece)
            where.append(index)
    return "".join(out), where


_FOLDED: dict[str, str] = {}


def fold(word: str) -> str:
    """Lowercase without accents ("Curó" -> "curo")."""
    folded = _FOLDED.get(word)
    if folded is None:
        lower = word.lower()
        if not lower.isascii():
            lower = "".join(c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c))
        folded = _FOLDED[word] = lower
    return folded


_LEMMAS: dict[tuple[str, str], str] = {}
LANGUAGES = ("en", "es")   # simplemma's data for these is what lemmas are drawn from


def lemma(word: str, lang: str) -> str:
    """The folded lemma of a lowercase `word` in `lang` ("cured" -> "cure", "curó" -> "curar");
    the folded word itself in a language without lemma data."""
    key = (word, lang)
    found = _LEMMAS.get(key)
    if found is None:
        base = word[:-2] if word.endswith("'s") else word
        if lang in LANGUAGES and base.isalpha():
            found = fold(lemmatize(base, lang))
        else:
            found = fold(word)
        _LEMMAS[key] = found
    return found


def primary(tag: str) -> str:
    """The primary subtag of a language tag: "es-MX" -> "es"."""
    return tag.split("-", 1)[0].lower()
