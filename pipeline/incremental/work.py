"""A build's account of its work: what it made, read, converted, drew and compiled, and what it
took from earlier builds instead (as Lektor reports each artifact built or skipped, and Hugo a
table of what a build processed). Counted by this package and the build as the work is done, in
whichever process does it (cache.did: workers hand their notes back with their results), never
by the channels; `pipeline build -v` prints it in one line, and tests read it from the result."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.channels.blog import CARD
from pipeline.compliance.report import SECTION
from pipeline.incremental.cache import READ, TEMPLATE

MARKDOWN = "markdown"                    # the kind of a Markdown conversion in the build cache
SECTION_COPIED = "section copied"        # an unchanged report section read from the last report
SECTION_UNPACKED = "section unpacked"    # one unpacked from the build records instead


@dataclass(frozen=True)
class Work:
    """What one build did. Names are sources (content/posts/...) unless said otherwise, in the
    order the work was done; what is counted twice was done twice."""

    articles: int = 0                         # published articles
    articles_rendered: tuple[str, ...] = ()   # whose own outputs were made, from the build cache or
                                              # afresh (the others' were taken from the build records)
    sources: int = 0                          # valid source files (drafts included)
    sources_read: tuple[str, ...] = ()        # each reading of a source file (an article whose
                                              # outputs are made is read again for its body)
    sources_parsed: tuple[str, ...] = ()      # validated afresh (the others taken from the records)
    markdown_conversions: int = 0
    cards_drawn: tuple[str, ...] = ()         # link-preview cards
    templates_compiled: tuple[str, ...] = ()  # channel/file (the others loaded compiled from .pipeline/)
    site_files_made: tuple[str, ...] = ()     # output paths of site-wide files (listings, feeds,
                                              # social JSON and exports, static files, images) made
    site_files_reused: int = 0                # taken from the build records
    report_sections_rendered: tuple[str, ...] = ()   # the compliance report's article sections
    report_sections_copied: int = 0           # unchanged, read from the last build's report.html
    report_sections_unpacked: int = 0         # unchanged, unpacked from the build records
    report_written: bool = False              # else the last report is kept as it is
    files_linked: int = 0                     # unchanged files of output/ hard-linked into the new one

    @property
    def articles_reused(self) -> int:
        return self.articles - len(self.articles_rendered)

    @classmethod
    def of(cls, done: list, **counted) -> Work:
        """The account from what the build noted as done (cache.did and the build cache's
        computations: (what, name) pairs) and what it `counted` itself (fields of Work)."""
        named: dict[str, list] = {READ: [], MARKDOWN: [], CARD: [], TEMPLATE: [], SECTION: [], SECTION_COPIED: [],
                                  SECTION_UNPACKED: []}
        for what, name in done:
            found = named.get(what)
            if found is not None:
                found.append(name)
        return cls(sources_read=tuple(named[READ]), markdown_conversions=len(named[MARKDOWN]),
                   cards_drawn=tuple(named[CARD]), templates_compiled=tuple(named[TEMPLATE]),
                   report_sections_rendered=tuple(named[SECTION]),
                   report_sections_copied=len(named[SECTION_COPIED]),
                   report_sections_unpacked=len(named[SECTION_UNPACKED]), **counted)
