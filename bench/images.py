#!/usr/bin/env python3
"""Benchmark of the images stage: 100 articles, each with its own 4000x3000 phone photo (EXIF with
GPS and an orientation) as lead image and in its body. Times a cold build (nothing stored), a
rebuild with nothing changed and a rebuild after one article's text changed (no image is encoded
again), each as `python3 -m pipeline build` in a fresh process. CPU-heavy: a script, not a test.

    python3 bench/images.py [--posts 100] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOW = "2026-11-24T12:00:00"


def photo(seed: int) -> bytes:
    """A 4000x3000 JPEG as a phone writes it (quality 92, EXIF with camera, GPS, orientation)."""
    from PIL import Image, ImageDraw, ImageFilter
    rng = random.Random(seed)
    small = Image.effect_noise((500, 375), 60).convert("RGB")
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y = rng.randrange(500), rng.randrange(375)
        draw.ellipse((x, y, x + rng.randrange(20, 160), y + rng.randrange(20, 160)),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    image = small.filter(ImageFilter.GaussianBlur(2)).resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((4000, 3000), 25).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    exif = Image.Exif()
    exif[0x0112] = rng.choice((1, 6))
    exif[0x010F], exif[0x0110] = "PhoneMaker", "Phone 15"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (41.0, 46.0, 12.5), "W", (72.0, 40.0, 33.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def make_project(root: Path, posts: int) -> int:
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "static" / "images").mkdir(parents=True)
    for name in ("site.yaml", "compliance.yaml"):
        shutil.copy(REPO / "content" / name, root / "content" / name)
    total = 0
    for number in range(posts):
        data = photo(number)
        total += len(data)
        (root / "content" / "static" / "images" / f"photo-{number:03}.jpg").write_bytes(data)
        (root / "content" / "posts" / f"post-{number:03}.md").write_text(
            f"---\ntitle: Exercise {number} for stiff knees\ndate: 2026-0{1 + number % 9}-{1 + number % 28:02}\n"
            f"image: images/photo-{number:03}.jpg\nimage_alt: A patient doing exercise {number}\n---\n\n"
            f"Gentle movement through the day keeps a stiff knee moving, step {number}.\n\n"
            f"![The exercise, step by step](../images/photo-{number:03}.jpg)\n", encoding="utf-8")
    return total


def timed(root: Path, *args: str) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipeline", "--project", str(root), "build", "--now", NOW, *args],
                            capture_output=True, text=True, env=env)
    wait = f"from pathlib import Path; from pipeline.incremental.saves import wait; wait(Path({str(root)!r}))"
    subprocess.run([sys.executable, "-c", wait], env=env, check=True)   # the saves the next build reads
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr)
    note = next((line for line in result.stderr.splitlines() if "images:" in line), "")
    return elapsed, note


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-images-")) / "site"
    try:
        size = make_project(root, args.posts)
        print(f"{args.posts} articles, {size / 1e6:.0f} MB of 4000x3000 JPEG sources, {os.cpu_count()} cores", flush=True)
        for label, extra in (("cold build", ()), ("no-change rebuild", ()), ("one article changed", ())):
            if label == "one article changed":
                post = root / "content" / "posts" / "post-000.md"
                post.write_text(post.read_text().replace("step 0.", "step zero."))
            seconds, note = timed(root, *extra)
            print(f"{label}: {seconds:.2f} s  {note}", flush=True)
        output = root / "output" / "site" / "images"
        files = list(output.iterdir())
        print(f"published: {len(files)} image files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB")
    finally:
        if not args.keep:
            shutil.rmtree(root.parent)


if __name__ == "__main__":
    main()
