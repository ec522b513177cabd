"""Citations as readers follow them: an evidence entry's DOI, PMID or URL (as front matter accepts
them, see article_fields._citation) made into the address that opens the source and a short label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from pipeline.model import Evidence

_DOI = re.compile(r"(?:doi:\s?)?(10\.\d{4,9}/\S+)", re.IGNORECASE)
_PMID = re.compile(r"(?:PMID:?\s?)?(\d{1,9})", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """A cited source: its title, where it opens (href) and how its identifier reads (label)."""

    title: str
    href: str
    label: str
    kind: str   # "doi", "pmid" or "url"


def source(evidence: Evidence) -> Source:
    """DOIs open at doi.org, PMIDs at PubMed, URLs as they are; labels: 'doi:10.x/y', 'PMID: 123',
    or the URL's host."""
    citation = evidence.citation.strip()
    doi = _DOI.fullmatch(citation)
    if doi:
        return Source(evidence.title, "https://doi.org/" + quote(doi.group(1), safe="/:;()"),
                      "doi:" + doi.group(1), "doi")
    pmid = _PMID.fullmatch(citation)
    if pmid:
        number = str(int(pmid.group(1)))
        return Source(evidence.title, f"https://pubmed.ncbi.nlm.nih.gov/{number}/", f"PMID: {number}", "pmid")
    host = urlsplit(citation).hostname or citation
    return Source(evidence.title, citation, host.removeprefix("www."), "url")


def sources(evidence: tuple[Evidence, ...]) -> list[Source]:
    """Each cited source once (two entries may cite one source for different claims), in order."""
    seen: dict[str, Source] = {}
    for entry in evidence:
        made = source(entry)
        seen.setdefault(made.href, made)
    return list(seen.values())
