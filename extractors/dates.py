"""Publication dates as feeds and Italian pages write them, as timezone-aware UTC datetimes.

RFC 822 ("Sat, 07 Jan 2023 10:00:00 +0100"), ISO 8601 and Italian forms ("sab, 07 gen 2023 10:00:00 +0100",
"7 gennaio 2023", "07/01/2023 10:00"). A time without a zone is Italian local time (Europe/Rome): that is
what Italian sites mean by it. A date without a time is noon in Rome, so that it stays on the same calendar
day once in UTC. Used by feeds (entry dates) and page text (the date trafilatura finds on a page).
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from extractors.clock import utc_now

_FUTURE_TOLERANCE = timedelta(days=1)

ROME = ZoneInfo("Europe/Rome")
_MIN_YEAR, _MAX_YEAR = 1990, 2100  # outside this range a "date" is noise, not a publication date

_MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "gen": 1, "feb": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7, "ago": 8, "set": 9, "sett": 9,
    "ott": 10, "nov": 11, "dic": 12,
}
_EN_MONTHS = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WEEKDAYS = r"(?:lun|mar|mer|gio|ven|sab|dom)[a-zì]*\.?,?\s*"
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

# "sab, 07 gen 2023 10:00:00 +0100": RFC 822 with Italian names -> rewrite the names, parse as RFC 822.
_IT_RFC822 = re.compile(
    rf"^(?:{_WEEKDAYS})?(\d{{1,2}})\s+({_MONTH_RE})\.?\s+(\d{{4}})\s+(\d{{1,2}}:\d{{2}}(?::\d{{2}})?)\s*(.*)$",
    re.IGNORECASE,
)
# "7 gennaio 2023", "sabato 7 gennaio 2023 ore 10:00", "7 gen. 2023, 10.00"
_IT_LONG = re.compile(
    rf"^(?:{_WEEKDAYS})?(\d{{1,2}})\s+({_MONTH_RE})\.?\s+(\d{{4}})"
    r"(?:\s*(?:,|-|ore|alle)?\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?\s*$",
    re.IGNORECASE,
)
# "07/01/2023", "07-01-2023 10:00", "7.1.2023 ore 10:00" (day first, as in Italy)
_IT_NUMERIC = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s*(?:,|-|ore|alle)?\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?\s*$",
    re.IGNORECASE,
)

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _aware_utc(value: datetime) -> datetime | None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=ROME)
    value = value.astimezone(UTC)
    return value if plausible_year(value.year) else None


def plausible_year(year: int) -> bool:
    """A publication date of this year can be real (others are noise: 0001, 9999, epoch zero)."""
    return _MIN_YEAR <= year <= _MAX_YEAR


def _from_rfc822(text: str) -> datetime | None:
    value = email.utils.parsedate_to_datetime(text)
    # parsedate_to_datetime gives a naive datetime for "-0000" (zone unknown): RFC 822 says that is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_parts(year: str, month: int, day: str, hour: str | None, minute: str | None,
                second: str | None) -> datetime:
    # A bare date means that day in Italy: noon keeps it on the same calendar day in UTC.
    clock = (int(hour), int(minute or 0), int(second or 0)) if hour is not None else (12, 0, 0)
    return datetime(int(year), month, int(day), *clock, tzinfo=ROME)


def _parse(text: str) -> datetime | None:
    if m := _IT_RFC822.match(text):
        day, month, year, clock, zone = m.groups()
        english = f"{day} {_EN_MONTHS[_MONTHS[month.lower()]]} {year} {clock} {zone or '+0000'}".strip()
        if not zone:  # Italian site without a zone: local time
            return _from_parts(year, _MONTHS[month.lower()], day, *(clock.split(":") + [None])[:3])
        return _from_rfc822(english)
    if m := _IT_LONG.match(text):
        day, month, year, hour, minute, second = m.groups()
        return _from_parts(year, _MONTHS[month.lower()], day, hour, minute, second)
    if m := _IT_NUMERIC.match(text):
        day, month, year, hour, minute, second = m.groups()
        return _from_parts(year, int(month), day, hour, minute, second)
    if _ISO_DAY.match(text):
        year, month, day = text.split("-")
        return _from_parts(year, int(month), day, None, None, None)
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    try:
        return _from_rfc822(text)
    except (TypeError, ValueError, IndexError):
        return None


def parse_date(text: object) -> datetime | None:
    """A timezone-aware UTC datetime, or None when `text` is not a date we understand. Never raises."""
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not text or len(text) > 80:
        return None
    try:
        value = _parse(text)
        return _aware_utc(value) if value is not None else None
    except (ValueError, TypeError, OverflowError, IndexError, KeyError):
        return None


def clamp_future(when: datetime | None, now: datetime | None = None) -> datetime | None:
    """A date slightly ahead (bad clocks, wrong zone) becomes now; more than a day ahead is wrong: None."""
    if when is None:
        return None
    now = now or utc_now()
    if when <= now:
        return when
    return now if when - now <= _FUTURE_TOLERANCE else None
