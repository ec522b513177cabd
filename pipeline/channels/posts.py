"""The words of a social post, written from the article's whole sentences: its title, then the
sentences of its summary and opening paragraph that fit the platform, and on the platforms with
room (LinkedIn, Facebook, Instagram) two or three of its key points as short lines. A sentence
or a point is used whole or not at all: no post is cut mid-word or ends in an ellipsis.

How much a platform takes (its `style`):
- "one": X and Bluesky: the title and the first sentence that fits, or the title alone.
- "all": Threads and Mastodon: the title and as many sentences as fit, in order.
- "points": LinkedIn, Facebook and Instagram: the title, the summary, the rest of the opening
  paragraph when all of it stays within the platform's fold (what shows before "more",
  lengths.Platform.fold), then the key points."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

import lxml.html

from pipeline.lengths import Platform
from pipeline.sentences import is_whole, split
from pipeline.text import readable_text

STYLES = {"x": "one", "bluesky": "one", "threads": "all", "mastodon": "all",
          "linkedin": "points", "facebook": "points", "instagram": "points"}
POINT_LENGTH = 100     # characters: a key point is a short line, never a paragraph
POINTS = (2, 3)        # at least and at most; a single point is no list
LEAD_LENGTH = 160      # characters: the longest sentence that may lead into the points
BULLET = "\u2022 "
_NUMBERED = re.compile(r"^\(?\d{1,2}[.):]\s+")
_HEADINGS = ("h2", "h3", "h4")


@dataclass(frozen=True)
class Material:
    """What an article's posts are written from."""

    title: str
    summary: tuple[str, ...]   # the summary's whole sentences
    opening: tuple[str, ...]   # the opening paragraph's whole sentences not in the summary
    points: tuple[str, ...]    # key points: whole headings or list items, short
    openers: frozenset = frozenset()   # the sentences that open the summary or the paragraph: the
                                       # only ones a post may start with (the others may lean on them)
    lead: str = ""             # the sentence that introduces the points' list when it ends in a
                               # colon ("... which then:"): the items lean on it, so they go with it


def material(article, language: str) -> Material:
    """The title, sentences and key points of `article` (loaded whole)."""
    title = article.title.strip().rstrip(":;,\u2014\u2013- ").strip()
    authored = isinstance(article.front.data, dict) and bool(article.front.data.get("summary"))
    summary = _whole(split(_collapse(article.summary), language), authored)
    seen = {_key(s) for s in summary} | {_key(title)}
    root = lxml.html.fragment_fromstring(article.html, create_parent="div") if article.html.strip() else None
    opening = []
    openers = {summary[0]} if summary else set()
    first = next((el for el in root if el.tag == "p"), None) if root is not None else None
    if first is not None:
        pieces = split(readable_text(first), language)
        if pieces and is_whole(pieces[0]):
            openers.add(pieces[0])
        for sentence in _whole(pieces, False):
            if _key(sentence) not in seen:
                seen.add(_key(sentence))
                opening.append(sentence)
    summary = tuple(dict.fromkeys(s for s in summary if _key(s) != _key(title)))
    lead, found = key_points(root, language) if root is not None else ("", [])
    points = tuple(p for p in found if _key(p) not in seen)
    return Material(title, summary, tuple(opening), points, frozenset(openers), lead=lead if points else "")


def _whole(sentences: list[str], authored: bool) -> list[str]:
    """The whole sentences, in order, once each. The last piece of an author's own summary is
    whole as written (a period is added to one that ends in a letter or digit); of a summary
    made by cutting the first paragraph, it is not."""
    out = []
    for index, sentence in enumerate(sentences):
        if authored and index == len(sentences) - 1 and not is_whole(sentence):
            if sentence.endswith(("...", "\u2026", ":", ";", ",")):
                continue
            sentence = sentence + "." if sentence[-1:].isalnum() else sentence
        elif not is_whole(sentence):
            continue
        if sentence not in out:
            out.append(sentence)
    return out


def key_points(root, language: str = "en") -> tuple[str, list[str]]:
    """Two or three key points, with the sentence that leads into them (or ""): the headings when
    they are numbered (a list article), else the items of the first list with two that fit (a
    list whose paragraph ends in a colon comes with that sentence, or is passed over when the
    sentence is too long to carry), else the headings; each whole and short."""
    levels = [[_plain(h) for h in root if h.tag == tag] for tag in _HEADINGS]
    headings = next((level for level in levels if len([h for h in level if _usable(h)]) >= POINTS[0]), [])
    numbered = sum(1 for h in headings if _NUMBERED.match(h)) >= POINTS[0]
    headings = [_NUMBERED.sub("", h) for h in headings]
    if numbered:
        return "", _usable_points(headings)
    for element in root:
        if element.tag in ("ul", "ol"):
            items = _usable_points([_item_text(li) for li in element if li.tag == "li"])
            lead = _lead(element, language)
            if len(items) >= POINTS[0] and lead is not None:
                return lead, items
    return "", _usable_points(headings)


def _lead(listing, language: str) -> str | None:
    """The last sentence of the paragraph just before a list when it ends in a colon, "" when the
    list stands on its own, None when that sentence is too long to go into a post."""
    before = listing.getprevious()
    if before is None or before.tag != "p":
        return ""
    sentences = split(_collapse(_plain(before)), language)
    last = sentences[-1] if sentences else ""
    if not last.endswith(":"):
        return ""
    return last if len(last) <= LEAD_LENGTH else None


def _usable_points(texts: list[str]) -> list[str]:
    usable = [t for t in texts if _usable(t)]
    return usable[: POINTS[1]] if len(usable) >= POINTS[0] else []


def _usable(text: str) -> bool:
    return len(text) <= POINT_LENGTH and len(text.split()) >= 2 and not text.endswith((":", ";", ",", "\u2026", "..."))


def _item_text(li) -> str:
    li = _copy(li)
    for nested in li.findall(".//ul") + li.findall(".//ol"):
        nested.getparent().remove(nested)
    return _plain(li, copy=False)


def _copy(element):
    import copy
    return copy.deepcopy(element)


def _plain(element, copy: bool = True) -> str:
    return readable_text(element, copy_first=copy).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _key(text: str) -> str:
    """A sentence's identity for leaving out repeats: case, punctuation and spacing aside."""
    return " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def body(title: str, sentences: list[str], points: list[str], lead: str = "") -> str:
    """The post's words: the title on its own line (left out when the first sentence opens with
    it), the sentences as one paragraph, the points one per line after their lead."""
    parts = []
    if title and not (sentences and _key(sentences[0]).startswith(_key(title))):
        parts.append(title)
    if sentences:
        parts.append(" ".join(sentences))
    if points:
        parts.append("\n".join(([lead] if lead else []) + [BULLET + p for p in points]))
    return "\n\n".join(parts)


def write(stuff: Material, platform: Platform, make: Callable[[str], str]) -> str | None:
    """The whole post (`make` puts the words into the template, with the disclaimers, link and
    hashtags) with the most of `stuff` that fits, or None when not even the title or one
    sentence does."""
    style = STYLES.get(platform.name, "all")
    candidates = list(stuff.summary) + list(stuff.opening)
    openers = [s for s in candidates if s in stuff.openers]

    def fits(sentences, points=()):
        return platform.fits(make(body(stuff.title, list(sentences), list(points), stuff.lead)))

    if style == "one":
        chosen = next(([s] for s in openers if fits([s])), None)
        if chosen is None and not (stuff.title and fits([])):
            return _alone(stuff, platform, make)
        return make(body(stuff.title, chosen or [], []))
    chosen: list[str] = []
    for index, sentence in enumerate(candidates):
        if not chosen and sentence not in stuff.openers:
            continue   # a post opens as its summary or paragraph does
        if index >= len(stuff.summary) and chosen and platform.fold:
            # Above the fold the rest of the opening paragraph joins the summary whole, or not at
            # all: a sentence that sets up the next one never goes without it.
            rest = candidates[index:]
            if len(body(stuff.title, chosen + rest, [])) <= platform.fold and fits(chosen + rest):
                chosen += rest
            break
        if fits(chosen + [sentence]):
            chosen.append(sentence)
        elif chosen:
            break   # a sentence left out is never skipped over: the text reads in order
    if not chosen and not (stuff.title and fits([])):
        return _alone(stuff, platform, make)
    points: list[str] = []
    if style == "points":
        for point in stuff.points:
            if len(points) < POINTS[1] and fits(chosen, points + [point]):
                points.append(point)
        points = points if len(points) >= POINTS[0] else []
    return make(body(stuff.title, chosen, points, stuff.lead))


def _alone(stuff: Material, platform: Platform, make) -> str | None:
    """When the title does not fit: the first sentence that opens the summary or paragraph and
    fits on its own."""
    for sentence in [s for s in list(stuff.summary) + list(stuff.opening) if s in stuff.openers]:
        text = make(body("", [sentence], []))
        if platform.fits(text):
            return text
    return None
