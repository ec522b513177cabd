"""What the incremental build trusts of a file or folder without reading it: its stat signature,
and whether it was changed too recently for that to hold."""

from __future__ import annotations

RACY_NS = 1_000_000_000   # a file modified this close to a reading of the clock may change again
                          # within the same clock tick: its stat is not trusted (git's "racy" rule)


def signature(stat) -> tuple[int, int, int, int]:
    """What identifies a file's bytes without reading them: size, mtime and ctime (a hand edit
    that puts the mtime back still moves the ctime, which no user can set), and the inode (equal
    signatures in output/ and the spare tree mean one file under two names)."""
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def folder_signature(stat) -> tuple[int, int]:
    """What identifies a folder's entries without listing it: mtime (adding, removing or renaming
    an entry moves it, as POSIX requires) and ctime (which no user can set back)."""
    return stat.st_mtime_ns, stat.st_ctime_ns
