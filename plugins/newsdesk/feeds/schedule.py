"""When to poll a feed next, and when to give up on it.

Pure functions; ``poll.py`` feeds them what one poll observed.

* Base interval from the observed entry rate: the span covered by the entries
  published in the last 7 days (at least a day) divided by their number, clamped to 5 min..24 h,
  with +-10 % jitter so feeds polled together drift apart. Without dated entries
  (304, unchanged body, undated feeds) the previous interval is kept.
* Floors: RSS ``<ttl>``, ``Cache-Control: max-age``/``Expires``, and ``Retry-After``
  (honoured on any error response, e.g. 429/503, up to 7 days).
* ``feeds.interval_override_s`` replaces the computed base (no jitter); server
  floors still apply, and failures still back off from it.
* Failures: a weighted score (hard 3, parse 2, temporary/soft 1) accumulates over
  consecutive failures and resets on success; the interval doubles per consecutive
  failure (capped at 24 h); at ``feed_disable_after()`` (env
  ``NEWSDESK_FEED_DISABLE_SCORE``, default 10) the feed is auto-disabled.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from ..config import FIELDS, option_from_env
from ..times import cache_lifetime

MIN_INTERVAL_S = 5 * 60
MAX_INTERVAL_S = 24 * 3600
DEFAULT_INTERVAL_S = 60 * 60
MAX_RETRY_AFTER_S = 7 * 24 * 3600
JITTER = 0.10
WEEK_S = 7 * 24 * 3600
DEFAULT_DISABLE_SCORE = FIELDS["feed_disable_score"].default
ERROR_WEIGHTS = {"hard": 3.0, "parse": 2.0, "temporary": 1.0, "soft": 1.0, "internal": 1.0}


def feed_disable_after() -> float:
    """Failure score at which a feed is auto-disabled (``NEWSDESK_FEED_DISABLE_SCORE``)."""
    return option_from_env("feed_disable_score")


def error_weight(kind: str | None) -> float:
    return ERROR_WEIGHTS.get(kind or "internal", 1.0)


def clamp(seconds: float, low: float = MIN_INTERVAL_S, high: float = MAX_INTERVAL_S) -> float:
    return max(low, min(high, seconds))


def rate_interval(published: Iterable[datetime | None], now: datetime) -> float | None:
    """Seconds between polls for the entry rate seen in the feed, or None without dates."""
    dates = [d for d in published if d is not None]
    if not dates:
        return None
    recent = [d for d in dates if now - d <= timedelta(seconds=WEEK_S)]
    if not recent:
        return float(MAX_INTERVAL_S)
    # A feed shows only its last N entries, so divide the span they cover (not a whole
    # week) by their number; at least a day, so one fresh entry does not mean "poll now".
    span = max((now - min(recent)).total_seconds(), 24 * 3600.0)
    return clamp(span / len(recent))


def next_interval(
    *,
    now: datetime,
    success: bool,
    override_s: int | None = None,
    previous_s: float | None = None,
    published: Iterable[datetime | None] = (),
    ttl_minutes: int | None = None,
    headers: dict[str, str] | None = None,
    retry_after_s: float | None = None,
    consecutive_failures: int = 0,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll of a feed after this poll."""
    rng = rng or random
    if override_s:
        interval = float(override_s)
    else:
        base = rate_interval(published, now) if success else None
        if base is None:
            base = previous_s if previous_s else DEFAULT_INTERVAL_S
        interval = clamp(clamp(base) * (1 + rng.uniform(-JITTER, JITTER)))
    if not success and consecutive_failures > 0:
        interval = min(MAX_INTERVAL_S, interval * 2 ** min(consecutive_failures - 1, 10))
    floors = [interval]
    if ttl_minutes:
        floors.append(min(ttl_minutes * 60.0, MAX_INTERVAL_S))
    lifetime = cache_lifetime(headers, now)
    if lifetime:
        floors.append(min(lifetime, MAX_INTERVAL_S))
    if retry_after_s:
        floors.append(min(retry_after_s, MAX_RETRY_AFTER_S))
    return max(floors)
