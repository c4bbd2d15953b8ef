"""When an article was published, as an interval: what story grouping may assume about its time.

A page's own time gives a moment; a day or a month as the page states it gives that span (with room for
the zones the day may be in); an article without a date still tells something — the dates its text names
("on December 8", "12月8日") place it around the latest of them, and the moment it was first seen is an
upper bound. Grouping compares intervals: two articles are close in time only when their intervals are,
and an article whose interval is wide is linked only on strong, specific evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from pipeline.dates import MONTHS

# A stated day may be in any zone from UTC-12 to UTC+14.
BEFORE_DAY, AFTER_DAY = timedelta(hours=14), timedelta(hours=12)
# An interval at most this wide is a date (a moment, or a day as stated); wider is an estimate.
CERTAIN_WIDTH = timedelta(days=3)
# A text's latest named date places an undated article from a week before it (announced ahead) to two
# weeks after (reported, analysed).
MENTION_BEFORE, MENTION_AFTER = timedelta(days=7), timedelta(days=14)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_MENTIONS = 50  # a text that names fifty dates says little about its own
MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
ENGLISH_MENTION = re.compile(
    rf"\b(?P<month>{MONTH_NAME})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>(?:19|20)\d\d))?"
    rf"|\b(?P<day2>[0-3]?\d)\s+(?P<month2>{MONTH_NAME})\.?(?:,?\s+(?P<year2>(?:19|20)\d\d))?",
    re.I,
)
CHINESE_MENTION = re.compile(
    r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*)?(?P<month>[01]?\d)\s*月\s*(?P<day>[0-3]?\d)\s*[日号號]"
)


@dataclass(frozen=True)
class When:
    """The interval an article was published in (aware datetimes, earliest <= latest)."""

    earliest: datetime
    latest: datetime

    @cached_property
    def certain(self) -> bool:
        # Asked for every pair grouping compares: worked out once.
        return self.latest - self.earliest <= CERTAIN_WIDTH

    @property
    def bounded(self) -> bool:
        return self.earliest > EARLIEST and self.latest < LATEST

    @property
    def anchor(self) -> datetime:
        """One moment standing for the interval (its middle; the upper bound when nothing bounds it below):
        what stories are ordered and spanned by when nothing better is known."""
        if self.earliest <= EARLIEST:
            return self.latest if self.latest < LATEST else EARLIEST
        return self.earliest + (self.latest - self.earliest) / 2

    def gap(self, other: When) -> timedelta:
        """The time between two intervals (zero when they overlap)."""
        return max(timedelta(0), other.earliest - self.latest, self.earliest - other.latest)

    @classmethod
    def at(cls, moment: datetime) -> When:
        return cls(moment, moment)


def published_within(
    published_at: str | None,
    precision: str | None,
    published_date: str | None,
    seen_at: str | None,
    text: str = "",
) -> When:
    """The interval an article was published in, from the best evidence it has (module docstring)."""
    upper = _parse(seen_at) or LATEST
    if published_at and precision in (None, "second", "minute"):
        moment = _parse(published_at)
        if moment is not None:
            return When.at(moment)
    if published_date and precision in ("day", "month"):
        span = _stated_span(published_date, precision)
        if span is not None:
            return span
    mentioned = latest_mention(text, upper if upper < LATEST else datetime.now(UTC))
    if mentioned is not None:
        start = datetime.combine(mentioned, datetime.min.time(), UTC)
        return When(start - MENTION_BEFORE, min(upper, start + MENTION_AFTER))
    return When(EARLIEST, upper)


def latest_mention(text: str, not_after: datetime) -> date | None:
    """The latest date the text names that is not after not_after (a year-less date is in the year that puts
    it on or before not_after); None when it names none, or too many to mean anything."""
    found: list[date] = []
    for match in ENGLISH_MENTION.finditer(text or ""):
        month = MONTHS[(match["month"] or match["month2"]).lower()]
        found += _day(match["year"] or match["year2"], month, match["day"] or match["day2"], not_after)
        if len(found) > MAX_MENTIONS:
            return None
    for match in CHINESE_MENTION.finditer(text or ""):
        found += _day(match["year"], int(match["month"]), match["day"], not_after)
        if len(found) > MAX_MENTIONS:
            return None
    past = [day for day in found if day <= not_after.date()]
    return max(past) if past else None


def _day(year: str | None, month: int, day: str, not_after: datetime) -> list[date]:
    try:
        if year:
            return [date(int(year), month, int(day))]
        guess = date(not_after.year, month, int(day))
        return [guess if guess <= not_after.date() else date(not_after.year - 1, month, int(day))]
    except ValueError:
        return []


def _stated_span(day: str, precision: str) -> When | None:
    try:
        if precision == "month":
            start = datetime.strptime(day[:7], "%Y-%m").replace(tzinfo=UTC)
            end = (start + timedelta(days=32)).replace(day=1)
        else:
            start = datetime.strptime(day[:10], "%Y-%m-%d").replace(tzinfo=UTC)
            end = start + timedelta(days=1)
    except ValueError:
        return None
    return When(start - BEFORE_DAY, end + AFTER_DAY)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
