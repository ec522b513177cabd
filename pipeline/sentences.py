"""Sentence splitting for the text of posts: simplemma's splitter (abbreviations, initials,
decimals, ordinals, closing quotes and brackets), with the abbreviations of clinical and
scholarly writing it does not know, and full stops of scripts written without spaces."""

from __future__ import annotations

import re

# Words that end with a full stop but never end a sentence (compared in lower case, without
# brackets). simplemma knows dr, e.g., u.s, vs, mr, st, inc, jr and a few more for English.
NEVER_LAST = frozenset("prof approx appt dept est fig figs incl max min mt ph.d m.d pp vol ca cf al i.e "
                       "sr ave assn govt hosp univ".split())
# Words that end a sentence unless a number follows ("No. 5", "Fig. 3", "et al. 2017").
BEFORE_NUMBER = frozenset("no nos p al ref refs wk wks hr hrs sec ch eq".split())
# Full stops of scripts written without spaces between sentences.
_CJK_SENTENCE = re.compile(r".+?[。！？]+[」』）)\]”’]*|.+$")
TERMINAL = re.compile(r"[.!?。！？][\"'”’»)\]」』）]*$")


def split(text: str, language: str = "en") -> list[str]:
    """`text` (one paragraph, whitespace collapsed) as its sentences, in order; each a slice of it."""
    from simplemma.sentences import split_sentences   # imported here: only when posts are composed

    code = language.split("-", 1)[0].lower()
    pieces = []
    for piece in split_sentences(text, code):
        pieces += [p.strip() for p in _CJK_SENTENCE.findall(piece) if p.strip()] if "。" in piece or "！" in piece \
            or "？" in piece else [piece]
    out: list[str] = []
    for piece in pieces:
        if out and _continues(out[-1], piece):
            start = text.find(out[-1])
            end = text.find(piece, start + len(out[-1])) + len(piece)
            out[-1] = text[start:end] if start >= 0 and end > start else out[-1] + " " + piece
        else:
            out.append(piece)
    return out


def _continues(before: str, after: str) -> bool:
    """Does `after` continue the sentence `before`, which ends with an abbreviation?"""
    if not before.endswith("."):
        return False
    word = before.rsplit(None, 1)[-1].strip("([").rstrip(".").lower()
    if word in NEVER_LAST:
        return True
    return word in BEFORE_NUMBER and after[:1].isdigit()


def is_whole(sentence: str) -> bool:
    """Does it end as a sentence ends (. ! ? with any closing quotes or brackets), not with an
    ellipsis, a colon or nothing?"""
    core = sentence.rstrip("\"'”’»)]」』）")
    return bool(TERMINAL.search(sentence)) and not core.endswith(("...", "\u2026"))
