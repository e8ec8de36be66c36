"""The one clock: every "now" of the project comes from here, in UTC.

Records carry aware datetimes (`utc_now`); the warehouse stores naive UTC in TIMESTAMP columns
(`utc_now_naive`, `naive_utc`). One place to read the time is one place to pin it in a test.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def utc_now_naive() -> datetime:
    """Now as naive UTC: the warehouse's timestamp convention."""
    return utc_now().replace(tzinfo=None)


def naive_utc(moment: datetime | None) -> datetime | None:
    """`moment` as naive UTC (aware values are converted; naive ones are taken as UTC already)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
