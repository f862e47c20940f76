"""Time values as the warehouse keeps them: timezone-aware UTC.

SQLite hands back naive datetimes (and strings from raw SQL); HTTP headers carry
RFC 7231 dates. Every module converts through these two functions.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime


def as_utc(value) -> datetime | None:
    """A datetime, date or ISO string as an aware UTC datetime (naive values are UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return as_utc(datetime.fromisoformat(str(value)))


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date header as aware UTC; None when absent or malformed."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return as_utc(when) if when is not None else None
