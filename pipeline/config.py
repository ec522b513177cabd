"""Configuration stage: content/site.yaml -> SiteConfig, every key declared, unknown keys errors."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.compliance.exports import FORMATS
from pipeline.model import PLATFORMS, NewsletterConfig, Organization, SiteConfig, SmtpConfig, SocialConfig
from pipeline.schema import Field, Invalid, Kind, Schema, integer, line, load_settings, matching, one_of, text
from pipeline.slugs import slugify

CONFIG_FILE = "content/site.yaml"


def _url(value) -> str:
    value = text().check(value)
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise Invalid(f"expected an absolute URL like https://clinic.example/, got {value!r}")
    return value


def _base_url(value) -> str:
    value = _url(value)
    return value if value.endswith("/") else value + "/"


def _unsubscribe(value) -> str:
    value = text().check(value)
    merge_tag = re.fullmatch(r"\*\|[A-Z_]+\|\*|\{\{\s*[\w.]+\s*\}\}|%[\w.]+%|\[[\w.]+\]", value)
    # One URL: List-Unsubscribe holds it between < and >, after which a comma starts another.
    if not merge_tag and not re.fullmatch(r"https://[^\s/?#<>,\"\\@]+(?:[/?#][^\s<>,\"\\]*)?", value):
        raise Invalid(f"expected an https:// URL or an email-service merge tag such as *|UNSUB|*, got {value!r} "
                      f"(one URL: no spaces, quotes, <, >, commas or user@ part)")
    if not value.isascii():   # List-Unsubscribe carries it as written, and no mail client decodes it there
        raise Invalid(f"write the URL's characters that are not ASCII percent-encoded: {ascii_url(value)}")
    return value


def ascii_url(url: str) -> str:
    """`url` with its characters that are not ASCII percent-encoded as UTF-8 (as a browser sends it)."""
    return re.sub(r"[^\x00-\x7f]+", lambda m: quote(m.group()), url)


def _mailto(value) -> str:
    value = text().check(value)
    if not re.fullmatch(r"mailto:[^@\s<>,]+@[^@\s<>,?]+(\?[^\s<>,]*)?", value):
        raise Invalid(f"expected mailto:address@domain, got {value!r}")
    if not value.isascii():   # as for unsubscribe_url: List-Unsubscribe carries it as written
        raise Invalid(f"write the address's characters that are not ASCII percent-encoded: {ascii_url(value)}")
    return value


# An address a message can carry as written (RFC 5322 dot-atoms, ASCII): local@domain.tld
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = rf"{ATEXT}(?:\.{ATEXT})*"
_ADDRESS = rf"{DOT_ATOM}@{DOT_ATOM}\.{ATEXT}"
_MAILBOX = re.compile(rf'(?:(?P<name>[^<>]*?)\s*<(?P<angle>{_ADDRESS})>|(?P<bare>{_ADDRESS}))')


def mailbox_parts(value: str) -> tuple[str, str]:
    """(display name, address) of 'Name <address>' or 'address', as written: the name is all
    before '<' (colons, commas and all; the email package quotes it as RFC 5322 requires), one
    pair of surrounding double quotes removed. ValueError when it is not one such mailbox."""
    match = _MAILBOX.fullmatch(value.strip())
    if match is None:
        raise ValueError(value)
    name = (match["name"] or "").strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r'\\(.)', r"\1", name[1:-1])
    return name, match["angle"] or match["bare"]


def _mailbox(value) -> str:
    value = text().check(value)
    if "\n" in value or "\r" in value:
        raise Invalid("must be on one line")
    try:
        mailbox_parts(value)
    except ValueError:
        raise Invalid(f"expected one address like 'Next Level PT <news@clinic.example>', got {value!r} (an "
                      f"address is ASCII words joined by dots, one @, then a domain with a dot)") from None
    return value


def _timezone(value) -> str:
    value = text().check(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown timezone {value!r}; use an IANA name like America/New_York") from None
    return value


URL = Kind("an absolute URL", _url)
MAILBOX = Kind("an email address", _mailbox)

ORGANIZATION = Schema((
    Field("name", line(200), "The clinic's legal or trading name, as readers know it.", required=True,
          example="name: Next Level PT"),
    Field("postal_address", text(300), "Physical postal address; CAN-SPAM requires it in every email.",
          required=True, example="postal_address: 123 Main St, Avon, CT 06001"),
    Field("url", URL, "The clinic's main website, if it is not the blog itself."),
    Field("phone", text(40), "Phone number shown in page footers."),
), name="the organization's details")

def _host(value) -> str:
    value = line(253).check(value)
    if not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", value):
        raise Invalid(f"expected a host name like smtp.example.com, got {value!r}")
    return value


def _no_password(value) -> str:
    raise Invalid("a password is never kept in a file; remove this line and set the environment variable "
                  "PIPELINE_SMTP_PASSWORD when you run `pipeline send-test`")


SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

SMTP = Schema((
    Field("host", Kind("a host name", _host), "The SMTP server's host name.", required=True,
          example="host: smtp.example.com"),
    Field("port", integer(1, 65535), "Its port; default by security: 587 (starttls), 465 (ssl), 25 (none)."),
    Field("security", one_of(*SMTP_PORTS), "starttls (upgrade to TLS after connecting), ssl (TLS from the start) "
          "or none (plain text: only for a server on this machine or a test server).", default="starttls"),
    Field("username", line(320), "The login, if the server asks for one; its password comes only from the "
          "environment variable PIPELINE_SMTP_PASSWORD."),
    Field("password", Kind("nothing", _no_password), "Not allowed: see username."),
), name="the SMTP settings")

NEWSLETTER = Schema((
    Field("from", Kind("an email address", _mailbox), "From header: 'Name <address>'.", required=True,
          example="from: Next Level PT <news@clinic.example>"),
    Field("reply_to", MAILBOX, "Reply-To header: where replies go.", required=True,
          example="reply_to: frontdesk@clinic.example"),
    Field("unsubscribe_url", Kind("an https URL or merge tag", _unsubscribe),
          "One-click unsubscribe URL, or the email service's merge tag such as *|UNSUB|*.", required=True,
          example="unsubscribe_url: https://clinic.example/unsubscribe"),
    Field("unsubscribe_mailto", Kind("a mailto: address", _mailto), "Optional mailto: unsubscribe address for the "
          "List-Unsubscribe header, e.g. mailto:unsubscribe@clinic.example?subject=unsubscribe."),
    Field("smtp", SMTP, "Where `pipeline send-test` sends a test message: host, port, security, username."),
), name="the newsletter settings")

def _duration(value) -> timedelta:
    """'90m', '2h', '1d 3h', '0' -> timedelta."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    raw = text(40).check(value)
    parts = re.findall(r"(\d+)\s*([dhm])", raw)
    if not re.fullmatch(r"(\s*\d+\s*[dhm]\s*)+|\s*0\s*", raw):
        raise Invalid(f"expected a delay like 0m, 90m, 2h or 1d 3h, got {raw!r}")
    units = {"d": "days", "h": "hours", "m": "minutes"}
    delta = timedelta()
    for amount, unit in parts:
        delta += timedelta(**{units[unit]: int(amount)})
    return delta


def _hashtag(value) -> str:
    if value is False or value is None or value == "":
        return ""
    value = text(100).check(value).lstrip("#")
    if not re.fullmatch(r"\w+", value):
        raise Invalid(f"a hashtag is letters, digits and underscores only, got {value!r}")
    return value


def _mapping_of(kind: Kind, keys: tuple[str, ...] | None = None):
    def check(value):
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping, got {value!r}")
        out = {}
        for key, item in value.items():
            if keys is not None and key not in keys:
                raise Invalid(f"unknown platform {key!r}; use {', '.join(keys)}")
            try:
                out[key] = kind.check(item)
            except Invalid as exc:
                raise Invalid(f"{key}: {exc}") from None
        return out
    return Kind("a mapping", check)


def _platforms(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise Invalid("expected a list of platforms")
    for item in value:
        if item not in PLATFORMS:
            raise Invalid(f"unknown platform {item!r}; use {', '.join(PLATFORMS)}")
    return value


# The defaults are SocialConfig's: a site.yaml without `social:` gets the same settings as one
# that leaves every key of it out.
SOCIAL = Schema((
    Field("platforms", Kind("platforms", _platforms), "Platforms to write posts for.",
          default=list(SocialConfig.platforms)),
    Field("hashtags", _mapping_of(Kind("a hashtag", _hashtag)), "Tag -> hashtag (without #); an empty value "
          "drops the tag. Unmapped tags become CamelCase hashtags.", default={}),
    Field("max_hashtags", integer(0, 5), "Hashtags per post at most (Instagram allows 5).",
          default=SocialConfig.max_hashtags),
    Field("offsets", _mapping_of(Kind("a delay", _duration), PLATFORMS), "Delay after the article's date per "
          "platform, e.g. {x: 0m, linkedin: 2h, instagram: 1d}.", default={}),
    Field("datetime_format", one_of(*FORMATS), "Date format of column A in the Hootsuite CSV files "
          "(24-hour clock).", default=SocialConfig.datetime_format),
    Field("mastodon_limit", integer(100, 100000), "Your Mastodon instance's post limit.",
          default=SocialConfig.mastodon_limit),
    Field("catch_up", Kind("a delay", _duration), "How long after an article's date its posts whose times have "
          "passed still go out, in the next free slots after the build's clock; 0m: never.",
          default=SocialConfig.catch_up),
), name="the social settings")

SITE = Schema((
    Field("base_url", Kind("an absolute URL", _base_url), "Where the blog is published, e.g. https://clinic.example/blog/.",
          required=True, example="base_url: https://clinic.example/"),
    Field("title", line(120), "The blog's name, shown in page titles and feeds.", required=True,
          example="title: The Next Level PT Blog"),
    Field("description", text(300), "One sentence about the blog, for the home page and feeds.",
          default=""),
    Field("language", matching(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", " (use a language tag like en or en-US)"),
          "Language tag of the content (BCP 47), e.g. en-US.", required=True, example="language: en-US"),
    Field("timezone", Kind("a timezone", _timezone), "IANA timezone for dates without one.", required=True,
          example="timezone: America/New_York"),
    Field("author", text(120), "Default author for articles that name none.", required=True,
          example="author: The Patch Team"),
    Field("organization", ORGANIZATION, "Who publishes: name and postal address.", required=True,
          example="organization: {name: ..., postal_address: ...}"),
    Field("newsletter", NEWSLETTER, "Sender details for the newsletter channel.", required=True,
          example="newsletter: {from: ..., reply_to: ..., unsubscribe_url: ...}"),
    Field("posts_per_page", integer(1, 100), "Articles per index page.", default=10),
    Field("feed_items", integer(1, 500), "How many of the newest articles the feeds carry.", default=20),
    Field("social", SOCIAL, "Social posts: platforms, hashtags, schedule offsets, export format.", default={}),
), name="the site settings")


def load_config(root: Path) -> SiteConfig:
    """Read and validate content/site.yaml; raise PipelineError with every problem found."""
    clean, _ = load_settings(root, CONFIG_FILE, SITE, "the site settings file is missing; create it with base_url, "
                             "title, language, timezone, author, organization and newsletter")
    org, news = clean["organization"], clean["newsletter"]
    return SiteConfig(
        base_url=clean["base_url"], title=clean["title"], description=clean["description"],
        language=clean["language"], timezone=clean["timezone"], author=clean["author"],
        organization=Organization(org["name"], org["postal_address"], org["url"], org["phone"]),
        newsletter=NewsletterConfig(news["from"], news["reply_to"], news["unsubscribe_url"],
                                    news["unsubscribe_mailto"], _smtp(news["smtp"])),
        posts_per_page=clean["posts_per_page"], feed_items=clean["feed_items"],
        social=_social(clean["social"] or {}),
    )


def _smtp(clean: dict | None) -> SmtpConfig | None:
    if not clean:
        return None
    security = clean["security"] or "starttls"
    return SmtpConfig(clean["host"], clean["port"] or SMTP_PORTS[security], security, clean["username"])


def _social(clean: dict) -> SocialConfig:
    """The checked `social:` settings ({} when site.yaml has none); a key left out keeps
    SocialConfig's default."""
    given = {name: clean[name] for name in ("max_hashtags", "datetime_format", "mastodon_limit", "catch_up")
             if clean.get(name) is not None}
    if clean.get("platforms"):
        given["platforms"] = tuple(clean["platforms"])
    return SocialConfig(hashtags=tuple((slugify(tag), tag_value)
                                       for tag, tag_value in sorted((clean.get("hashtags") or {}).items())),
                        offsets=tuple(sorted((clean.get("offsets") or {}).items())), **given)
