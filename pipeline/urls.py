"""URLs for channels: absolute links, and campaign (UTM) parameters on links back to the site only.

Canonical URLs, feed ids, og:url and the sitemap never carry UTM parameters (STANDARDS U4)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from pipeline.model import SiteConfig


def absolute(config: SiteConfig, href: str, page_url: str | None = None) -> str:
    """`href` resolved against the page it appears on (default: the site root)."""
    return urljoin(page_url or config.base_url, href)


def is_site_url(config: SiteConfig, url: str) -> bool:
    return url.startswith(config.base_url)


def with_utm(url: str, source: str, medium: str, campaign: str, content: str | None = None) -> str:
    """Add utm_* parameters (lowercase values), keeping any other query and the fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    query += [("utm_source", source.lower()), ("utm_medium", medium.lower()), ("utm_campaign", campaign.lower())]
    if content:
        query.append(("utm_content", content.lower()))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
