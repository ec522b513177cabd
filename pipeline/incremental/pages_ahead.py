"""The blog's site-wide pages rendered ahead: keyed, and those whose keys moved since the last
build rendered, in a forked process while the parent renders the articles (see build._run)."""

from __future__ import annotations

import os
from typing import Iterator

from pipeline.incremental import cache
from pipeline.channels import blog
from pipeline.limits import Limit
from pipeline.model import Artifact, Site

# What is rendered ahead is handed back, and held until written.
RENDER_AHEAD = Limit("PIPELINE_RENDER_AHEAD_BYTES", 8_000_000, "bytes of the blog's site-wide pages rendered ahead")


def pages_ahead(site: Site, known: dict[str, str]) -> tuple:
    """blog.site_pages as ([(path, key)], rendered): `rendered` holds the fields of the artifacts
    of a page whose key is not the one the last build recorded (`known`: path -> key), up to
    RENDER_AHEAD bytes; else None. Plain values, to be handed back, with what the process that
    made them did (cache.did: the templates it compiled); see pages_from."""
    result, spent, budget = [], 0, RENDER_AHEAD.value()
    done = cache.current().done
    start = len(done)
    for declared, make in blog.site_pages(site):
        pairs = [(path, cache.key(reads)) for path, reads in declared]
        rendered = None
        if spent < budget and not all(known.get(path) == key for path, key in pairs):
            artifacts = make()
            rendered = [(a.path, a.content, a.channel, a.media_type, a.articles, a.for_readers) for a in artifacts]
            spent += sum(len(a.content) for a in artifacts)
        result.append((pairs, rendered))
    return os.getpid(), done[start:], result


def pages_from(site: Site, ahead: tuple) -> Iterator[tuple[list[tuple[str, str]], object]]:
    """The groups of blog.site_pages from pages_ahead: a page rendered ahead is taken as it is;
    one that was not (its bytes were known, or the budget was spent) is rendered when asked for
    (site_pages is gone through again, once, if any is)."""
    pid, done, ahead = ahead
    if pid != os.getpid():   # made by a forked process: what it did is this build's work too
        cache.current().done.extend(done)
    return _groups(site, ahead)


def _groups(site: Site, ahead: list) -> Iterator[tuple[list[tuple[str, str]], object]]:
    again: list = []

    def made_here(index: int) -> list[Artifact]:
        if not again:
            again.append([make for _, make in blog.site_pages(site)])
        return again[0][index]()

    for index, (pairs, rendered) in enumerate(ahead):
        if rendered is not None:
            yield pairs, (lambda rendered=rendered: [Artifact(*fields) for fields in rendered])
        else:
            yield pairs, (lambda index=index: made_here(index))
