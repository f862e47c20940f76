"""Time values as the warehouse keeps them: timezone-aware UTC.

SQLite hands back naive datetimes (and strings from raw SQL); HTTP headers carry
RFC 7231 dates; operators type dates on the command line and in DAG params. Every module
converts through these functions.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# Dates the warehouse keeps as a publication or capture time. Earlier ones are typos or
# placeholders (year 0, 0001-01-01); later than the capture plus a day are placeholders too
# (9999-12-31, 2999-01-01) or a site's clock gone wrong: both are stored as unknown.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)


def as_utc(value) -> datetime | None:
    """A datetime, date or ISO string as an aware UTC datetime (naive values are UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return as_utc(datetime.fromisoformat(str(value)))


def to_utc(value: datetime | None) -> datetime | None:
    """``as_utc`` that never raises: None for a value UTC cannot hold (9999-12-31T23:00-05:00
    is in year 10000 in UTC: Python's OverflowError)."""
    if value is None:
        return None
    try:
        return as_utc(value)
    except (OverflowError, ValueError):
        return None


def parse_timestamp(value) -> datetime | None:
    """An ISO 8601 timestamp from a document (``Z`` or an offset; naive means UTC; a bare
    date is midnight UTC) as aware UTC; None when absent, malformed or not representable
    in UTC. Never raises: every date of a feed, a sitemap, a page or an archive comes
    through here or ``to_utc``."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return to_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def sane_date(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """``value`` (aware UTC) when it lies between 1900 and ``now`` (the capture or fetch time;
    default: the current time) plus a day; else None: a date the warehouse does not believe."""
    value = to_utc(value)
    if value is None:
        return None
    now = to_utc(now) or datetime.now(timezone.utc)
    try:
        latest = now + FUTURE_SLACK
    except OverflowError:
        latest = now
    if value < EARLIEST or value > latest:
        return None
    return value


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date header as aware UTC; None when absent or malformed."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return to_utc(when)


def cache_lifetime(headers: dict[str, str] | None, now: datetime) -> float | None:
    """Freshness lifetime in seconds from Cache-Control max-age (or s-maxage) or Expires
    (lower-case header names); None without them or with no-store / no-cache."""
    if not headers:
        return None
    cc = headers.get("cache-control", "")
    if re.search(r"\bno-(store|cache)\b", cc, re.I):
        return None
    match = re.search(r"\bs-maxage\s*=\s*(\d+)", cc, re.I) or re.search(r"\bmax-age\s*=\s*(\d+)", cc, re.I)
    if match:
        age = headers.get("age", "0").strip()
        return max(0.0, float(match.group(1)) - (float(age) if age.isdigit() else 0.0))
    when = parse_http_date(headers.get("expires"))
    if when is not None:
        # Relative to the server's clock when it says what time it is: clocks disagree.
        base = parse_http_date(headers.get("date")) or now
        return max(0.0, (when - base).total_seconds())
    return None


def parse_since(value) -> datetime | None:
    """A lower date bound as typed by an operator: ``YYYY-MM-DD`` (midnight UTC), an ISO
    timestamp (``Z`` or an offset; naive means UTC), a date or datetime; None or '' -> None."""
    if value in (None, ""):
        return None
    if isinstance(value, (datetime, date)):
        return as_utc(value)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD or an ISO timestamp)") from exc
