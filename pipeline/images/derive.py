"""Image derivation (Pillow): what a source file is, and each published file made from it, upright,
in sRGB, with no metadata block (EXIF, GPS, XMP, ICC, text chunks) and encoded deterministically:
the same source and Variant give the same bytes."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import PIL

VERSION = "1"   # of the derivation below: a change to it must change this (stored files are keyed on it)
PIL_VERSION = PIL.__version__   # encoders' output may differ between Pillow versions

# Formats whose file a browser shows and Pillow can both read and write; the first of a source's
# two web formats is WebP, the second its own (FALLBACK).
FALLBACK = {"JPEG": "jpeg", "PNG": "png", "GIF": "png", "WEBP": "jpeg", "TIFF": "jpeg", "BMP": "jpeg",
            "MPO": "jpeg", "AVIF": "jpeg"}
EXTENSION = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}
MEDIA_TYPE = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}


class Unreadable(Exception):
    """The file is not an image the pipeline can read; the message says what it is and what to do."""


@dataclass(frozen=True)
class Source:
    """What a source image is, read from its header: its size once upright, its format."""

    width: int
    height: int
    format: str       # Pillow's name: JPEG, PNG, ...
    alpha: bool

    @property
    def fallback(self) -> str:
        """The widely shown format its derived files use beside WebP (and email uses alone)."""
        return "png" if self.alpha else FALLBACK.get(self.format, "jpeg")


@dataclass(frozen=True)
class Variant:
    """One file derived from a source: `box` (left, top, right, bottom, in fractions of the
    upright source) scaled to exactly width x height, encoded as `format`."""

    width: int
    height: int
    format: str       # jpeg, png, webp, gif
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)


def sniff(data: bytes) -> str | None:
    """The name of a format the pipeline cannot read, known by its first bytes; else None."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "HEIC"
        if brand in (b"avif", b"avis") and not _has_avif():
            return "AVIF"
    return None


def _has_avif() -> bool:
    from PIL import features
    return bool(features.check("avif"))


def read_source(data: bytes) -> Source:
    """The source's upright size and format from its header (no pixels are decoded). Raises
    Unreadable for a file Pillow cannot read."""
    special = sniff(data)
    if special:
        raise Unreadable(f"is a {special} file, which the pipeline cannot read and most browsers and email "
                         f"programs cannot show; export it as JPEG (on an iPhone: Settings > Camera > Formats > "
                         f"Most Compatible, or share the photo as JPEG) and use that file")
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if _orientation(image) in (5, 6, 7, 8):
                width, height = height, width
            alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or \
                (image.mode == "P" and "transparency" in image.info)
            return Source(width, height, image.format or "", alpha)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        detail = "" if isinstance(exc, UnidentifiedImageError) else f" ({exc})"
        raise Unreadable(f"is not an image the pipeline can read{detail}; export it as JPEG or PNG") from None


def _orientation(image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block: shown as stored
        return 1


def widths(source: Source, wanted: tuple[int, ...]) -> list[int]:
    """The wanted widths the source can give without upscaling (its own width instead of larger ones)."""
    return sorted({min(width, source.width) for width in wanted})


def scaled(source: Source, width: int, fmt: str) -> Variant:
    return Variant(width, max(1, round(source.height * width / source.width)), fmt)


def cropped(source: Source, width: int, height: int, focus: tuple[float, float] | None, fmt: str) -> Variant:
    """The largest width:height region around `focus` (fractions; default the centre), scaled to
    width x height, or to the region's own size when it is smaller (never upscaled)."""
    fx, fy = focus or (0.5, 0.5)
    ratio = width / height
    region_w = min(source.width, source.height * ratio)
    region_h = region_w / ratio
    left = min(max(fx * source.width - region_w / 2, 0), source.width - region_w)
    top = min(max(fy * source.height - region_h / 2, 0), source.height - region_h)
    box = (left / source.width, top / source.height, (left + region_w) / source.width,
           (top + region_h) / source.height)
    if region_w < width:
        width, height = max(1, math.floor(region_w)), max(1, math.floor(region_h))
    return Variant(width, height, fmt, tuple(round(x, 6) for x in box))


def derive(data: bytes, variants: list[Variant]) -> list[bytes]:
    """Each variant's file, the source decoded once (JPEG at the smallest scale all of them allow)."""
    from PIL import Image, ImageOps
    with Image.open(io.BytesIO(data)) as image:
        orientation = _orientation(image)
        if image.format == "JPEG":
            need_w = max(v.width / (v.box[2] - v.box[0]) for v in variants)
            need_h = max(v.height / (v.box[3] - v.box[1]) for v in variants)
            if orientation in (5, 6, 7, 8):
                need_w, need_h = need_h, need_w
            image.draft(None, (math.ceil(need_w), math.ceil(need_h)))
        image.load()
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image
        if upright.mode.startswith(("I", "F")):   # 16-bit and float greys: to 8 bits
            upright = upright.point(lambda v: v / 256).convert("L")
        if upright.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
            upright = upright.convert("RGBA" if "transparency" in upright.info or upright.mode.endswith("A")
                                      else "RGB")
        made: dict = {}   # (size, box) -> the pixels, resampled and in sRGB: shared by both formats of a width
        for v in variants:
            if (v.width, v.height, v.box) not in made:
                made[v.width, v.height, v.box] = _to_srgb(_resample(upright, v), icc)
        return [_encode(made[v.width, v.height, v.box].copy(), v.format) for v in variants]


def _resample(image, variant: Variant):
    from PIL import Image
    w, h = image.size
    box = (variant.box[0] * w, variant.box[1] * h, variant.box[2] * w, variant.box[3] * h)
    return image.resize((variant.width, variant.height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)


def _to_srgb(image, icc: bytes | None):
    """RGB(A) in sRGB: an embedded colour profile converted from, then dropped with the rest."""
    from PIL import ImageCms
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if image.mode in ("RGBA", "LA") else "RGB"
            if image.mode == "LA":
                image = image.convert("RGBA")
            if image.mode == "L" and source.profile.xcolor_space.strip() != "GRAY":
                raise ImageCms.PyCMSError("profile does not match the pixels")
            image = ImageCms.profileToProfile(image, source, _SRGB(), outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass   # an unusable profile: the pixels are taken as sRGB
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image


_SRGB_PROFILE = []


def _SRGB():
    if not _SRGB_PROFILE:
        from PIL import ImageCms
        _SRGB_PROFILE.append(ImageCms.createProfile("sRGB"))
    return _SRGB_PROFILE[0]


def _encode(image, fmt: str) -> bytes:
    """Fixed settings and no metadata: `info` is emptied so no encoder copies a block from it."""
    image.info = {}
    out = io.BytesIO()
    if fmt == "jpeg":
        if image.mode == "RGBA":
            image = _flatten(image)
        image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=80, method=4, exact=False)
    elif fmt == "png":
        image.save(out, "PNG", compress_level=6)
    elif fmt == "gif":
        image.convert("P", palette=1, colors=255).save(out, "GIF")
    else:
        raise ValueError(fmt)
    return out.getvalue()


def _flatten(image):
    from PIL import Image
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, mask=image.getchannel("A"))
    return flat
