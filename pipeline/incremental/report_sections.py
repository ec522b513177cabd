"""The compliance report assembled: each article's section rendered again only when what it shows
changed since the last build (its key in the build records, or in the build cache), else copied
from the last report (where the records' layout places it) or unpacked from the records; the
report streamed in pieces, and kept unwritten when its bytes are the last one's."""

from __future__ import annotations

import os
import zlib
from operator import is_
from typing import Iterator

from pipeline.compliance.report import MARKER, NAME, SECTION, Report
from pipeline.incremental import cache
from pipeline.incremental.records import findings_digest
from pipeline.incremental.work import SECTION_COPIED, SECTION_UNPACKED
from pipeline.model import Artifact, Reads


def assemble(made: Report, records=None, last=None) -> tuple[Artifact, Iterator[bytes], bool]:
    """`records` (records.Records): the last build's article sections and where this build's go,
    so a section whose article and findings are unchanged is neither unpacked nor rendered, only
    copied into place (from `last`, the last build's report.html opened for reading, at the place
    the records' layout says, when given; else from the records); without, sections come from the
    build cache. Returns the artifact without its content, the content in pieces, to be written
    (or joined) one piece at a time (the report grows with the site, a section per article), and
    whether those bytes are the last report's (`last`), page and sections alike, in the same
    order: then the file can be kept as it is, unwritten. records.new_layout gets where each
    section is."""
    # Per article: its html (UTF-8, compressed: sections repeat, and a large site's report holds
    # many megabytes of them), or None when the last build's is kept.
    sections: list = []
    for section in made.sections:
        article, source = section.article, section.article.source
        if records is None:
            entry = section.entry()
            shown = Reads(SECTION, (article,), (section.url, entry["channels"], entry["claims"], section.findings))
            html = cache.memo_reads(shown, lambda: made.render_section(entry))
            sections.append((source, zlib.compress(html.encode("utf-8"), 1)))
            continue
        # Everything the section shows: the article, its checks and claims, its findings. Those
        # are most often the very findings of its record (the same objects, in the same order),
        # whose digest the record holds; else they are hashed here.
        record, own = section.record, section.record.findings
        found = record.findings_digest if len(own) == len(section.findings) and all(map(is_, own, section.findings)) \
            else findings_digest(section.findings)
        key = cache.key(Reads(SECTION, (article,), (section.url, record.checks_digest, section.extra, found)))
        if records.section_keys.get(source) == key:
            records.new_sections[source] = (key, None)
            sections.append((source, None))
        else:
            html = zlib.compress(made.render_section(section.entry()).encode("utf-8"), 1)
            cache.did(SECTION, source)
            records.new_sections[source] = (key, html)
            sections.append((source, html))

    layout = records.layout if records is not None and last is not None else {}
    placed: dict = {}

    def kept(source: str, placing: bool = False) -> bytes:
        """A section the last build made: read from its report where the layout places it (a
        read of a few KB), else unpacked from the records. `placing`: into this build's report
        (noted as done: see pipeline.incremental.work), not to compare."""
        where = layout.get(source)
        if where is not None:
            data = os.pread(last.fileno(), where[1], where[0])
            if len(data) == where[1]:
                if placing:
                    cache.did(SECTION_COPIED)
                return data
        if placing:
            cache.did(SECTION_UNPACKED)
        return zlib.decompress(records.section(source))

    def pieces() -> Iterator[bytes]:
        at = 0
        for index, piece in enumerate(MARKER.split(made.page)):   # text, section number, text, ...
            if index % 2 == 0:
                data = piece.encode("utf-8")
            else:
                source, html = sections[int(piece)]
                data = kept(source, placing=True) if html is None else zlib.decompress(html)
                placed[source] = (at, len(data))
            at += len(data)
            yield data
        if records is not None:
            records.new_layout = placed

    same = False
    if records is not None:
        records.new_layout_page = cache.digest(made.page)
        same = last is not None and records.new_layout_page == records.layout_page and \
            _as_written(sections, layout, kept)
        if same:
            records.new_layout = layout
    return Artifact("report.html", b"", NAME, "text/html", for_readers=False), pieces(), same


def _as_written(sections: list, layout: dict, kept) -> bool:
    """Are these sections ((source, html compressed, or None: kept) in order) the last report's,
    in its order and byte for byte? (A section rendered again often is: an edit to an article's
    body that moves none of its findings.)"""
    if len(layout) != len(sections) or sorted(layout, key=layout.__getitem__) != [s for s, _ in sections]:
        return False
    return all(html is None or zlib.decompress(html) == kept(source) for source, html in sections)
