"""Front matter stage: splits an article into its '---' YAML block and its Markdown body,
keeping line numbers so every later finding points into the whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import FindingList, Location

_FENCE = re.compile(r"---[ \t]*")
_CLOSE = re.compile(r"(---|\.\.\.)[ \t]*")


@dataclass(frozen=True)
class SplitSource:
    yaml_text: str
    yaml_line_offset: int   # file lines before the YAML text (the opening '---')
    body: str
    body_line: int          # 1-based file line of the body's first line
    lines: tuple[str, ...]  # every line of the file


def split_front_matter(text: str, rel: str, findings: FindingList) -> SplitSource | None:
    lines = tuple(text.split("\n"))
    if not lines or not _FENCE.fullmatch(lines[0]):
        findings.add(Location(rel, 1, 1), "missing front matter: start the file with a line '---', then "
                     "`title:` and `date:` lines, then another '---' line", source=lines[0] if lines else "")
        return None
    for index in range(1, len(lines)):
        if _CLOSE.fullmatch(lines[index]):
            return SplitSource("\n".join(lines[1:index]), 1, "\n".join(lines[index + 1:]), index + 2, lines)
    findings.add(Location(rel, 1, 1), "the front matter that starts here is never closed; add a line '---' "
                 "after the last field", source=lines[0])
    return None
