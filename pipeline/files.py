"""Listing a folder tree fast: os.scandir and strings (Path objects for tens of thousands of
output files would cost more than the listing itself)."""

from __future__ import annotations

import os
from typing import Iterator


def walk(folder: str, skip: type[OSError] | tuple = OSError) -> Iterator[tuple[str, os.DirEntry]]:
    """(path relative to `folder`, posix; its DirEntry) of every entry below `folder` that is not a
    folder (links are not followed into folders), in no particular order. A folder that cannot be
    listed with an error of type `skip` is left out."""
    pending = [("", folder)]
    while pending:
        prefix, place = pending.pop()
        try:
            with os.scandir(place) as listing:
                entries = list(listing)
        except skip:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append((prefix + entry.name + "/", entry.path))
            else:
                yield prefix + entry.name, entry
