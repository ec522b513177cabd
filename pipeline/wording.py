"""Counts and durations as the build's messages say them: '1 social post', '1,200 social posts',
'7 days', '36 hours'."""

from __future__ import annotations

from datetime import timedelta


def counted(n: int, word: str) -> str:
    """'1 post', '2 posts', '1,200 posts'."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def span(delta: timedelta) -> str:
    """'7 days', '36 hours', '90 minutes', '0 minutes'."""
    minutes = int(delta.total_seconds() // 60)
    if minutes and not minutes % (24 * 60):
        return counted(minutes // (24 * 60), "day")
    if minutes and not minutes % 60:
        return counted(minutes // 60, "hour")
    return counted(minutes, "minute")
