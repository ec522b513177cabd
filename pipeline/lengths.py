"""How each platform counts a post's length (STANDARDS section 6), with the maintained libraries
that exist: twitter-text for X's weighted count, `regex` for grapheme clusters and emoji."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

import regex

_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
_URL = regex.compile(r"https?://\S+")
URL_WEIGHT = 23


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


_T_CO = "https://t.co/" + "x" * 10  # what X wraps every link in: 23 characters
# Every emoji twitter-text knows holds a non-ASCII character with one of these Unicode properties
# (checked over all code points); without one, its emoji scan (half its time) is skipped, exactly.
_MAY_BE_EMOJI = regex.compile(r"(?=[^\x00-\x7f])[\p{Emoji}\p{Emoji_Component}\p{Extended_Pictographic}"
                              r"\p{Regional_Indicator}]")


# twitter-text v3 weighs these code points 1 (ranges 0-4351, 8192-8205, 8208-8223, 8242-8247), others 2.
_WEIGHS_TWO = regex.compile(r"[^\x00-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")
# A link without http(s):// needs a dot followed by its top-level domain; other scripts' full stops,
# characters twitter-text refuses and those beyond the BMP are left to twitter-text.
_MAY_BE_DOMAIN = regex.compile(r"\.\S")
_LEFT_TO_TWITTER_TEXT = regex.compile(r"[\u3002\uff0e\uff61\ufffe\ufeff\uffff\u202a-\u202e\U00010000-\U0010ffff]")


def x_length(text: str) -> int:
    """X's weighted length (twitter-text v3: URLs 23, emoji 2, CJK 2), after NFC normalisation.
    Every http(s) URL counts as a t.co link, also on domains twitter-text does not know."""
    text = _URL.sub(_T_CO, unicodedata.normalize("NFC", text))
    fast = _plain_length(text)
    if fast is not None:
        return fast
    from twitter_text import parse_tweet  # slow to import: only for a post the fast path cannot count
    from twitter_text.config import config

    if not _MAY_BE_EMOJI.search(text):
        return parse_tweet(text, {**config["defaults"], "emoji_parsing_enabled": False}).weightedLength
    return parse_tweet(text).weightedLength


def _plain_length(text: str) -> int | None:
    """twitter-text's count of a text (links already t.co) that holds no emoji and no link but the
    t.co ones (23 characters, as they count): its length, plus one for every character that weighs
    2. None for any other text. Tested against twitter-text over random texts."""
    if (_MAY_BE_DOMAIN.search(text.replace(_T_CO, " ")) or _LEFT_TO_TWITTER_TEXT.search(text)
            or _MAY_BE_EMOJI.search(text)):
        return None
    return len(text) + len(_WEIGHS_TWO.findall(text))


def threads_length(text: str) -> int:
    """Characters, but each emoji counts as its UTF-8 byte length. (Without an emoji that is the
    length of the text: one search instead of one per grapheme, which was most of a post's fitting.)"""
    if not _EMOJI.search(text):
        return len(text)
    return sum(len(g.encode("utf-8")) if _EMOJI.search(g) else len(g) for g in _GRAPHEME.findall(text))


def mastodon_length(text: str) -> int:
    """Graphemes, with every URL counting 23."""
    return graphemes(_URL.sub("x" * URL_WEIGHT, text))


def characters(text: str) -> int:
    return len(text)


@dataclass(frozen=True)
class Platform:
    """One platform's limits and how it counts."""

    name: str
    label: str
    limit: int
    count: Callable[[str], int]
    byte_limit: int | None = None   # Bluesky: 3,000 bytes as well as 300 graphemes
    max_hashtags: int = 30
    links: bool = True              # Instagram captions have no clickable links
    fold: int | None = None         # characters shown before "more" in the feed; None: the whole post

    def length(self, text: str) -> int:
        return self.count(text)

    def fits(self, text: str) -> bool:
        if self.byte_limit is not None and len(text.encode("utf-8")) > self.byte_limit:
            return False
        return self.count(text) <= self.limit


# What the feed shows before "more" (no platform documents it; these are the figures guides
# measure, approximate, and shorter with an image or on a narrow screen):
# - LinkedIn: about 210 characters or 3 lines, desktop and mobile alike since 2024 (John Espirian,
#   '"See more" breakpoints on LinkedIn posts', linkedin.com/pulse, Sept. 2024; web-3-apps.com
#   "LinkedIn post length": "truncates at ~210 characters").
# - Facebook: about 477 on desktop, about 125 on mobile, where most reading happens; the mobile
#   figure (socialk.it and typecount.com Facebook character counters).
# - Instagram: about 125, two lines (charactercounter.com/instagram; bulkpublish.com).
# X, Bluesky, Threads and Mastodon show a post within their limits whole.
LINKEDIN_FOLD, FACEBOOK_FOLD, INSTAGRAM_FOLD = 210, 125, 125


def platforms(mastodon_limit: int) -> dict[str, Platform]:
    return {
        "x": Platform("x", "X", 280, x_length),
        "linkedin": Platform("linkedin", "LinkedIn", 3000, characters, fold=LINKEDIN_FOLD),
        "facebook": Platform("facebook", "Facebook", 63206, characters, fold=FACEBOOK_FOLD),
        "instagram": Platform("instagram", "Instagram", 2200, characters, max_hashtags=5, links=False,
                              fold=INSTAGRAM_FOLD),
        "bluesky": Platform("bluesky", "Bluesky", 300, graphemes, byte_limit=3000),
        "threads": Platform("threads", "Threads", 500, threads_length),
        "mastodon": Platform("mastodon", "Mastodon", mastodon_limit, mastodon_length),
    }
