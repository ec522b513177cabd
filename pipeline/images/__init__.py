"""Images stage (after the articles are read, before the channels render): every image file under
content/static/ becomes files the channels can use (web widths in WebP and the source's own
format, an email file, link-preview and Instagram crops, and a clean copy at its own path), each
upright, in sRGB and without metadata; the raw file is never published. Derived files are made
once per source content and size (see store.py) and published as static artifacts."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.incremental import cache
from pipeline.errors import Finding, Location, WARNING
from pipeline.images.derive import (EXTENSION, MEDIA_TYPE, PIL_VERSION, VERSION, Source, Unreadable, Variant,
                                    cropped, derive, read_source, scaled, widths)
from pipeline.images.store import ImageStore
from pipeline.model import Article, Artifact, Site
from pipeline.parallel import map_ordered

WEB_WIDTHS = (480, 960, 1600)   # srcset candidates (never upscaled)
EMAIL_WIDTH = 1200              # an email image's file: 2x its 600 CSS px at most
PREVIEW = (1200, 630)           # og:image / twitter:image
INSTAGRAM = (1080, 1350)        # 4:5 portrait, Instagram's tallest feed image
MAX_SOURCE_BYTES = 20_000_000   # larger sources are a warning: the build reads them every time
LEAD_MIN_WIDTH = 1200           # a narrower lead image cannot fill the link preview
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif",
                  ".avif")
OWN_FORMAT = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}   # kept at its path


@dataclass(frozen=True)
class Derived:
    """One published file made from a source: its site path and the store key of its bytes."""

    path: str
    key: str
    variant: Variant
    source: str       # the site path of the image it is made from

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE[self.variant.format]

    @property
    def width(self) -> int:
        return self.variant.width

    @property
    def height(self) -> int:
        return self.variant.height


@dataclass(frozen=True)
class Picture:
    """A source image as published: `web` (WebP) and `fallback` (its own format) per width."""

    path: str
    source: Source
    sha256: str
    web: tuple[Derived, ...]
    fallback: tuple[Derived, ...]
    email: Derived
    clean: Derived | None   # at `path` itself; None when its format cannot be written back

    def crop(self, size: tuple[int, int], focus, label: str) -> Derived:
        return _derived(self.path, self.sha256, cropped(self.source, *size, focus, self.source.fallback), label)


def _derived(path: str, sha256: str, variant: Variant, label: str) -> Derived:
    key = cache.digest("image", VERSION, PIL_VERSION, sha256, variant.width, variant.height, variant.format,
                       variant.box)
    stem, _ = posixpath.splitext(path)
    return Derived(f"{stem}-{label}.{key[:10]}.{EXTENSION[variant.format]}", key, variant, path)


def picture_for(path: str, source: Source, sha256: str) -> Picture:
    sizes = widths(source, WEB_WIDTHS)
    web = tuple(_derived(path, sha256, scaled(source, w, "webp"), f"{w}w") for w in sizes)
    fallback = tuple(_derived(path, sha256, scaled(source, w, source.fallback), f"{w}w") for w in sizes)
    email = _derived(path, sha256, scaled(source, min(source.width, EMAIL_WIDTH), source.fallback),
                     f"{min(source.width, EMAIL_WIDTH)}w")
    own = OWN_FORMAT.get(source.format)
    clean = None
    if own is not None:
        variant = scaled(source, max(sizes), own)
        key = _derived(path, sha256, variant, "").key
        clean = Derived(path, key, variant, path)
    return Picture(path, source, sha256, web, fallback, email, clean)


@dataclass
class Images:
    """Every image of the site as published; what to tell the author; the files to publish."""

    base_path: str = "/"
    pictures: dict[str, Picture] = field(default_factory=dict)   # by site path (images/knee.jpg)
    findings: list[Finding] = field(default_factory=list)
    made: int = 0     # files encoded by this build
    store: ImageStore | None = None
    sources: dict[str, bytes] = field(default_factory=dict, repr=False)   # for a file found damaged late

    def lead(self, article: Article) -> Picture | None:
        return self.pictures.get(article.image) if article.image and "://" not in article.image else None

    def body(self, article: Article, src: str) -> Picture | None:
        """The picture a body image's src (as written) shows, if the site made it."""
        path = site_path(src, article, self.base_path)
        return self.pictures.get(path) if path is not None else None

    def preview(self, article: Article) -> Derived | None:
        """The article's og:image: a crop of its lead image (None: it has none the site made)."""
        picture = self.lead(article)
        return picture.crop(PREVIEW, article.image_focus, "og") if picture is not None else None

    def instagram(self, article: Article) -> Derived | None:
        picture = self.lead(article)
        return picture.crop(INSTAGRAM, article.image_focus, "instagram") if picture is not None else None

    def digest(self, article: Article) -> str:
        """Everything about the article's images that its outputs show (their published files);
        None when the site publishes none (then no output shows one, whatever its focus)."""
        if not self.pictures:
            return None
        used = [self.lead(article)] + [self.pictures.get(site_path(href, article, self.base_path) or "")
                                       for href in dict.fromkeys(article.links)]
        return cache.digest([p.sha256 if p else None for p in used], list(article.image_focus or ()))

    def derived(self, article_crops) -> list[Derived]:
        """Every file to publish: each picture's, and each article's two crops."""
        files: dict[str, Derived] = {}
        for picture in self.pictures.values():
            for item in picture.web + picture.fallback + (picture.email,) + ((picture.clean,) if picture.clean else ()):
                files[item.path] = item
        for item in article_crops:
            files[item.path] = item
        return list(files.values())

    def outputs(self, files: list[Derived]):
        """The files as the build's site-wide outputs ([(path, key)], make), the bytes read from
        the store only for a file the output folder lacks."""
        for item in files:
            yield [(f"site/{item.path}", item.key)], (lambda item=item: [Artifact(
                f"site/{item.path}", self.bytes_of(item), "blog", item.media_type, for_readers=False)])

    def bytes_of(self, item: Derived) -> bytes:
        data = self.store.read(item.key)
        if data is None:   # removed or damaged since it was made: made again
            source = self.sources[item.source]
            data = derive(source, [item.variant])[0]
            self.store.put(item.key, EXTENSION[item.variant.format], data)
            self.made += 1
        return data


def site_path(href: str, article: Article, base_path: str) -> str | None:
    """The site-relative path a link in the article's body leads to, or None (another site)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    target = posixpath.normpath(posixpath.join(base_path + article.path, unquote(parts.path)))
    base = base_path.rstrip("/")
    if not target.startswith(base + "/"):
        return None
    return target[len(base) + 1:]


def prepare_images(site: Site, statics: list[Artifact], folder: Path | None, prune: bool = False) -> tuple:
    """(images, kept, published): the site's images, the static artifacts left to publish as
    they are (the raw image files taken out) and every derived file to publish, each made where
    the store (in `folder`) lacks it, in parallel. `prune`: the store then keeps only these."""
    base = site.config.base_path
    images = Images(base, store=ImageStore(folder))
    files = {a.path[len("site/"):]: a for a in statics if a.path.startswith("site/")
             and not a.path.startswith("site/static/")}
    uses: dict[str, list] = {}   # site path -> [(article, href or None for the lead image)]
    for article in site.articles:
        if article.image and "://" not in article.image:
            uses.setdefault(article.image, []).append((article, None))
        for href in dict.fromkeys(article.links):
            path = site_path(href, article, base)
            if path in files:
                uses.setdefault(path, []).append((article, href))
    kept = []
    for artifact in statics:
        path = artifact.path[len("site/"):]
        if path.lower().endswith(".svg"):   # a drawing, published as it is: pages show it at any size
            for article, href in uses.get(path, []):
                if href is None:
                    images.findings.append(_at(site, article, None, f"content/static/{path} is an SVG drawing, "
                                               f"which link previews and email programs do not show; use a JPEG "
                                               f"or PNG as lead image (the drawing can go in the body)", "error"))
        if artifact.path.startswith("site/static/") or path.lower().endswith(".svg") or \
                not (path.lower().endswith(IMAGE_SUFFIXES) or path in uses):
            kept.append(artifact)
            continue
        if _add(images, site, path, artifact, uses.get(path, [])):
            kept.append(artifact)
    crops = []
    for article in site.articles:
        crops += [d for d in (images.preview(article), images.instagram(article)) if d is not None]
    published = images.derived(crops)
    _make_missing(images, published)
    if prune:
        images.store.prune({item.key for item in published})
    return images, kept, published


def _add(images: Images, site: Site, path: str, artifact: Artifact, uses: list) -> list | None:
    where = f"content/static/{path}"
    try:
        source = read_source(artifact.content)
    except Unreadable as exc:
        if not uses:
            images.findings.append(Finding(Location(where), f"{path} {exc}; it is not published", WARNING))
        for article, href in uses:
            images.findings.append(_at(site, article, href, f"{where} {exc}", "error"))
        return uses   # the build fails: the file stays among the paths links are checked against
    images.pictures[path] = picture_for(path, source, artifact.sha256)
    images.sources[path] = artifact.content
    size = len(artifact.content)
    for article, href in uses:
        if size > MAX_SOURCE_BYTES:
            images.findings.append(_at(site, article, href, f"{where} is {size / 1e6:.1f} MB; keep images under "
                                       f"{MAX_SOURCE_BYTES // 1_000_000} MB (export at most 4000 px wide)", WARNING))
        if href is None and source.width < LEAD_MIN_WIDTH:
            images.findings.append(_at(site, article, href, f"{where} is {source.width} px wide; a lead image "
                                       f"should be at least {LEAD_MIN_WIDTH} px wide so link previews are sharp",
                                       WARNING))


def _at(site: Site, article: Article, href: str | None, message: str, severity: str) -> Finding:
    """A finding at the image's front-matter line (href None) or where the body links to it."""
    whole = site.whole(article)
    if href is None:
        location = whole.front.location(("image",))
        return Finding(location, "image: " + message, severity, source=whole.front.source(location))
    for number in range(whole.body_line, len(whole.lines) + 1):
        col = whole.lines[number - 1].find(href)
        if col >= 0:
            return Finding(Location(whole.source, number, col + 1), message, severity, source=whole.lines[number - 1])
    return Finding(Location(whole.source, whole.body_line), message, severity)


def _make_missing(images: Images, published: list[Derived]) -> None:
    """Encode every file the store lacks, one job per source (decoded once), spread over the workers."""
    todo: dict[str, dict[str, Derived]] = {}   # source -> key -> a file made from it
    for item in published:
        if not images.store.has(item.key):
            todo.setdefault(item.source, {})[item.key] = item
    todo = {path: list(items.values()) for path, items in todo.items()}
    jobs = [(images.sources[path], [item.variant for item in items]) for path, items in todo.items()]
    for items, results in zip(todo.values(), map_ordered(_derive_job, jobs, None, probe=False)):
        for item, data in zip(items, results):
            images.store.put(item.key, EXTENSION[item.variant.format], data)
            images.made += 1


def _derive_job(_, job) -> list[bytes]:
    data, variants = job
    return derive(data, variants)
