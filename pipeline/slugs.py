"""Slugs: the ASCII, lowercase, hyphenated names that become URL paths. Never trusted from input."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_LENGTH = 80
# Top-level names the blog generates itself; an article slug may not take them.
RESERVED = frozenset({"tags", "page", "static", "feed.xml", "atom.xml", "sitemap.xml", "robots.txt",
                      "index.html", "404", "404.html", "feed", "atom", "sitemap", "robots", "_preview",
                      "images", "favicon.ico", "og"})
# Names Windows keeps for devices: a folder of that name (any case, with or without an extension)
# cannot be created or checked out there.
WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)),
                             *(f"lpt{n}" for n in range(1, 10))})


def device_name(slug: str) -> bool:
    """Is `slug` (or its part before a first dot) a Windows device name, in any case?"""
    return slug.split(".", 1)[0].lower() in WINDOWS_DEVICES


def reserved_reason(slug: str) -> str | None:
    """Why `slug` cannot name a folder of the output (None: it can)."""
    if slug in RESERVED:
        return f"'{slug}' is a name the site uses itself"
    if device_name(slug):
        return f"'{slug}' is a device name on Windows, where a folder of that name cannot be checked out"
    return None


@lru_cache(maxsize=8192)   # tags repeat across thousands of articles
def slugify(text: str) -> str:
    """'Dry Needling: Ça va?' -> 'dry-needling-ca-va'; '' when nothing ASCII is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.replace("'", "").replace("\u2019", "")).strip("-")
    if len(slug) > MAX_LENGTH:
        slug = slug[:MAX_LENGTH].rsplit("-", 1)[0] if "-" in slug[:MAX_LENGTH] else slug[:MAX_LENGTH]
    return slug
