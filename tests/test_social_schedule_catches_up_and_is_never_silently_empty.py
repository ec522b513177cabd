"""An article published within social.catch_up of the build's clock whose planned post times
have passed gets its posts in the next free slots after the clock; posts still left out are
counted, with why, in the build's summary line; the calendar is stamped with the build's clock."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from conftest import SITE_YAML, cli, make_project, post

TZ = ZoneInfo("America/New_York")
PLATFORMS = ("x", "linkedin", "facebook", "instagram", "bluesky", "threads", "mastodon")


def rows(project, platform):
    raw = (project / "output/social" / f"hootsuite-{platform}.csv").read_bytes().decode("utf-8")
    return list(csv.reader(io.StringIO(raw)))


def when(row):
    return datetime.strptime(row[0], "%d/%m/%Y %H:%M").replace(tzinfo=TZ)


def test_a_build_the_day_after_publishing_schedules_every_post_after_the_clock(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Knee Basics", "2026-05-01T09:00", "Knees carry a lot. They like to move."),
        "b.md": post("Hip Strength", "2026-05-01T11:00", "Strong hips help runners."),
    })
    result = cli(project, "build", "--now", "2026-05-02T14:03")
    assert result.exit_code == 0, result.stderr
    clock = datetime(2026, 5, 2, 14, 3, tzinfo=TZ)
    for platform in PLATFORMS:
        table = rows(project, platform)
        assert len(table) == 2, platform   # every post of both articles
        times = [when(r) for r in table]
        assert times == [datetime(2026, 5, 2, 14, 15, tzinfo=TZ), datetime(2026, 5, 2, 14, 20, tzinfo=TZ)]
        assert all(t >= clock + timedelta(minutes=10) and t.minute % 5 == 0 for t in times)
        assert [r[1].split("\n")[0] for r in table] == ["Knee Basics", "Hip Strength"]   # oldest first
    calendar = Calendar.from_ical((project / "output/social/calendar.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 14
    assert {e.decoded("DTSTAMP") for e in events} == {clock.astimezone(timezone.utc)}
    assert "left out" not in result.stdout and "empty" not in result.stdout


def test_caught_up_posts_take_the_free_slots_and_planned_ones_keep_theirs(tmp_path):
    site = SITE_YAML + "social:\n  offsets: {x: 0m, linkedin: 0m, facebook: 0m, instagram: 0m, bluesky: 0m, " \
                       "threads: 0m, mastodon: 0m}\n"
    project = make_project(tmp_path / "p", {
        "late.md": post("Late One", "2026-05-01T09:00"),
        "soon.md": post("Soon One", "2026-05-02T14:15"),   # planned at the first free slot
    }, site=site)
    result = cli(project, "build", "--now", "2026-05-02T14:03", "--future")
    assert result.exit_code == 0, result.stderr
    for platform in PLATFORMS:
        table = rows(project, platform)
        assert [(r[0], r[1].split("\n")[0]) for r in table] == [("02/05/2026 14:15", "Soon One"),
                                                               ("02/05/2026 14:20", "Late One")]


def test_posts_of_articles_older_than_catch_up_are_counted_in_the_summary_line(tmp_path):
    project = make_project(tmp_path / "p", {
        "a.md": post("Knee Basics", "2026-05-01T09:00"),
        "b.md": post("Hip Strength", "2026-05-20T09:00"),
    })
    result = cli(project, "build", "--now", "2026-05-31T09:00")
    assert result.exit_code == 0, result.stderr
    assert all(not rows(project, platform) for platform in PLATFORMS)
    assert not list(Calendar.from_ical((project / "output/social/calendar.ics").read_bytes()).walk("VEVENT"))
    assert ("the scheduling exports are empty: the times of all 14 social posts have passed (articles older "
            "than 7 days).") in result.stdout
    # Nine days later only the newer article's posts are within a catch-up time of 10 days.
    project.joinpath("content/site.yaml").write_text(SITE_YAML + "social:\n  catch_up: 10d\n")
    result = cli(project, "build", "--now", "2026-05-29T09:00")
    assert all(len(rows(project, platform)) == 1 for platform in PLATFORMS)
    assert "; 7 social posts left out of the schedule: their times have passed (articles older than 10 days)." \
        in result.stdout


def test_posts_beyond_hootsuites_350_rows_are_counted_in_the_summary_line(tmp_path):
    site = SITE_YAML + "social:\n  platforms: [x, mastodon]\n"
    project = make_project(tmp_path / "p", {f"a{i}.md": post(f"Article {i}", "2026-05-01T09:00", slug=f"a{i}")
                                            for i in range(352)}, site=site)
    result = cli(project, "build", "--now", "2026-05-01T12:00")
    assert result.exit_code == 0, result.stderr
    assert len(rows(project, "x")) == len(rows(project, "mastodon")) == 350
    events = list(Calendar.from_ical((project / "output/social/calendar.ics").read_bytes()).walk("VEVENT"))
    assert len(events) == 2 * 352
    assert ("; 2 social posts left out of hootsuite-mastodon.csv: Hootsuite takes at most 350 per upload "
            "(calendar.ics has them all); 2 social posts left out of hootsuite-x.csv") in result.stdout
