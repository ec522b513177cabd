"""The content model: frozen dataclasses that every stage passes along, never mutates.

Glossary (one word per concept):
- site: the configuration (SiteConfig) plus every published article, its tags and the rules.
- article: one source file in content/posts, validated (Article).
- channel: one kind of output (blog, feed, ...); a pure function from the site to artifacts.
- artifact: one rendered output file, handed to the writer's staging folder once checked (Artifact).
- disclaimer / rule / finding / location: see pipeline.compliance and pipeline.errors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from pipeline.yamldoc import YamlDoc


@dataclass(frozen=True)
class Organization:
    name: str
    postal_address: str
    url: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    """Where `pipeline send-test` sends: site.yaml's newsletter.smtp (the password is only ever
    taken from the environment, see pipeline.sending)."""
    host: str
    port: int
    security: str                 # starttls, ssl or none
    username: str | None = None


@dataclass(frozen=True)
class NewsletterConfig:
    sender: str  # site.yaml key `from`
    reply_to: str
    unsubscribe_url: str          # https URL, or an email service's merge tag such as *|UNSUB|*
    unsubscribe_mailto: str | None = None
    smtp: SmtpConfig | None = None


PLATFORMS = ("x", "linkedin", "facebook", "instagram", "bluesky", "threads", "mastodon")
# When each platform's post goes out after the article's date, unless site.yaml says otherwise.
DEFAULT_OFFSETS = (("x", timedelta(hours=1)), ("bluesky", timedelta(hours=1)), ("mastodon", timedelta(hours=1)),
                   ("linkedin", timedelta(hours=2)), ("facebook", timedelta(hours=3)),
                   ("threads", timedelta(hours=4)), ("instagram", timedelta(days=1)))
CATCH_UP = timedelta(days=7)


@dataclass(frozen=True)
class SocialConfig:
    """site.yaml `social:`: which platforms, hashtags for tags, when posts go out, export format."""

    platforms: tuple[str, ...] = PLATFORMS
    hashtags: tuple[tuple[str, str], ...] = ()      # (tag slug, hashtag without '#'); '' drops the tag
    max_hashtags: int = 3
    offsets: tuple[tuple[str, timedelta], ...] = ()  # platform -> delay after the article's date
    datetime_format: str = "dd/mm/yyyy hh:mm"
    mastodon_limit: int = 500
    catch_up: timedelta = CATCH_UP                   # posts due this long ago still go out (see channels.schedule)

    def offset(self, platform: str) -> timedelta:
        return dict(DEFAULT_OFFSETS + self.offsets).get(platform, timedelta(0))


@dataclass(frozen=True)
class SiteConfig:
    """content/site.yaml, validated. `base_url` always ends with '/'."""

    base_url: str
    title: str
    description: str
    language: str
    timezone: str
    author: str
    organization: Organization
    newsletter: NewsletterConfig
    posts_per_page: int = 10
    feed_items: int = 20
    social: SocialConfig = SocialConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: '/' or '/blog/'."""
        rest = self.base_url.split("://", 1)[1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"

    def url(self, path: str) -> str:
        """Absolute URL of a site-relative path ('' is the home page)."""
        return self.base_url + path.lstrip("/")


@dataclass(frozen=True)
class Tag:
    name: str
    slug: str

    @property
    def path(self) -> str:
        return f"tags/{self.slug}/"


@dataclass(frozen=True)
class Evidence:
    """A citation backing an article's health claims: DOI, PMID or URL, with a title."""

    citation: str
    title: str
    supports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Acceptance:
    """An author's acceptance of one rule's findings in one article, with the reason."""

    rule: str
    reason: str


ARTICLE_KINDS = ("article", "patient-story")


@dataclass(frozen=True, eq=False)
class Article:
    """One published (or previewed) article. `html` is sanitised; `text` is what a reader reads."""

    source: str               # path relative to the project root: content/posts/x.md
    slug: str
    title: str
    date: datetime            # timezone-aware
    updated: datetime | None
    author: str
    summary: str
    tags: tuple[Tag, ...]
    draft: bool
    image: str | None
    image_alt: str | None
    body_line: int            # file line number of the body's first line (the body as written is in `lines`)
    html: str
    text: str
    word_count: int
    front: YamlDoc = field(repr=False)
    evidence: tuple[Evidence, ...] = ()
    reviewed_by: str | None = None
    reviewed_on: datetime | None = None
    accept: tuple[Acceptance, ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False)  # the whole source file
    links: tuple[str, ...] = ()  # every link and image target in the body, as written
    newsletter_subject: str | None = None
    newsletter_preheader: str | None = None
    social: tuple[tuple[str, str], ...] = ()   # platform -> the author's own post text
    image_focus: tuple[float, float] | None = None   # where crops of the lead image centre (fractions)
    lang: str = ""            # language tag (front matter `lang:`, default the site's `language`)
    kind: str = "article"     # article or patient-story (front matter `kind:`)

    @property
    def path(self) -> str:
        """Site-relative URL path of the article page."""
        return f"{self.slug}/"

    @property
    def modified(self) -> datetime:
        return self.updated or self.date

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.word_count / 230))


def remade(cls, **values):
    """An instance of a frozen dataclass with these field values, its constructor not run (they
    were checked when it was first made): for what the build records give back, thousands at a
    time."""
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


@dataclass(frozen=True)
class Reads:
    """What an output shows, as the channel that makes it declares it: the incremental build
    (pipeline.incremental.cache) alone turns it into a key and decides whether the output must be made again.
    `kind` names the templates and settings it is rendered with (see build.base_keys),
    `articles` the articles whose fields it may show, `values` anything else it shows (plain
    values), `tags` whether it shows the site's list of tags with their counts, `neighbours`
    the index in site.articles of an article whose page links the articles before and after it."""

    kind: str
    articles: tuple = ()
    values: tuple = ()
    tags: bool = False
    neighbours: int | None = None


@dataclass(frozen=True)
class Site:
    """Everything the channels render from. Articles newest first."""

    root: str
    config: SiteConfig
    articles: tuple[Article, ...]
    tags: tuple[tuple[Tag, tuple[Article, ...]], ...]
    rules: "object"           # pipeline.compliance.rules.Rules
    build_time: datetime      # from SOURCE_DATE_EPOCH or the newest article; never the wall clock
    now: datetime             # the publishing clock: --now, or the wall clock
    hydrator: object = field(default=None, repr=False, compare=False)  # incremental.bodies.Hydrator
    images: object = field(default=None, repr=False, compare=False)    # pipeline.images.Images

    def whole(self, article: Article) -> Article:
        """The article with its body (a build loads articles without it: incremental.bodies)."""
        return self.hydrator(article) if self.hydrator is not None else article


@dataclass(frozen=True)
class Artifact:
    """One output file as rendered (a build writes it and keeps it without its content). `path`
    is relative to output/ (posix); `articles` are the slugs of the articles it presents in full,
    which decides the disclaimers it must carry."""

    path: str
    content: bytes
    channel: str
    media_type: str
    articles: tuple[str, ...] = ()
    for_readers: bool = True  # False for sitemaps, robots.txt and assets: no disclaimers expected

    @cached_property
    def sha256(self) -> str:
        """Hex digest of the content: the check cache and the writer both key on it."""
        return hashlib.sha256(self.content).hexdigest()

    def without_content(self, sha256: str | None = None) -> Artifact:
        """The same artifact once written, with the hash of its content (`sha256`: of the content
        it was written with, when it holds none): what the build keeps of it."""
        return remade(Artifact, path=self.path, content=b"", channel=self.channel, media_type=self.media_type,
                      articles=self.articles, for_readers=self.for_readers, sha256=sha256 or self.sha256)
