"""Parsing the many ways pages and feeds write dates, and writing them back as UTC ISO 8601."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        1,
    )
    for name in names
}
# US zone abbreviations seen in bylines ("4:12 PM ET"); fixed offsets are close enough for a timestamp.
ZONE_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "ET": -5,
    "EST": -5,
    "EDT": -4,
    "CT": -6,
    "CST": -6,
    "CDT": -5,
    "PT": -8,
    "PST": -8,
    "PDT": -7,
    "HKT": 8,
    "BJT": 8,
    "CET": 1,
}

CJK_DATE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:[^\d]{0,8}?(?P<H>\d{1,2})\s*[:：時时点點]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
NUMERIC_DATE = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?\s*(?P<z>Z|[+-]\d{2}:?\d{2}|[A-Z]{1,4})?"
)
MONTH_FIRST = re.compile(
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})"
    r"(?:[^\d]{0,6}?(?P<H>\d{1,2}):(?P<M>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*(?P<z>[A-Z]{1,4})?"
)
DAY_FIRST = re.compile(
    r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})"
    r"(?:[^\d]{0,6}?(?P<H>\d{1,2}):(?P<M>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*(?P<z>[A-Z]{1,4})?"
)
# 12/08/2025: month first, as American sites print it, unless the first number cannot be a month.
SLASH_DATE = re.compile(
    r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})"
    r"(?:[^\d]{0,6}?(?P<H>\d{1,2}):(?P<M>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*(?P<z>[A-Z]{1,4})?"
)

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def parse_date(value: str | None, default_timezone: str = "UTC") -> datetime | None:
    """A timezone-aware datetime from a date string, or None when it cannot be read.

    Dates without a zone are taken to be in default_timezone (a feed's or site's local time).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    zone = ZoneInfo(default_timezone)
    parsed = _iso(value) or _rfc822(value) or _patterns(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed < EARLIEST:
        return None
    return parsed


def more_precise(listed: str | None, printed: str | None) -> str | None:
    """The listed date (a feed's, the page's metadata), unless it is a bare day and the page prints a time
    on that same day."""
    if not listed or not printed:
        return listed or printed
    if DATE_ONLY.match(listed.strip()) and not DATE_ONLY.match(printed.strip()):
        moment = parse_date(printed)
        if moment is not None and moment.date().isoformat() == listed.strip()[:10]:
            return printed
    return listed


def time_on_day(text: str, day: str) -> str | None:
    """The first date-and-time printed in text that falls on day (YYYY-MM-DD), as printed; or None."""
    for pattern in (CJK_DATE, NUMERIC_DATE):
        for match in pattern.finditer(text):
            if match["H"] is None:
                continue
            moment = _from_match(match)
            if moment is not None and moment.date().isoformat() == day:
                return match.group().strip()
    return None


def to_utc_iso(moment: datetime) -> str:
    """2025-12-09T06:38:10Z: sortable as text and the same in every table."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now_iso() -> str:
    """This moment as to_utc_iso writes it."""
    return to_utc_iso(datetime.now(UTC))


def is_future(moment: datetime, now: datetime | None = None, slack: timedelta = timedelta(days=1)) -> bool:
    """Later than now plus slack: a wrong date, not a scoop."""
    return moment > (now or datetime.now(UTC)) + slack


def _iso(value: str) -> datetime | None:
    text = value.replace("z", "Z")
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _rfc822(value: str) -> datetime | None:
    if not re.match(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}", value):
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _patterns(value: str) -> datetime | None:
    for pattern in (CJK_DATE, NUMERIC_DATE, MONTH_FIRST, DAY_FIRST):
        match = pattern.search(value)
        if match:
            moment = _from_match(match)
            if moment is not None:
                return moment
    match = SLASH_DATE.search(value)
    if match:
        first, second = int(match["a"]), int(match["b"])
        month, day = (second, first) if first > 12 else (first, second)
        parts = {**match.groupdict(), "m": str(month), "d": str(day)}
        return _from_parts(parts)
    return None


def _from_match(match: re.Match[str]) -> datetime | None:
    return _from_parts(match.groupdict())


def _from_parts(parts: dict[str, str | None]) -> datetime | None:
    number = parts.get("m")
    month = int(number) if number else MONTHS.get((parts.get("mon") or "").lower().rstrip("."))
    if not month:
        return None
    hour = int(parts.get("H") or 0)
    ampm = (parts.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        moment = datetime(
            int(parts.get("y") or 0),
            month,
            int(parts.get("d") or 0),
            hour,
            int(parts.get("M") or 0),
            int(parts.get("S") or 0),
        )
    except ValueError:
        return None
    zone = parts.get("z")
    if zone and parts.get("H"):
        if zone.upper() in ZONE_ABBREVIATIONS:
            moment = moment.replace(tzinfo=UTC) - timedelta(hours=ZONE_ABBREVIATIONS[zone.upper()])
        elif re.match(r"^[+-]\d{2}:?\d{2}$", zone):
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            moment = moment.replace(tzinfo=UTC) - sign * offset
    return moment
