"""Link-preview cards: a 1200x630 PNG with the article's title and the clinic's name (Pillow),
for articles without an image of their own. Deterministic: the same title gives the same bytes."""

from __future__ import annotations

import io
import zlib
from functools import lru_cache
import textwrap

import PIL   # the package alone, for its version: Image and its drawing modules are imported when a
            # card is drawn or an image measured (a rebuild that draws none never needs them)

WIDTH, HEIGHT = 1200, 630
BACKGROUND = (20, 54, 92)
ACCENT = (111, 181, 255)
TEXT = (255, 255, 255)
MARGIN = 80
PIL_VERSION = PIL.__version__   # the cards' bytes depend on its default font and PNG encoder


@lru_cache(maxsize=None)
def _font(size: int):
    from PIL import ImageFont
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=None)
def _average_width(size: int) -> float:
    return _font(size).getlength("abcdefghijklmnopqrstuvwxyz") / 26


def _fit_title(draw, title: str) -> tuple:
    """The largest font size at which the title fits in at most four lines."""
    for size in (72, 64, 56, 48, 42, 36):
        font = _font(size)
        average = _average_width(size)
        lines = textwrap.wrap(title, width=max(8, int((WIDTH - 2 * MARGIN) / average)))
        if len(lines) <= 4 and all(draw.textlength(line, font=font) <= WIDTH - 2 * MARGIN for line in lines):
            return font, lines
    lines = textwrap.wrap(title, width=48)[:4]
    if len(textwrap.wrap(title, width=48)) > 4:
        lines[-1] = lines[-1].rstrip(" .,;:") + "\u2026"
    return _font(36), lines


def _palette() -> list[int]:
    """Indexes 0-254 blend the background into white (anti-aliased text); 255 is the accent."""
    palette = []
    for index in range(255):
        share = index / 254
        palette += [round(b + (t - b) * share) for b, t in zip(BACKGROUND, TEXT)]
    return palette + list(ACCENT)


_PALETTE = _palette()
WHITE, SOFT, ACCENT_INDEX = 254, 170, 255


@lru_cache(maxsize=4)
def _blank(organization: str, site_title: str):
    """What every card of the site shows (the accent bar, the site's title, the clinic's name),
    drawn once: a card starts from a copy. The title's lines, drawn after, stay clear of both."""
    from PIL import Image, ImageDraw
    image = Image.new("P", (WIDTH, HEIGHT), 0)
    image.putpalette(_PALETTE)
    draw = ImageDraw.Draw(image)
    # Pillow draws text in palette mode without anti-aliasing unless asked: each glyph's coverage
    # then picks an index between the background (0) and the text's index, as the palette blends.
    draw.fontmode = "L"
    draw.rectangle((0, 0, 24, HEIGHT), fill=ACCENT_INDEX)
    draw.text((MARGIN, MARGIN - 10), site_title, font=_font(30), fill=SOFT)
    draw.text((MARGIN, HEIGHT - MARGIN - 20), organization, font=_font(34), fill=WHITE)
    return image


def render_card(title: str, organization: str, site_title: str) -> bytes:
    """Drawn in palette mode: a third of the pixels of RGB to encode, and a small file."""
    from PIL import ImageDraw
    image = _blank(organization, site_title).copy()
    draw = ImageDraw.Draw(image)
    draw.fontmode = "L"
    font, lines = _fit_title(draw, title)
    line_height = int(font.size * 1.2)
    top = (HEIGHT - line_height * len(lines)) // 2
    for index, line in enumerate(lines):
        draw.text((MARGIN, top + index * line_height), line, font=font, fill=WHITE)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6, compress_type=zlib.Z_RLE)  # flat colours: RLE, quick and enough
    return out.getvalue()

