"""Time values as the warehouse keeps them: timezone-aware UTC.

SQLite hands back naive datetimes (and strings from raw SQL); HTTP headers carry
RFC 7231 dates; operators type dates on the command line and in DAG params. Every module
converts through these functions.
"""

from __future__ import annotations

import re
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
