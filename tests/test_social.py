"""Social posts: fit each platform as it counts, always carry the short disclaimer and the link,
and export as files Hootsuite and calendars import as they are; link previews on every page."""

from __future__ import annotations

import csv
from email import policy
from email.parser import BytesParser
import io
import json
import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from PIL import Image
from twitter_text import parse_tweet

from conftest import SITE_YAML, build, cli, make_project, post
from pipeline.compliance.exports import hootsuite_problems

NOW = "2026-05-01T09:30"          # every article below is live, and every post still ahead
TZ = ZoneInfo("America/New_York")
SHORT_MEDICAL = "Educational only, not medical advice."
SHORT_DRY = "Dry needling by licensed PTs; not acupuncture."
LONG_TITLE = ("An Extremely Long Title About Knee Pain, Hip Strength, Running Form and Everything Else a "
              "Runner Could Ask " * 3).strip()[:300]
TRICKY = {
    "emoji.md": post('"Runners 🏃‍♀️🏃🏽 love it 👍🏾 🇺🇸"', "2026-05-01T09:00", "Emoji everywhere 🎉🎉🎉.",
                     slug="emoji", summary='"' + "Great day 🏃🏽‍♂️ " * 25 + '"', tags="[running, dry needling]"),
    "accents.md": post('"Rééducation du genou: ça marche"', "2026-05-01T09:05", "Texte.", slug="accents",
                       summary='"' + "Ça va très bien, merci beaucoup. " * 15 + '"', tags="[knee]"),
    "cjk.md": post('"膝の痛みとランニング"', "2026-05-01T09:10", "本文。", slug="cjk",
                   summary='"' + "膝の痛みを和らげるための運動を紹介します。" * 15 + '"', tags="[knee]"),
    "long.md": post(f'"{LONG_TITLE}"', "2026-05-01T09:15", "Body.", slug="l" + "o" * 70 + "ng",
                    tags="[running, knee, hip, strength, balance, mobility, sports]"),
    "formula.md": post('"=HYPERLINK(1) and @mentions"', "2026-05-01T09:20", "Body.", slug="formula",
                       summary='"-1 reasons to stretch"'),
}


@pytest.fixture
def social(tmp_path):
    project = make_project(tmp_path / "p", TRICKY)
    result = cli(project, "build", "--now", NOW)
    assert result.exit_code == 0, result.stderr
    return project


def posts_of(project, slug):
    return json.loads((project / "output/social" / f"{slug}.json").read_text())


def graphemes(text):
    return len(regex.findall(r"\X", text))


def threads_length(text):
    return sum(len(g.encode()) if regex.search(r"\p{Extended_Pictographic}|\p{Regional_Indicator}", g) else len(g)
               for g in regex.findall(r"\X", text))


def test_every_post_fits_its_platform_as_that_platform_counts(social):
    for slug in ("emoji", "accents", "cjk", "l" + "o" * 70 + "ng", "formula"):
        data = posts_of(social, slug)
        assert set(data["posts"]) == {"x", "linkedin", "facebook", "instagram", "bluesky", "threads", "mastodon"}
        for platform, item in data["posts"].items():
            text = item["text"]
            if platform == "x":
                counted = parse_tweet(regex.sub(r"https?://\S+", "https://t.co/abcdefghij",
                                                unicodedata.normalize("NFC", text))).weightedLength
                assert counted <= 280
            elif platform == "bluesky":
                counted = graphemes(text)
                assert counted <= 300 and len(text.encode()) <= 3000
            elif platform == "threads":
                counted = threads_length(text)
                assert counted <= 500
            elif platform == "mastodon":
                counted = graphemes(regex.sub(r"https?://\S+", "x" * 23, text))
                assert counted <= 500
            else:
                counted = len(text)
                assert counted <= {"linkedin": 3000, "facebook": 63206, "instagram": 2200}[platform]
            assert item["length"] == counted, (slug, platform)
            assert item["limit"] >= counted


def test_every_post_keeps_the_disclaimer_link_and_whole_hashtags(social):
    for slug in ("emoji", "cjk", "l" + "o" * 70 + "ng"):
        for platform, item in posts_of(social, slug)["posts"].items():
            text = item["text"]
            assert SHORT_MEDICAL in text, (slug, platform)
            for tag in item["hashtags"]:
                assert regex.search(regex.escape(tag) + r"(?!\w)", text), (slug, platform, tag)
            if platform == "instagram":
                assert item["url"] is None and "http" not in text and "Link in bio." in text
                assert len(item["hashtags"]) <= 5
            elif platform == "bluesky":
                facet = item["facets"][0]
                shown = text.encode()[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode()
                assert shown.startswith("clinic.example/blog/")
                assert facet["features"][0]["uri"] == item["url"]
            else:
                assert item["url"] in text
    assert SHORT_DRY in posts_of(social, "emoji")["posts"]["x"]["text"]


def test_a_post_takes_whole_sentences_never_a_cut_one(social):
    # The summary repeats one sentence 15 times: X gets the title and that sentence, once.
    text = posts_of(social, "accents")["posts"]["x"]["text"]
    title, sentence = text.split("\n\n")[:2]
    assert title == "Rééducation du genou: ça marche"
    assert sentence == "Ça va très bien, merci beaucoup."
    assert "\u2026" not in text


def test_links_carry_platform_campaign_tags(social):
    data = posts_of(social, "cjk")["posts"]
    for platform in ("x", "linkedin", "facebook", "bluesky", "threads", "mastodon"):
        assert data[platform]["url"] == (f"https://clinic.example/blog/cjk/?utm_source={platform}"
                                         f"&utm_medium=social&utm_campaign=cjk")


def test_hashtags_come_from_tags_with_site_mapping(tmp_path):
    site = SITE_YAML + "social:\n  hashtags: {dry needling: DryNeedlingPT, knee: ''}\n  max_hashtags: 2\n"
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01T09:00",
                                                         tags="[dry needling, knee, back pain, hip]")}, site=site)
    assert cli(project, "build", "--now", NOW).exit_code == 0
    assert posts_of(project, "a")["posts"]["x"]["hashtags"] == ["#DryNeedlingPT", "#BackPain"]


def test_an_override_that_fits_is_used_and_one_that_does_not_is_an_error(tmp_path):
    fits = make_project(tmp_path / "a", {"a.md": post("A", "2026-05-01T09:00", social="{x: Our own words.}")})
    assert cli(fits, "build", "--now", NOW).exit_code == 0
    assert posts_of(fits, "a")["posts"]["x"]["text"].startswith("Our own words.\n\nEducational only")
    too_long = "word " * 60
    project = make_project(tmp_path / "b", {"a.md": post("A", "2026-05-01T09:00", social=f"{{x: {too_long}}}")})
    result = cli(project, "build", "--now", NOW)
    assert result.exit_code == 1
    assert ("content/posts/a.md:4:13: error: social.x: with the link and the short disclaimer the post is 362 "
            "long as X counts it; the limit is 280. Shorten it") in result.stderr


def read_csv(project, platform):
    raw = (project / "output/social" / f"hootsuite-{platform}.csv").read_bytes()
    return list(csv.reader(io.StringIO(raw.decode("utf-8"))))


def test_hootsuite_files_follow_every_bulk_composer_rule(social):
    now = datetime(2026, 5, 1, 9, 30, tzinfo=TZ)
    for platform in ("x", "linkedin", "facebook", "instagram", "bluesky", "threads", "mastodon"):
        rows = read_csv(social, platform)
        assert 0 < len(rows) <= 350
        times = []
        for row in rows:
            assert len(row) == 3
            when = datetime.strptime(row[0], "%d/%m/%Y %H:%M").replace(tzinfo=TZ)
            assert when.minute % 5 == 0 and when >= now + timedelta(minutes=10)
            times.append(when)
            assert row[1].strip() and not row[1].startswith(("=", "+", "-", "@"))
            assert not row[2].startswith(("=", "+", "-", "@"))
            assert SHORT_MEDICAL in row[1]
            if platform == "instagram":
                assert row[2] == ""
            else:
                assert row[2].startswith("https://clinic.example/blog/") and row[2] not in row[1]
        assert len(set(times)) == len(times) and times == sorted(times)
        assert len({r[1] for r in rows}) == len(rows)


def test_cells_that_look_like_formulas_are_neutralised(social):
    rows = read_csv(social, "linkedin")
    formula = next(r for r in rows if "HYPERLINK" in r[1])
    assert formula[1].startswith("'=HYPERLINK(1) and @mentions")


def test_times_come_from_the_article_date_plus_platform_offsets(tmp_path):
    site = SITE_YAML + "social:\n  offsets: {x: 0m, linkedin: 90m, instagram: 1d 2h}\n  datetime_format: mm/dd/yyyy hh:mm\n"
    project = make_project(tmp_path / "p", {
        "a.md": post("A", "2026-05-01T09:02"), "b.md": post("B", "2026-05-01T09:03")}, site=site)
    assert cli(project, "build", "--now", "2026-05-01T08:00", "--future").exit_code == 0
    assert [r[0] for r in read_csv(project, "x")] == ["05/01/2026 09:05", "05/01/2026 09:10"]
    assert [r[0] for r in read_csv(project, "linkedin")] == ["05/01/2026 10:35", "05/01/2026 10:40"]
    assert read_csv(project, "instagram")[0][0] == "05/02/2026 11:05"
    assert posts_of(project, "a")["posts"]["x"]["scheduled_at"] == "2026-05-01T09:05:00-04:00"


def test_posts_whose_time_has_passed_are_left_out_with_a_warning_when_catching_up_is_off(tmp_path):
    project = make_project(tmp_path / "p", {"new.md": post("New", "2026-05-01T09:00"),
                                            "old.md": post("Old", "2026-01-01T09:00")},
                           site=SITE_YAML + "social:\n  catch_up: 0m\n")
    result = cli(project, "build", "--now", "2026-05-01T12:30")
    assert result.exit_code == 0
    assert ("content/posts/new.md: warning[social-past]: the bluesky, facebook, linkedin, mastodon, x post(s) would go out "
            "less than 10 minutes from now or earlier, and the article is older than social.catch_up (0 minutes)"
            ) in result.stderr
    assert "content/posts/old.md: warning[social-past]" not in result.stderr
    assert [r[1].split("\n\n")[0] for r in read_csv(project, "threads")] == ["New"]
    assert posts_of(project, "new")["posts"]["x"]["scheduled_at"] is None
    assert posts_of(project, "old")["posts"]["facebook"]["scheduled_at"] is None
    assert "12 social posts left out of the schedule: their times have passed (articles older than 0 minutes)" \
        in result.stdout


def test_the_calendar_parses_and_lists_every_scheduled_post(social):
    calendar = Calendar.from_ical((social / "output/social/calendar.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    rows = sum(len(read_csv(social, p)) for p in ("x", "linkedin", "facebook", "instagram", "bluesky", "threads",
                                                  "mastodon"))
    assert len(events) == rows
    assert len({str(e["UID"]) for e in events}) == rows
    x_event = next(e for e in events if str(e["UID"]) == "emoji.x@clinic.example")
    assert x_event.decoded("DTSTART") == datetime(2026, 5, 1, 10, 0, tzinfo=TZ)
    assert str(x_event["SUMMARY"]).startswith("X: Runners")


def test_the_hootsuite_check_catches_each_broken_rule(project):
    from pipeline.build import Options, load_site
    from pipeline.errors import FindingList
    site = load_site(project, Options(now=datetime(2026, 5, 1, 6, 0)), FindingList())
    bad = ("01/05/2026 06:05,too soon,\r\n01/05/2026 09:03,odd minute,\r\n01/05/2026 10:00,dup,\r\n"
           "01/05/2026 10:00,dup,\r\n2026-05-01 11:00,wrong format,\r\n01/05/2026 12:00,=cmd(),\r\n")
    problems = [m for _, m in hootsuite_problems(site, bad.encode())]
    assert problems == [
        "time 01/05/2026 06:05 is less than 10 minutes after the build's clock",
        "time 01/05/2026 09:03 does not end in 0 or 5",
        "time 01/05/2026 10:00 is also used by row 3; one post per time slot",
        "the same message as row 3; Hootsuite rejects duplicates",
        "date-time '2026-05-01 11:00' is not in the format dd/mm/yyyy hh:mm",
        "cell '=cmd()' starts like a spreadsheet formula",
    ]


def test_a_post_template_that_drops_the_disclaimer_fails_check(social):
    template = social / "templates/social/post.txt"
    template.write_text(template.read_text().replace('{{ disclaimers | map(attribute="short") | join(" ") }}', ""))
    result = cli(social, "check", "--now", NOW)
    assert result.exit_code == 1
    for platform in ("x", "instagram", "mastodon"):
        assert (f"content/posts/cjk.md: error[disclaimer-missing]: social output/social/cjk.json ({platform} post) "
                f"lacks disclaimer 'medical'") in result.stderr


def test_every_article_page_has_link_preview_tags_and_a_1200x630_card(social):
    for slug in ("emoji", "cjk"):
        doc = lxml.html.fromstring((social / "output/site" / slug / "index.html").read_bytes())
        meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.iter("meta")}
        canonical = doc.xpath("//link[@rel='canonical']/@href")[0]
        assert meta["og:url"] == canonical and "utm_" not in canonical
        assert meta["og:type"] == "article" and meta["twitter:card"] == "summary_large_image"
        assert meta["og:image"] == f"https://clinic.example/blog/og/{slug}.png"
        assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
        assert meta["og:image:alt"] and meta["og:description"] and meta["article:published_time"]
        with Image.open(social / "output/site/og" / f"{slug}.png") as card:
            assert card.size == (1200, 630)
        assert posts_of(social, slug)["posts"]["x"]["image"] == meta["og:image"]


def test_a_cards_text_is_anti_aliased_between_the_background_and_white():
    from pipeline.ogimage import BACKGROUND, TEXT, render_card
    with Image.open(io.BytesIO(render_card("Knee pain after surgery", "Clinic", "Blog"))) as card:
        colours = {colour for _, colour in card.convert("RGB").getcolors(1 << 16)}
    # Edge pixels of the glyphs are shades between the two (jagged text has none).
    between = [c for c in colours if all(min(b, t) <= v <= max(b, t) for v, b, t in zip(c, BACKGROUND, TEXT))
               and c not in (BACKGROUND, TEXT)]
    assert len(between) >= 50


def test_an_article_image_in_the_site_is_the_preview_with_its_real_size(tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (800, 420), (200, 30, 30)).save(picture, format="PNG")
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01T09:00", image="images/a.png",
                                                         image_alt="A red square")},
                           files={"content/static/images/a.png": picture.getvalue()})
    assert cli(project, "build", "--now", NOW).exit_code == 0
    doc = lxml.html.fromstring((project / "output/site/a/index.html").read_bytes())
    meta = {m.get("property"): m.get("content") for m in doc.iter("meta") if m.get("property")}
    # A 1200x630 crop of it, here the whole picture: it is narrower, and never upscaled.
    assert meta["og:image"].startswith("https://clinic.example/blog/images/a-og.")
    assert (meta["og:image:width"], meta["og:image:height"], meta["og:image:alt"]) == ("800", "420", "A red square")
    with Image.open(project / "output/site" / meta["og:image"].split("/blog/", 1)[1]) as preview:
        assert preview.size == (800, 420)
    assert not (project / "output/site/og/a.png").exists()


@pytest.mark.parametrize("written", ["images/a.png", "/images/a.png"])
def test_a_lead_image_is_the_same_file_of_the_site_on_every_channel(tmp_path, written):
    """A path under content/static/, with or without a leading slash: on a blog under /blog/ the
    email's lead image pointed at the domain's root (a broken image in every inbox) and the page's
    at '/blog//images/a.png' when it was written with one."""
    picture = io.BytesIO()
    Image.new("RGB", (800, 420), (200, 30, 30)).save(picture, format="PNG")
    project = make_project(tmp_path / "p", {"a.md": post("A", "2026-05-01T09:00", image=written, image_alt="Red")},
                           files={"content/static/images/a.png": picture.getvalue()})
    assert cli(project, "build", "--now", NOW).exit_code == 0
    # Each channel has a file made from it for its own use (see test_images), all under /blog/images/.
    where = "https://clinic.example/blog/images/a-"
    with Image.open(project / "output/site/images/a.png") as published:
        assert published.size == (800, 420)
    page = lxml.html.fromstring((project / "output/site/a/index.html").read_bytes())
    page.make_links_absolute("https://clinic.example/blog/a/")
    [lead] = [img.get("src") for img in page.iter("img") if img.get("class") == "lead-image"]
    assert lead.startswith(where)
    assert "//images" not in (project / "output/site/a/index.html").read_text("utf-8")
    message = BytesParser(policy=policy.default).parsebytes((project / "output/newsletter/a/message.eml").read_bytes())
    email_page = lxml.html.fromstring(message.get_body(("html",)).get_content())
    [email] = [img.get("src") for img in email_page.iter("img") if img.get("class") == "lead"]
    assert email.startswith(where)
    meta = {m.get("property"): m.get("content") for m in page.iter("meta") if m.get("property")}
    assert meta["og:image"] == posts_of(project, "a")["posts"]["x"]["image"]
    assert meta["og:image"].startswith(where + "og.")


@pytest.mark.parametrize("link, says", [
    ("/images/a.png", "error: link '/images/a.png' points outside the site (https://clinic.example/blog/); "
                      "the site has that file at '/blog/images/a.png': write that"),
    ("images/a.png", "error: broken link 'images/a.png': read from the article's page (/blog/a/) it leads "
                     "nowhere; the site has that file at '/blog/images/a.png': write that"),
    ("tags/knee/#top", "error: broken link 'tags/knee/#top': read from the article's page (/blog/a/) it leads "
                       "nowhere; the site has that page at '/blog/tags/knee/#top': write that"),
    ("/images/b.png", "error: link '/images/b.png' points outside the site (https://clinic.example/blog/): write "
                      "a file of content/static/ as '/blog/images/b.png' (there is none now), or a file elsewhere "
                      "by its full address, 'https://clinic.example/images/b.png'"),
    ("/contact/", "error: link '/contact/' points outside the site (https://clinic.example/blog/): write a page "
                  "elsewhere by its full address, 'https://clinic.example/contact/'"),
])
def test_a_link_that_misses_the_site_says_what_to_write_instead(tmp_path, link, says):
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture, format="PNG")
    project = make_project(tmp_path / "p", {"a.md": post("A", tags="[knee]", body=f"See [this]({link}).")},
                           files={"content/static/images/a.png": picture.getvalue()})
    result = build(project)
    assert result.exit_code == 1
    assert f"content/posts/a.md:7:12: {says}\n" in result.stderr
    assert not (project / "output").exists()


def test_a_missing_local_image_is_an_error_at_its_line(tmp_path):
    project = make_project(tmp_path / "p", {"a.md": post("A", image="images/gone.png", image_alt="Gone")})
    result = build(project)
    assert result.exit_code == 1
    assert ("content/posts/a.md:4:8: error: image: no file content/static/images/gone.png; add the picture there "
            "or fix the path") in result.stderr


@pytest.mark.parametrize("text", [
    "Plain words and a link https://nextlevelpt.example/a?b=1#c and example.com too",
    "#1 tip: keycaps need U+20E3, so 1 # * alone are not emoji; 2+2=4 & <b>",
    "Caf\u00e9 \u00a9 \u00ae \u2122 \u2014 \u201cquoted\u201d",  # not ASCII: the full scan runs
    "Emoji \U0001F600\U0001F44D\U0001F3FD and flags \U0001F1FA\U0001F1F8",
    "",
])
def test_x_length_equals_twitter_text_with_emoji_parsing(text):
    from pipeline.lengths import _T_CO, _URL, x_length
    assert x_length(text) == parse_tweet(_URL.sub(_T_CO, unicodedata.normalize("NFC", text))).weightedLength


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from([chr(c) for c in range(32, 127)] + list(
    "\n\u2014\u2026\u2019\u201c\u00e9\u00fc\u00a9\u00ae\u2122\u20e3\ufe0f\u200d\u263a\u2764\u4e2d\u3042"
    "\U0001F600\U0001F44D\U0001F3FD\U0001F1FA\U0001F1F8")), max_size=300))
def test_x_length_equals_twitter_text_with_its_emoji_scan(text):
    from pipeline.lengths import _T_CO, _URL, x_length
    assert x_length(text) == parse_tweet(_URL.sub(_T_CO, text)).weightedLength


_WORDS = ["knee", "pain", "Caf\u00e9", "\u2014", "\u201cquoted\u201d", "it\u2019s", "#Rehab", "@clinic", "$5", "e.g.",
          "U.S.", "example.com", "www.example.org", "a.b", "3.5", "...", "https://nextlevelpt.example/a?b=1",
          "http://x.y/z", "(see", "this)", "\u00a9", "1.", "\n", "\u00fc\u00df", "\u2026", "\u4e2d\u6587",
          "\u3042\u308a\u304c\u3068\u3046\u3002", "b\u00fccher.de", "\u00e9.fr", "\u0410\u0411", "\u2122", "\u20e3",
          "\u2764", "\U0001F600", "\ufeff", "\u202e", "caf\u0065\u0301"]


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=60), st.lists(st.sampled_from([" ", ". ", ", ", " \u2014 ", "\n"]),
                                                                  min_size=60, max_size=60))
def test_x_length_of_plain_text_is_its_length_exactly_as_twitter_text_counts(words, gaps):
    from pipeline.lengths import _T_CO, _URL, _plain_length, x_length
    text = "".join(word + gap for word, gap in zip(words, gaps))
    expected = parse_tweet(_URL.sub(_T_CO, unicodedata.normalize("NFC", text))).weightedLength
    assert x_length(text) == expected
    fast = _plain_length(_URL.sub(_T_CO, unicodedata.normalize("NFC", text)))
    assert fast is None or fast == expected


def test_a_typical_post_is_counted_without_twitter_text():
    from pipeline.lengths import _T_CO, _URL, _plain_length
    text = ("Knee Pain Basics \u2014 What helps, what doesn\u2019t, and when to see a physical therapist\u2026 "
            "Educational only, not medical advice. https://nextlevelpt.example/knee-pain-basics/?utm_source=x "
            "#KneePain #Rehab")
    counted = _URL.sub(_T_CO, text)
    assert _plain_length(counted) == parse_tweet(counted).weightedLength == len(counted) + 1  # the ellipsis weighs 2


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(_WORDS + ["\U0001F1FA\U0001F1F8", "\U0001F44D\U0001F3FD", "\r\n", "\u200d"]),
                max_size=60))
def test_threads_length_counts_emoji_by_their_bytes_and_everything_else_by_characters(words):
    from pipeline.lengths import threads_length as counted
    text = " ".join(words)
    assert counted(text) == threads_length(text)


def _card_drawn_from_nothing(title: str, organization: str, site_title: str) -> bytes:
    """The card's pixels drawn as one image, in reading order (the way cards were drawn before
    each started from a copy of the site's blank card)."""
    from PIL import ImageDraw
    from pipeline import ogimage
    image = Image.new("P", (ogimage.WIDTH, ogimage.HEIGHT), 0)
    image.putpalette(ogimage._PALETTE)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "L"
    draw.rectangle((0, 0, 24, ogimage.HEIGHT), fill=ogimage.ACCENT_INDEX)
    draw.text((ogimage.MARGIN, ogimage.MARGIN - 10), site_title, font=ogimage._font(30), fill=ogimage.SOFT)
    font, lines = ogimage._fit_title(draw, title)
    line_height = int(font.size * 1.2)
    top = (ogimage.HEIGHT - line_height * len(lines)) // 2
    for index, line in enumerate(lines):
        draw.text((ogimage.MARGIN, top + index * line_height), line, font=font, fill=ogimage.WHITE)
    draw.text((ogimage.MARGIN, ogimage.HEIGHT - ogimage.MARGIN - 20), organization, font=ogimage._font(34),
              fill=ogimage.WHITE)
    return image.tobytes()


@settings(max_examples=60, deadline=None)
@given(title=st.one_of(st.text(min_size=1, max_size=300),
                       st.lists(st.sampled_from(["Knee", "pain", "after", "surgery:", "a", "rehabilitation",
                                                 "guide", "—", "Ünïcødé", "W" * 30]),
                                min_size=1, max_size=60).map(" ".join)),
       organization=st.sampled_from(["Clinic", "Next Level Physical Therapy of Avon and the Farmington Valley"]))
def test_a_card_drawn_on_the_sites_blank_card_has_the_pixels_of_one_drawn_from_nothing(title, organization):
    # The title's lines (at most four, centred) never reach the site's title above them or the
    # clinic's name below, so drawing those two first changes no pixel.
    from pipeline.ogimage import render_card
    with Image.open(io.BytesIO(render_card(title, organization, "The Blog"))) as card:
        assert card.tobytes() == _card_drawn_from_nothing(title, organization, "The Blog")
