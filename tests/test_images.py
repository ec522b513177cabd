"""Images: one file in content/static/, and every channel gets a right-sized, upright file without
metadata; what cannot be used is an error at the line that uses it. Every output image is read
back with Pillow; the page's choice of candidate is checked in Chromium."""

from __future__ import annotations

import io
import json
import struct
from email import policy
from email.parser import BytesParser

import lxml.html
import pytest
from PIL import Image

from conftest import NOW, build, cli, make_project, post, tree

SERIAL = "CAMSERIAL-0042"


def phone_photo(width=1600, height=1200, orientation=6, fmt="JPEG", extra=b"") -> bytes:
    """A photo as a phone stores it: landscape pixels with an orientation tag, camera make and
    serial, a GPS position and an XMP block. Its stored top-left quarter is red, the rest grey."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif.get_ifd(0x8769)[0xA431] = SERIAL   # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (41.0, 46.0, 12.5), "W", (72.0, 40.0, 33.0)
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="41,46N"/></rdf:RDF></x:xmpmeta>'
    image.save(out, fmt, exif=exif, xmp=xmp, quality=90)
    return out.getvalue() + extra


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x, y, z) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def swapped_profile() -> bytes:
    """An ICC v2 RGB profile whose red and blue primaries are sRGB's blue and red: its (255, 0, 0)
    is sRGB's (0, 0, 255)."""
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"
    name = b"Swapped RGB"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name) + 1) + name + b"\0" * 79
    tags = [(b"desc", desc), (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", _xyz(0.1431, 0.0606, 0.7141)),
            (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)), (b"bXYZ", _xyz(0.4361, 0.2225, 0.0139)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 28 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data


def site_with(tmp_path, files: dict, **fields) -> object:
    body = fields.pop("body", "Knees carry a lot.")
    return make_project(tmp_path / "site", {"knee.md": post("Knee Basics", "2026-05-01", body, **fields)},
                        files={f"content/static/{name}": data for name, data in files.items()})


def published_images(out) -> dict[str, bytes]:
    return {path: data for path, data in tree(out / "site").items() if path.startswith("images/")}


def assert_clean(path: str, data: bytes) -> Image.Image:
    """The file decodes as the format its name says, with no metadata block."""
    image = Image.open(io.BytesIO(data))
    image.load()
    expected = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[path.rsplit(".", 1)[1]]
    assert image.format == expected, path
    assert not dict(image.getexif()), path
    for block in ("exif", "xmp", "icc_profile", "XML:com.adobe.xmp", "photoshop", "comment"):
        assert block not in image.info, (path, block)
    assert not getattr(image, "text", {}), path
    for secret in (SERIAL.encode(), b"PhoneMaker", b"GPSLatitude", b"41,46N"):
        assert secret not in data, (path, secret)
    return image


def test_a_phone_photo_is_published_upright_resized_and_without_gps_or_camera_data(tmp_path):
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo()}, image="images/knee.jpg",
                        image_alt="A knee", body="Text.\n\n![A knee](/blog/images/knee.jpg)")
    result = build(project)
    assert result.exit_code == 0, result.output
    files = published_images(project / "output")
    # 480, 960 and the source's own 1200 (never upscaled) in WebP and JPEG, the email's 1200,
    # the two crops, and a clean copy at the source's own path.
    assert sorted(p.split(".")[0] for p in files) == sorted(
        ["images/knee-480w"] * 2 + ["images/knee-960w"] * 2 + ["images/knee-1200w"] * 2 +
        ["images/knee-og", "images/knee-instagram", "images/knee"])
    for path, data in files.items():
        image = assert_clean(path, data).convert("RGB")
        if "-og." not in path and "-instagram." not in path:   # not a crop: the whole photo, upright
            assert image.height > image.width, path
            # Stored top-left (red) is shown top-right once turned 90 degrees clockwise.
            assert image.getpixel((image.width * 3 // 4, image.height // 4))[0] > 200, path
            assert image.getpixel((image.width // 4, image.height // 4))[0] < 160, path
    assert Image.open(io.BytesIO(files["images/knee.jpg"])).size == (1200, 1600)
    assert "images: 8 files made, 0 reused" in result.stderr   # the clean copy is the 1200w file


def test_page_images_have_srcset_width_height_and_lazy_loading_but_the_lead_image(tmp_path):
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo(2000, 1500, orientation=1),
                                   "images/hip.png": _png(700, 300)},
                        image="images/knee.jpg", image_alt="A knee",
                        body="Text.\n\n![A hip](../images/hip.png \"Hip\")")
    assert build(project).exit_code == 0
    out = project / "output" / "site"
    page = lxml.html.fromstring((out / "knee-basics" / "index.html").read_bytes())
    lead, body = page.xpath("//article//img")
    assert lead.get("class") == "lead-image" and lead.get("loading") is None and lead.get("alt") == "A knee"
    assert (lead.get("width"), lead.get("height")) == ("960", "720")
    assert (body.get("loading"), body.get("decoding"), body.get("title")) == ("lazy", "async", "Hip")
    assert (body.get("width"), body.get("height"), body.get("alt")) == ("700", "300", "A hip")
    for img in (lead, body):
        sources = img.xpath("ancestor::picture//source[@type='image/webp']")
        for srcset in (img.get("srcset"), sources[0].get("srcset")):
            for candidate in srcset.split(", "):
                url, width = candidate.split(" ")
                data = (out / url[len("/blog/"):]).read_bytes()
                assert Image.open(io.BytesIO(data)).width == int(width[:-1])
        assert img.get("sizes")
    assert [c.split(" ")[1] for c in lead.get("srcset").split(", ")] == ["480w", "960w", "1600w"]
    assert [c.split(" ")[1] for c in body.get("srcset").split(", ")] == ["480w", "700w"]
    assert ".png " in body.get("srcset")   # a PNG stays PNG beside its WebP


def _png(width, height, alpha=False) -> bytes:
    from PIL import PngImagePlugin
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (10, 120, 200, 128) if alpha else (10, 120, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Dr Private")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPSLatitude 41,46N</x:xmpmeta>")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_an_embedded_colour_profile_is_converted_to_srgb_and_text_chunks_are_dropped(tmp_path):
    red = Image.new("RGB", (600, 400), (255, 0, 0))
    tagged = io.BytesIO()
    red.save(tagged, "JPEG", icc_profile=swapped_profile(), quality=95)
    project = site_with(tmp_path, {"images/tagged.jpg": tagged.getvalue(), "images/chart.png": _png(500, 300)},
                        body="![A](/blog/images/tagged.jpg) ![B](/blog/images/chart.png)")
    assert build(project).exit_code == 0
    files = published_images(project / "output")
    for path, data in files.items():
        image = assert_clean(path, data)
        if "tagged" in path:   # the profile's red is sRGB's blue
            r, g, b = image.convert("RGB").getpixel((10, 10))
            assert b > 200 and r < 60, path
        assert b"Dr Private" not in data
    assert any(p.startswith("images/chart-500w.") and p.endswith(".png") for p in files)


def test_link_previews_are_crops_at_the_focus_point_and_instagram_gets_a_4_to_5_crop(tmp_path):
    wide = Image.new("RGB", (3000, 1000), (0, 0, 255))
    wide.paste((255, 0, 0), (2000, 0, 3000, 1000))   # the right third is red
    data = io.BytesIO()
    wide.save(data, "JPEG", quality=90)
    project = site_with(tmp_path, {"images/wide.jpg": data.getvalue()}, image="images/wide.jpg",
                        image_alt="Wide", image_focus="[0.95, 0.5]")
    assert build(project).exit_code == 0
    out = project / "output"
    page = lxml.html.fromstring((out / "site" / "knee-basics" / "index.html").read_bytes())
    meta = {m.get("property"): m.get("content") for m in page.xpath("//meta[@property]")}
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    og = Image.open(io.BytesIO((out / "site" / meta["og:image"].split("/blog/", 1)[1]).read_bytes()))
    assert og.size == (1200, 630) and og.format == "JPEG"
    # 1905 px of the 3000 at the right edge: the red third, then blue.
    assert og.convert("RGB").getpixel((1100, 300))[0] > 200 and og.convert("RGB").getpixel((100, 300))[2] > 200
    posts = json.loads((out / "social" / "knee-basics.json").read_text())["posts"]
    instagram = Image.open(io.BytesIO((out / "site" / posts["instagram"]["image"].split("/blog/", 1)[1]).read_bytes()))
    assert instagram.size == (800, 1000)   # the photo is 1000 tall: the 4:5 crop is not upscaled
    assert instagram.convert("RGB").getpixel((400, 500))[0] > 200
    assert {posts[name]["image"] for name in posts if name != "instagram"} == {meta["og:image"]}


def test_the_email_has_its_lead_and_body_images_as_jpeg_or_png_of_at_most_1200px_at_https_urls(tmp_path):
    project = site_with(tmp_path, {"images/knee.webp": _webp(3000, 2000), "images/logo.png": _png(800, 200, True)},
                        image="images/knee.webp", image_alt="A knee", body="Look:\n\n![Logo](/blog/images/logo.png)")
    assert build(project).exit_code == 0
    out = project / "output"
    message = BytesParser(policy=policy.default).parsebytes(
        (out / "newsletter" / "knee-basics" / "message.eml").read_bytes())
    html = message.get_body(("html",)).get_content()
    images = lxml.html.fromstring(html).xpath("//img")
    assert len(images) == 2
    formats = []
    for img in images:
        src = img.get("src")
        assert src.startswith("https://clinic.example/blog/images/")
        assert img.get("width")
        image = Image.open(io.BytesIO((out / "site" / src.split("/blog/", 1)[1]).read_bytes()))
        assert image.width <= 1200
        formats.append((image.format, image.size))
    assert formats == [("JPEG", (1200, 800)), ("PNG", (800, 200))]


def _webp(width, height) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 160, 90)).save(out, "WEBP")
    return out.getvalue()


FAKE_HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def test_a_heic_photo_or_a_file_that_is_no_image_is_an_error_at_the_line_that_uses_it(tmp_path):
    project = site_with(tmp_path, {"images/knee.heic": FAKE_HEIC, "images/notes.jpg": b"just some text\n"},
                        image="images/knee.heic", image_alt="A knee", body="Text.\n\n![Notes](/blog/images/notes.jpg)")
    result = build(project)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert ("content/posts/knee.md:4:8: error: image: content/static/images/knee.heic is a HEIC file, which the "
            "pipeline cannot read and most browsers and email programs cannot show; export it as JPEG") in result.stderr
    assert ("content/posts/knee.md:10:10: error: content/static/images/notes.jpg is not an image the pipeline can "
            "read; export it as JPEG or PNG") in result.stderr
    assert "no file content/static/images/knee.heic" not in result.stderr   # one error, not two
    assert not (project / "output").exists()


def test_a_heic_file_no_article_uses_is_a_warning_and_not_published(tmp_path):
    project = site_with(tmp_path, {"images/spare.heic": FAKE_HEIC})
    result = build(project)
    assert result.exit_code == 0
    assert "content/static/images/spare.heic: warning: images/spare.heic is a HEIC file" in result.stderr
    assert not (project / "output" / "site" / "images" / "spare.heic").exists()


def test_a_missing_image_names_the_file_the_site_has_when_only_case_or_extension_differ(tmp_path):
    project = site_with(tmp_path, {"images/ankle.jpg": phone_photo(300, 200, 1), "images/hip.png": _png(50, 50)},
                        image="images/Ankle.jpg", image_alt="An ankle", body="Text.\n\n![Hip](/blog/images/hip.jpg)")
    result = build(project)
    assert result.exit_code == 1
    assert ("content/posts/knee.md:4:8: error: image: no file content/static/images/Ankle.jpg; the site has "
            "content/static/images/ankle.jpg: write image: images/ankle.jpg") in result.stderr
    assert ("content/posts/knee.md:10:8: error: broken link '/blog/images/hip.jpg': the site has no file at that "
            "address, but has content/static/images/hip.png; write '/blog/images/hip.png'") in result.stderr


def test_a_narrow_lead_image_and_a_source_over_20_mb_are_warnings_at_their_lines(tmp_path):
    big = phone_photo(400, 300, 1, extra=b"\0" * 20_100_000)   # bytes after the JPEG's end: still a JPEG
    project = site_with(tmp_path, {"images/knee.jpg": big}, image="images/knee.jpg", image_alt="A knee")
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert ("content/posts/knee.md:4:8: warning: image: content/static/images/knee.jpg is 20.1 MB; keep images "
            "under 20 MB") in result.stderr
    assert ("content/posts/knee.md:4:8: warning: image: content/static/images/knee.jpg is 400 px wide; a lead "
            "image should be at least 1200 px wide") in result.stderr


@pytest.mark.parametrize("value", ["[0.5]", "[0.5, 1.5]", "[a, b]", "0.5"])
def test_image_focus_must_be_two_fractions(tmp_path, value):
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo(300, 200, 1)}, image="images/knee.jpg",
                        image_alt="A knee", image_focus=value)
    result = build(project)
    assert result.exit_code == 1
    assert "content/posts/knee.md:6:" in result.stderr
    assert "image_focus: expected two fractions of the image's width and height from 0 to 1" in result.stderr


def test_a_rebuild_encodes_nothing_and_gives_the_same_bytes_as_a_cold_build(tmp_path):
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo(1300, 900, orientation=1)},
                        image="images/knee.jpg", image_alt="A knee")
    first = build(project)
    assert "images: 9 files made, 0 reused" in first.stderr
    (project / "content" / "posts" / "knee.md").write_text(
        post("Knee Basics", "2026-05-01", "Knees carry a great deal.", image="images/knee.jpg", image_alt="A knee"))
    again = build(project)
    assert again.exit_code == 0 and "images: 0 files made, 9 reused" in again.stderr
    # A stored file damaged on disk is made again, never published as it is.
    (project / "content" / "posts" / "knee.md").write_text(
        post("Knee Basics", "2026-05-01", "Knees carry a lot.", image="images/knee.jpg", image_alt="A knee"))
    cold = cli(project, "build", "--now", NOW, "--no-cache", "--out", str(tmp_path / "cold"))
    assert "images: 9 files made" in cold.stderr
    # A stored file damaged on disk is made again, never published as it is.
    stored = sorted((project / ".pipeline" / "images").iterdir())
    assert len(stored) == 9
    stored[0].write_bytes(stored[0].read_bytes()[:100])
    warm = cli(project, "build", "--now", NOW, "--out", str(tmp_path / "warm"))   # a folder with no files to keep
    assert "images: 1 files made, 8 reused" in warm.stderr
    assert tree(tmp_path / "cold") == tree(tmp_path / "warm")
    assert {p: d for p, d in tree(tmp_path / "cold").items() if "images/" in p} == \
        {p: d for p, d in tree(project / "output").items() if "images/" in p}


def test_a_phone_375px_wide_at_2x_loads_the_960px_candidate_not_the_original(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo(4000, 3000, orientation=1)},
                        image="images/knee.jpg", image_alt="A knee", body="Text.\n\n![Again](/blog/images/knee.jpg)")
    assert build(project).exit_code == 0
    site = project / "output" / "site"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 375, "height": 700}, device_scale_factor=2)
            loaded = []

            def serve(route):
                path = route.request.url.split("https://clinic.example/blog/", 1)[1]
                target = site / (path + "index.html" if path.endswith("/") or not path else path)
                if not target.is_file():
                    return route.fulfill(status=404)
                loaded.append(path)
                types = {"jpg": "image/jpeg", "webp": "image/webp", "css": "text/css", "html": "text/html"}
                route.fulfill(status=200, body=target.read_bytes(),
                              content_type=types.get(target.suffix[1:], "application/octet-stream"))

            page.route("https://clinic.example/**", serve)
            page.goto("https://clinic.example/blog/knee-basics/")
            page.wait_for_function("document.querySelector('img.lead-image').complete")
            current = page.eval_on_selector("img.lead-image", "img => img.currentSrc")
            shown = page.eval_on_selector("img.lead-image", "img => [img.naturalWidth, img.clientWidth]")
        finally:
            browser.close()
    assert current.startswith("https://clinic.example/blog/images/knee-960w.") and current.endswith(".webp")
    assert shown[1] < 375   # the 960 px file shown in the phone's column
    assert "images/knee.jpg" not in loaded and not any("1600w" in path for path in loaded)


def test_the_hootsuite_export_says_which_image_file_to_attach_to_which_row(tmp_path):
    project = make_project(tmp_path / "site", {
        "knee.md": post("Knee Basics", "2026-11-24T11:50", "Knees.", image="images/knee.jpg", image_alt="A knee"),
        "hip.md": post("Hip Basics", "2026-11-24T11:55", "Hips.")},
        files={"content/static/images/knee.jpg": phone_photo(1300, 900, orientation=1)})
    assert build(project).exit_code == 0
    social = project / "output" / "social"
    listing = (social / "hootsuite-media.txt").read_text("utf-8").splitlines()
    knee = json.loads((social / "knee-basics.json").read_text())["posts"]
    for name, row, slug in (("instagram", 1, "knee-basics"), ("x", 1, "knee-basics"), ("x", 2, "hip-basics")):
        image = json.loads((social / f"{slug}.json").read_text())["posts"][name]["image"]
        [line] = [line for line in listing if line.startswith(f"hootsuite-{name}.csv row {row} (")]
        path = line.rsplit(": ", 1)[1]
        assert image == "https://clinic.example/blog/" + path[len("site/"):]
        assert (project / "output" / path).is_file()
    assert "-instagram." in knee["instagram"]["image"] and "-og." in knee["x"]["image"]


def test_an_svg_drawing_is_published_as_it_is_in_the_body_and_refused_as_lead_image(tmp_path):
    drawing = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    project = site_with(tmp_path, {"images/knee.svg": drawing}, body="![Diagram](/blog/images/knee.svg)")
    assert build(project).exit_code == 0
    assert (project / "output" / "site" / "images" / "knee.svg").read_bytes() == drawing
    page = (project / "output" / "site" / "knee-basics" / "index.html").read_text("utf-8")
    assert '<img alt="Diagram" src="/blog/images/knee.svg">' in page
    lead = site_with(tmp_path / "lead", {"images/knee.svg": drawing}, image="images/knee.svg", image_alt="A knee")
    result = build(lead)
    assert result.exit_code == 1
    assert ("content/posts/knee.md:4:8: error: image: content/static/images/knee.svg is an SVG drawing, which link "
            "previews and email programs do not show; use a JPEG or PNG as lead image") in result.stderr


def test_the_store_keeps_only_the_files_of_the_images_the_site_publishes(tmp_path):
    project = site_with(tmp_path, {"images/knee.jpg": phone_photo(1300, 900, orientation=1)}, image="images/knee.jpg",
                        image_alt="A knee")
    assert build(project).exit_code == 0
    store = project / ".pipeline" / "images"
    first = {p.name for p in store.iterdir()}
    assert len(first) == 9
    (project / "content" / "static" / "images" / "knee.jpg").write_bytes(phone_photo(1300, 900, orientation=3))
    result = build(project)
    assert "images: 9 files made, 0 reused" in result.stderr
    second = {p.name for p in store.iterdir()}
    assert len(second) == 9 and not first & second
