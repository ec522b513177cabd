"""Channels: each module renders one kind of output, pure but for reading its templates. An
article's own outputs (blog page and card, newsletter files, social posts) are made per article
(`article_outputs`, `compose_posts`; see pipeline.article_stage); the site-wide ones (listing pages,
feeds, social exports) by `site_outputs` or `render`.

CHANNELS is the explicit, ordered tuple of channels (their names key the cache and the summary)."""

from pipeline.channels import blog, feed, newsletter, social

CHANNELS = (blog, feed, newsletter, social)
