"""Social channel: for every article, a post per platform that fits as the platform counts it and
always carries the short disclaimers and (but on Instagram) the link; output/social/<slug>.json,
Hootsuite bulk-composer CSV files per platform, and calendar.ics.

Post text comes from templates/social/post.txt: the body (the author's override, or words written
from the article's whole sentences and key points: see posts), the short disclaimers, the link
and the hashtags."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from jinja2 import Environment

from pipeline.channels import posts as words   # (a local `posts` is the posts made)
from pipeline.channels.blog import preview_path
from pipeline.channels.schedule import MAX_ROWS, schedule, summary
from pipeline.compliance.exports import FORMATS, FORMULA_START, past_posts
from pipeline.errors import Finding, Location
from pipeline.lengths import Platform, platforms
from pipeline.model import Article, Artifact, Reads, Site
from pipeline.templating import make_environment, render as render_template
from pipeline.urls import with_utm

NAME = "social"


def hashtags_for(site: Site, article: Article, limit: int) -> list[str]:
    mapping = dict(site.config.social.hashtags)
    tags = []
    for tag in article.tags:
        tag_value = mapping.get(tag.slug)
        if tag_value is None:
            tag_value = "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", tag.name))
        if tag_value and tag_value not in tags:
            tags.append(tag_value)
    return tags[:limit]


@dataclass(frozen=True)
class PostContext:
    """What composing every article's posts needs, made once (worker processes inherit it)."""

    site: Site
    env: Environment                 # templates/social, plain text
    platforms: dict[str, Platform]   # by name: each platform's limits and how it counts


def context(site: Site) -> PostContext:
    return PostContext(site, make_environment(Path(site.root), NAME, autoescape=False),
                       platforms(site.config.social.mastodon_limit))


def posts_reads(site: Site, article: Article) -> Reads:
    """What the article's posts show: the article and its images' files (known without its body)."""
    return Reads(NAME, (article,), (site.images.digest(article) if site.images is not None else None,))


def document_artifact(site: Site, article: Article, posts: dict, slots: dict[str, datetime]) -> Artifact:
    """output/social/<slug>.json: the article and its posts, each with its time slot (or null)."""
    document = {"article": {"slug": article.slug, "title": article.title, "url": site.config.url(article.path),
                            "source": article.source},
                "posts": {name: dict(posts[name], scheduled_at=slots[name].isoformat() if slots.get(name) else None)
                          for name in site.config.social.platforms if name in posts}}
    data = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Artifact(f"social/{article.slug}.json", data.encode("utf-8"), NAME, "application/json", (article.slug,))


def site_outputs(site: Site, per_article: list[tuple[Article, str, tuple[str, ...], object]]):
    """Every article's social JSON (its posts with their time slots) and the scheduling exports,
    as ([(path, key)], make) pairs; social-past warnings; and what the build's summary line says
    of the posts left out of the exports (schedule.summary). Each article comes with the digest
    of its posts (records.UnitRecord.posts_digest), the platforms it has a post for and a function
    that loads its posts (only called for what is made again). The exports are keyed by the posts
    that go into them (their articles and time slots) and, while any post is in them, the
    build's clock, which their calendar is stamped with."""
    config = site.config.social
    made = schedule(site, [(article, posted) for article, _, posted, _ in per_article])
    times = made.times
    planned, findings = [], []
    upcoming = []   # (article, its posts' digest, platform -> slot, load) of every article with a post in the exports
    for article, basis, posted, load in per_article:
        mine = {name: times[(article.slug, name)] for name in posted if (article.slug, name) in times}
        path = f"social/{article.slug}.json"
        shown = [(name, mine[name].isoformat() if name in mine else None) for name in config.platforms
                 if name in posted]
        planned.append(([(path, Reads(NAME, (article,), (basis, shown)))],
                        lambda a=article, load=load, mine=mine: [document_artifact(site, a, load(), mine)]))
        findings += past_posts(site, article, path, {name: when for name, when in shown})
        if mine:
            upcoming.append((article, basis, mine, load))
    # A post is made from its article alone (see compose_posts), so the article's digest stands for it.
    shown = Reads(NAME, tuple(article for article, _, _, _ in upcoming), (
        "exports", site.now.isoformat() if upcoming else None,
        [(sorted((name, when.isoformat()) for name, when in mine.items()),
          site.images.digest(article) if site.images is not None else None) for article, _, mine, _ in upcoming]))
    paths = [f"social/hootsuite-{name}.csv" for name in config.platforms] + ["social/calendar.ics", MEDIA_LIST]
    planned.append(([(path, shown) for path in paths], lambda: exports(site, upcoming)))
    return planned, findings, summary(site, made)


def exports(site: Site, upcoming: list) -> list[Artifact]:
    """The scheduling exports: a Hootsuite CSV per platform and one calendar, from the articles
    with posts to come ((article, key, platform -> slot, load), see site_outputs)."""
    rows: dict[str, list[dict]] = {}
    for article, _, mine, load in upcoming:
        posts = load()   # one article's at a time: none are held
        for name, when in mine.items():
            post = posts[name]
            rows.setdefault(name, []).append({"when": when, "article": article.slug, "title": article.title,
                                              "text": post["text"], "url": post["url"], "image": post.get("image"),
                                              "shown": display_link(post["url"]) if "facets" in post else None})
    for name in rows:
        rows[name].sort(key=lambda r: r["when"])
    made = [Artifact(f"social/hootsuite-{name}.csv", hootsuite_csv(site, rows.get(name, [])), NAME, "text/csv",
                     tuple(r["article"] for r in rows.get(name, [])), for_readers=False)
            for name in site.config.social.platforms]
    return made + [Artifact("social/calendar.ics", calendar(site, rows), NAME, "text/calendar", for_readers=False),
                   Artifact(MEDIA_LIST, media_list(site, rows), NAME, "text/plain", for_readers=False)]


MEDIA_LIST = "social/hootsuite-media.txt"


def media_list(site: Site, rows: dict[str, list[dict]]) -> bytes:
    """Which image to attach to which row of each Hootsuite CSV: its bulk upload carries text and
    a link, no media."""
    fmt = FORMATS[site.config.social.datetime_format]
    lines = ["Hootsuite's bulk upload carries no images. After uploading each CSV, open each post in the",
             "Planner and attach the file named here (made for that platform; paths are inside output/).", ""]
    for name in site.config.social.platforms:
        for number, row in enumerate(rows.get(name, [])[:MAX_ROWS], start=1):
            image = row.get("image") or ""
            path = image[len(site.config.base_url):] if image.startswith(site.config.base_url) else image
            lines.append(f"hootsuite-{name}.csv row {number} ({row['when'].strftime(fmt)}, {row['title']}): "
                         f"site/{path}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def compose_posts(context: PostContext, article: Article) -> tuple[dict, list[Finding]]:
    """The article's post for every platform (`article` whole), and errors for those that cannot fit."""
    site, env, known = context.site, context.env, context.platforms
    findings: list[Finding] = []
    posts = {}
    made: list = []   # the article's posts.Material, made once (for the first platform without an override)
    for name in site.config.social.platforms:
        post = compose(site, env, article, known[name], findings, made)
        if post is not None:
            posts[name] = post
    return posts, findings


def compose(site: Site, env, article: Article, platform: Platform, findings: list[Finding],
            made: list | None = None) -> dict | None:
    """The post for one platform, or None (with an error) when the author's text cannot fit."""
    disclaimers = site.rules.disclaimers_for(article, NAME)
    link = with_utm(site.config.url(article.path), platform.name, "social", article.slug) if platform.links else None
    tags = hashtags_for(site, article, min(site.config.social.max_hashtags, platform.max_hashtags))
    override = dict(article.social).get(platform.name)

    shown = display_link(link) if link and platform.name == "bluesky" else link

    def text_with(body: str, hashtags: list[str]) -> str:
        rendered = render_template(env, "post.txt", body=body, disclaimers=disclaimers, link=shown,
                                   hashtags=hashtags, platform=platform.name)
        return re.sub(r"\n{3,}", "\n\n", rendered).strip()

    if override is not None:
        text = text_with(override, tags)
        while not platform.fits(text) and tags:
            tags = tags[:-1]
            text = text_with(override, tags)
        if not platform.fits(text):
            location = article.front.location(("social", platform.name))
            findings.append(Finding(location, f"social.{platform.name}: with the link and the short disclaimer the "
                                    f"post is {platform.length(text)} long as {platform.label} counts it; the limit "
                                    f"is {platform.limit}. Shorten it", source=article.front.source(location)))
            return None
    else:
        made = made if made is not None else []
        if not made:
            made.append(words.material(article, site.config.language))
        stuff = made[0]
        text = words.write(stuff, platform, lambda b: text_with(b, tags))
        while text is None and tags:
            tags = tags[:-1]
            text = words.write(stuff, platform, lambda b: text_with(b, tags))
        if text is None:
            findings.append(Finding(Location(article.source), f"cannot fit a {platform.label} post: with the short "
                                    f"disclaimers and link, neither the title nor any sentence of the summary or "
                                    f"opening paragraph fits in {platform.limit}; write the post yourself under "
                                    f"social.{platform.name} in the front matter, or shorten the disclaimers' "
                                    f"`short` forms"))
            return None
    crop = site.images.instagram(article) if platform.name == "instagram" and site.images is not None else None
    image = site.config.url(crop.path if crop is not None else preview_path(site, article))
    post = {"text": text, "url": link, "length": platform.length(text), "limit": platform.limit,
            "hashtags": ["#" + t for t in tags], "image": image, "scheduled_at": None}
    if shown != link:
        post["facets"] = link_facets(text, shown, link)
    return post


def display_link(url: str, width: int = 32) -> str:
    """How Bluesky apps show a link: no scheme, cut with an ellipsis; a facet carries the full URL."""
    bare = url.split("://", 1)[1].split("?", 1)[0]
    return bare if len(bare) <= width else bare[: width - 1] + "\u2026"


def link_facets(text: str, shown: str, url: str) -> list[dict]:
    """app.bsky.richtext.facet#link entries (byte offsets in UTF-8) for the shown link."""
    start = text.find(shown)
    if start < 0:
        return []
    byte_start = len(text[:start].encode("utf-8"))
    return [{"index": {"byteStart": byte_start, "byteEnd": byte_start + len(shown.encode("utf-8"))},
             "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]}]


def hootsuite_csv(site: Site, rows: list[dict]) -> bytes:
    """Hootsuite bulk composer: no header; A date-time, B message, C optional link; UTF-8."""
    fmt = FORMATS[site.config.social.datetime_format]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows[:MAX_ROWS]:
        message = row["text"]
        for shown in (row["url"], row.get("shown")):
            if shown:
                message = message.replace(shown, "")
        message = message.strip()
        message = re.sub(r"\n{3,}", "\n\n", message)
        writer.writerow([row["when"].strftime(fmt), neutralise(message), neutralise(row["url"] or "")])
    return out.getvalue().encode("utf-8")


def neutralise(cell: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: prefix a quote (OWASP)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def calendar(site: Site, rows: dict[str, list[dict]]) -> bytes:
    from icalendar import Calendar, Event   # here, not at module level: only when the exports are made again

    domain = site.config.base_url.split("://", 1)[1].split("/", 1)[0]
    labels = platforms(site.config.social.mastodon_limit)
    cal = Calendar()
    cal.add("prodid", "-//clinic-pipeline//content calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{site.config.title}: social posts")
    events = sorted(((row["when"], name, row) for name, items in rows.items() for row in items),
                    key=lambda e: (e[0], e[1]))
    stamp = site.now.astimezone(timezone.utc).replace(microsecond=0)   # the build's clock
    for when, name, row in events:
        event = Event()
        event.add("uid", f"{row['article']}.{name}@{domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", when.astimezone(timezone.utc))
        event.add("dtend", (when + timedelta(minutes=15)).astimezone(timezone.utc))
        event.add("summary", f"{labels[name].label}: {row['title']}")
        event.add("description", row["text"])
        if row["url"]:
            event.add("url", row["url"])
        cal.add_component(event)
    return cal.to_ical()
