"""Channels: each module has `render(site)`, an iterable of Artifacts, pure but for reading its templates.

CHANNELS is the explicit, ordered tuple the build runs."""

from pipeline.channels import blog, feed, newsletter, social

CHANNELS = (blog, feed, newsletter, social)
