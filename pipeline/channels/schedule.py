"""When each social post goes out: its article's date plus the platform's offset, rounded up to
Hootsuite's 5-minute grid; a post whose time has passed (less than 10 minutes after the build's
clock) goes out in the next free slot after the clock while its article is within
`social.catch_up` of the clock, and is left out of the exports after that. Every post left out
is counted, with its reason, for the build's summary line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.compliance.exports import LEAD_TIME, MAX_ROWS, SLOT
from pipeline.model import Article, Site
from pipeline.wording import counted, span

STAMP_EVENT = 0.001                     # seconds either side of the clock: see clock_events


@dataclass
class Schedule:
    """(article slug, platform) -> time slot of every post in the exports, and what is not."""

    times: dict[tuple[str, str], datetime] = field(default_factory=dict)
    caught_up: int = 0     # posts whose planned time had passed, in the next free slots
    passed: int = 0        # posts whose time had passed, of articles older than catch_up: left out
    over: dict[str, int] = field(default_factory=dict)   # platform -> posts beyond MAX_ROWS in its CSV


def slot(moment: datetime) -> datetime:
    """Round up to the next time ending in 0 or 5 minutes."""
    moment = moment.replace(second=0, microsecond=0) + (timedelta(minutes=1) if moment.second or
                                                         moment.microsecond else timedelta(0))
    return moment + timedelta(minutes=(-moment.minute) % (SLOT.seconds // 60))


def earliest(site: Site) -> datetime:
    """The first slot a post may take: at least LEAD_TIME after the clock, in the site's timezone."""
    return slot(site.now.astimezone(site.config.tz) + LEAD_TIME)


def schedule(site: Site, per_article: list[tuple[Article, tuple[str, ...]]]) -> Schedule:
    """Every post's slot (see the module): one post per slot and platform, a taken slot moving to
    the next. Posts keep their planned slots first; the caught-up ones then take the free slots
    from `earliest` on, oldest article first and in the platforms' order."""
    config = site.config.social
    tz = site.config.tz
    first = earliest(site)
    result = Schedule()
    taken: dict[str, set] = {}
    late: list[tuple[str, str]] = []
    latest = max((config.offset(name) for name in config.platforms), default=timedelta(0))
    for article, posted in sorted(per_article, key=lambda pair: (pair[0].date.timestamp(), pair[0].slug)):
        names = [name for name in config.platforms if name in posted]
        recent = site.now - article.date <= config.catch_up
        if article.date + latest + SLOT <= first and not recent:
            result.passed += len(names)   # every slot rounds up by less than SLOT: all of its posts are past
            continue
        for name in names:
            when = slot(article.date.astimezone(tz) + config.offset(name))
            if when < first:
                if recent:
                    late.append((article.slug, name))
                else:
                    result.passed += 1
                continue
            while when in taken.setdefault(name, set()):
                when += SLOT
            taken[name].add(when)
            result.times[(article.slug, name)] = when
    for slug, name in late:
        when = first
        while when in taken.setdefault(name, set()):
            when += SLOT
        taken[name].add(when)
        result.times[(slug, name)] = when
    result.caught_up = len(late)
    for name, used in taken.items():
        if len(used) > MAX_ROWS:
            result.over[name] = len(used) - MAX_ROWS
    return result


def summary(site: Site, made: Schedule) -> tuple[str, ...]:
    """What the build's summary line says of the posts left out of the exports, with why."""
    notes = []
    older = f"(articles older than {span(site.config.social.catch_up)})"
    if made.passed and not made.times:
        notes.append(f"the scheduling exports are empty: the times of all {counted(made.passed, 'social post')} "
                     f"have passed {older}")
    elif made.passed:
        notes.append(f"{counted(made.passed, 'social post')} left out of the schedule: their times have passed "
                     f"{older}")
    for name, count in sorted(made.over.items()):
        notes.append(f"{counted(count, 'social post')} left out of hootsuite-{name}.csv: Hootsuite takes at most "
                     f"{MAX_ROWS} per upload (calendar.ics has them all)")
    return tuple(notes)


def clock_events(site: Site) -> list[float]:
    """The clock readings (POSIX time) at which the schedule changes: a post's slot minus the lead
    time (it is due: caught up or left out), the end of an article's catch-up time (its late posts
    are left out); and, while any post is in the exports, the readings just either side of this
    build's clock: their calendar is stamped with it, and caught-up posts follow it."""
    tz = site.config.tz
    config = site.config.social
    offsets = {config.offset(name) for name in config.platforms}
    # Rounding the local time up to a slot commutes with adding a whole number of slots (the
    # arithmetic is on the wall clock), so most offsets need no rounding of their own.
    whole = [offset - LEAD_TIME for offset in offsets if not offset % SLOT]
    other = [offset for offset in offsets if offset % SLOT]
    first = earliest(site)
    last_slot = max((config.offset(name) for name in config.platforms), default=timedelta(0)) + SLOT
    events = []
    exported = False
    for article in site.articles:
        local = article.date.astimezone(tz)
        rounded = slot(local)
        events += [(rounded + shift).timestamp() for shift in whole]
        events += [(slot(local + offset) - LEAD_TIME).timestamp() for offset in other]
        events.append((article.date + config.catch_up).timestamp())
        exported = exported or site.now - article.date <= config.catch_up or article.date + last_slot > first
    if exported and config.platforms:
        now = site.now.timestamp()
        events += [now - STAMP_EVENT, now + STAMP_EVENT]
    return events
