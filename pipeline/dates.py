"""Parsing the many ways pages and feeds write dates, and writing them back as UTC ISO 8601."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
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
# 12/08/2025 or 01-11-2023 10:29: month first as American sites print it, day first where the page's
# language or country says so (see day_first), and whichever it must be when one number cannot be a month.
SLASH_DATE = re.compile(
    r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?![\d])"
    r"(?:[^\d]{0,6}?(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*(?P<z>[A-Z]{1,4})?"
)
# 20200414T00:38:07Z, 20180619T055000+0900, 20251209: ISO 8601's basic format.
COMPACT_ISO = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):?(?P<M>\d{2})(?::?(?P<S>\d{2}))?(?:\.\d+)?)?\s*(?P<z>Z|[+-]\d{2}:?\d{2})?$"
)
# A month without a day: "December 2025", "Dec. 2025", "2025年12月", "2025-12".
MONTH_ONLY = (
    re.compile(r"^(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})$"),
)
# Languages and country domains whose numeric dates put the day first (10/02/2020 is 10 February).
DAY_FIRST_LANGS = {
    "de", "fr", "es", "it", "nl", "pt", "ru", "pl", "sv", "da", "no", "nb", "fi", "cs", "sk", "hu", "ro",
    "el", "tr", "uk", "id", "vi", "ar", "he",
}  # fmt: skip
DAY_FIRST_REGIONS = {"gb", "uk", "au", "nz", "ie", "in", "za", "sg", "hk", "my", "eu", "de", "fr", "es", "it", "nl"}
DAY_FIRST_REGIONS |= {"be", "ch", "at", "pt", "pl", "se", "dk", "no", "fi", "ru", "br", "ar", "mx", "tr"}

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
PRECISIONS = ("second", "minute", "day", "month")  # finest first


@dataclass(frozen=True)
class Stated:
    """A date as a page states it: the moment, the day (or month) in the page's own time, how precise."""

    moment: datetime  # aware; for a day or a month, its start in the zone the date was read in
    day: str  # YYYY-MM-DD as the page states it (YYYY-MM for a month): never shifted by a time zone
    precision: str  # second, minute, day or month

    @property
    def has_time(self) -> bool:
        return self.precision in ("second", "minute")

    def utc_iso(self) -> str:
        """published_at: the moment in UTC when the page gave a time; else the stated day (or the month's
        first day) at 00:00Z, so that sorting and --since work on the day as stated."""
        if self.has_time:
            return to_utc_iso(self.moment)
        return f"{self.day}T00:00:00Z" if self.precision == "day" else f"{self.day}-01T00:00:00Z"


def parse_date(value: str | None, default_timezone: str = "UTC", *, day_first: bool = False) -> datetime | None:
    """A timezone-aware datetime from a date string, or None when it cannot be read.

    Dates without a zone are taken to be in default_timezone (a feed's or site's local time).
    """
    stated = read_date(value, default_timezone, day_first=day_first)
    return stated.moment if stated is not None else None


def read_date(value: str | None, default_timezone: str = "UTC", *, day_first: bool = False) -> Stated | None:
    """The date a string states, with its precision, or None when it cannot be read (or is before 1990)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    zone = ZoneInfo(default_timezone)
    found = _iso(value) or _compact(value) or _rfc822(value) or _patterns(value, day_first) or _month(value)
    if found is None:
        return None
    parsed, precision = found
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed < EARLIEST:
        return None
    day = parsed.strftime("%Y-%m") if precision == "month" else parsed.date().isoformat()
    return Stated(parsed, day, precision)


def day_first_for(lang: str | None, url: str | None = None) -> bool:
    """Whether the page's numeric dates put the day first, from its language tag or its country's domain."""
    tag = (lang or "").replace("_", "-").lower()
    primary, _, region = tag.partition("-")
    if region[:2] in DAY_FIRST_REGIONS or (primary in DAY_FIRST_LANGS and region[:2] not in ("us",)):
        return True
    if tag in ("en-us", "en") or primary in ("zh", "ja", "ko"):
        host = (url or "").split("//", 1)[-1].split("/", 1)[0].lower()
        return host.rsplit(".", 1)[-1] in DAY_FIRST_REGIONS if host else False
    return False


AMBIGUOUS_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?!\d)")


def in_iso_order(value: str, day_first: bool) -> str:
    """A numeric day-month or month-day date rewritten year first, as the page meant it (the rest of the
    value as written), so that reading it later needs no knowledge of the page."""

    def year_first(match: re.Match[str]) -> str:
        first, second, year = int(match[1]), int(match[3]), match[4]
        month, day = (second, first) if first > 12 or (day_first and second <= 12) else (first, second)
        return f"{year}-{month:02d}-{day:02d}"

    return AMBIGUOUS_NUMERIC.sub(year_first, value, count=1)


def finest(*candidates: str | None, default_timezone: str = "UTC") -> str | None:
    """The first readable candidate, unless it gives only a day (or month) and a later one gives a time on
    that same day: the day stays the page's, the time comes from where it is printed."""
    first: Stated | None = None
    chosen: str | None = None
    for candidate in candidates:
        stated = read_date(candidate, default_timezone)
        if stated is None:
            continue
        if first is None:
            first, chosen = stated, candidate
            if stated.has_time:
                return chosen
        elif stated.has_time and stated.day.startswith(first.day):
            return candidate
    return chosen


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


Found = tuple[datetime, str]  # a moment and its precision


def _iso(value: str) -> Found | None:
    text = value.replace("z", "Z")
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment, _precision_of(text[10:])


def _compact(value: str) -> Found | None:
    match = COMPACT_ISO.match(value)
    if not match:
        return None
    moment = _from_parts(match.groupdict())
    return (moment, _precision(match)) if moment is not None else None


def _rfc822(value: str) -> Found | None:
    if not re.match(r"^([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}", value):
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment, "second" if ":" in value else "day"


def _patterns(value: str, day_first: bool = False) -> Found | None:
    for pattern in (CJK_DATE, NUMERIC_DATE, MONTH_FIRST, DAY_FIRST):
        match = pattern.search(value)
        if match:
            moment = _from_match(match)
            if moment is not None:
                return moment, _precision(match)
    match = SLASH_DATE.search(value)
    if match:
        first, second = int(match["a"]), int(match["b"])
        if first > 12 or (day_first and second <= 12):
            month, day = second, first
        else:
            month, day = first, second
        parts = {**match.groupdict(), "m": str(month), "d": str(day)}
        moment = _from_parts(parts)
        return (moment, _precision(match)) if moment is not None else None
    return None


def _month(value: str) -> Found | None:
    for pattern in MONTH_ONLY:
        match = pattern.match(value)
        if match:
            moment = _from_parts({**match.groupdict(), "d": "1"})
            if moment is not None:
                return moment, "month"
    return None


def _precision(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if not groups.get("H"):
        return "day"
    return "second" if groups.get("S") else "minute"


def _precision_of(rest: str) -> str:
    """The precision of what follows an ISO date: nothing (a day), hh:mm or hh:mm:ss."""
    clock = re.match(r"^[T ](\d{2}):(\d{2})(:\d{2})?", rest)
    if not clock:
        return "day"
    return "second" if clock.group(3) else "minute"


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
        # The moment keeps the page's own offset, so that its day is the day the page states.
        if zone.upper() in ZONE_ABBREVIATIONS:
            moment = moment.replace(tzinfo=timezone(timedelta(hours=ZONE_ABBREVIATIONS[zone.upper()])))
        elif re.match(r"^[+-]\d{2}:?\d{2}$", zone):
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            moment = moment.replace(tzinfo=timezone(sign * offset))
    return moment
