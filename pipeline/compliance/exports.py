"""Checks of the social scheduling exports as the tools that import them see them: Hootsuite's
bulk-composer rules for every CSV row, and social posts left out because their time has passed."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from pipeline.errors import ERROR, WARNING, Finding, Location
from pipeline.model import Artifact, Site
from pipeline.wording import span

# Hootsuite's bulk composer: what the schedule follows (channels/schedule.py) and this checks.
LEAD_TIME = timedelta(minutes=10)   # a post at least 10 minutes after the upload
SLOT = timedelta(minutes=5)         # times end in 0 or 5
MAX_ROWS = 350                      # posts per upload

HOOTSUITE = "hootsuite-csv"
SOCIAL_PAST = "social-past"
FORMATS = {"dd/mm/yyyy hh:mm": "%d/%m/%Y %H:%M", "mm/dd/yyyy hh:mm": "%m/%d/%Y %H:%M"}   # column A's
FORMULA_START = ("=", "+", "-", "@")   # a cell starting so is a formula to a spreadsheet (OWASP: CSV injection)
RECENT = timedelta(days=7)   # an article this new whose posts were dropped is worth a warning


def check_exports(site: Site, artifacts: list[Artifact]) -> list[Finding]:
    """Hootsuite's rules over every scheduling CSV (social JSON files: see past_posts)."""
    findings: list[Finding] = []
    for artifact in artifacts:
        if artifact.channel == "social" and artifact.media_type == "text/csv":
            findings += [Finding(Location(f"output/{artifact.path}", line), message, ERROR, HOOTSUITE,
                                 channel="social", artifact=f"output/{artifact.path}")
                         for line, message in hootsuite_problems(site, artifact.content)]
    return findings


def hootsuite_problems(site: Site, content: bytes) -> list[tuple[int, str]]:
    """(row number, problem) for every Hootsuite bulk-composer rule a CSV breaks."""
    fmt = FORMATS[site.config.social.datetime_format]
    tz = site.config.tz
    earliest = site.now.astimezone(tz) + LEAD_TIME
    problems = []
    try:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        return [(1, f"is not a UTF-8 CSV file: {exc}")]
    if len(rows) > MAX_ROWS:
        problems.append((MAX_ROWS + 1, f"has {len(rows)} rows; Hootsuite takes at most {MAX_ROWS} per upload"))
    times, texts = {}, {}
    for number, row in enumerate(rows, start=1):
        if len(row) not in (2, 3):
            problems.append((number, f"has {len(row)} columns; expected date-time, message and optional link"))
            continue
        try:
            when = datetime.strptime(row[0], fmt).replace(tzinfo=tz)
        except ValueError:
            problems.append((number, f"date-time {row[0]!r} is not in the format {site.config.social.datetime_format}"))
            continue
        if when.minute % (SLOT.seconds // 60):
            problems.append((number, f"time {row[0]} does not end in 0 or 5"))
        if when < earliest:
            problems.append((number, f"time {row[0]} is less than {LEAD_TIME.seconds // 60} minutes after the "
                                     f"build's clock"))
        if row[0] in times:
            problems.append((number, f"time {row[0]} is also used by row {times[row[0]]}; one post per time slot"))
        times.setdefault(row[0], number)
        if row[1] in texts:
            problems.append((number, f"the same message as row {texts[row[1]]}; Hootsuite rejects duplicates"))
        texts.setdefault(row[1], number)
        for cell in row[1:]:
            if cell.startswith(FORMULA_START):
                problems.append((number, f"cell {cell[:20]!r} starts like a spreadsheet formula"))
        if not row[1].strip():
            problems.append((number, "has an empty message"))
    return problems


def past_posts(site: Site, article, path: str, slots: dict) -> list[Finding]:
    """A warning when a new article's posts (written to `path`; platform -> time slot or None)
    were left out of the exports: their times have passed and the article is older than
    social.catch_up (shorter than RECENT; within it, late posts are caught up: see
    channels.schedule). Older articles' posts left out are counted in the build's summary line."""
    if site.now - article.date > RECENT:
        return []
    missed = sorted(name for name, when in slots.items() if when is None)
    if not missed:
        return []
    return [Finding(Location(article.source), f"the {', '.join(missed)} post(s) would go out less than 10 minutes "
                    f"from now or earlier, and the article is older than social.catch_up "
                    f"({span(site.config.social.catch_up)}), so they are left out of the scheduling exports; post "
                    f"them by hand, or raise social.catch_up in site.yaml", WARNING, SOCIAL_PAST, channel="social",
                    artifact=f"output/{path}")]
