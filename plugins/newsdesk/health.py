"""Per-source extraction health: ``v_source_health`` read back, and warnings for sudden changes.

A site redesign shows up as a jump in failed extractions or a collapse of the median
article length on the days after it; ``v_source_health`` flags both against the
source's trailing 7-day baseline (see ``sql/views/60_v_source_health.sql``).
``check_source_health`` returns (and logs) the flagged sources of the last days: the
pipeline round and the DAGs call it after loading, and a failure in it never fails a run.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

COLUMNS = ("source", "source_id", "day", "pages", "extracted", "failed", "failure_rate", "median_words",
           "date_found_rate", "baseline_days", "baseline_failure_rate", "baseline_median_words", "flag")


def _day_param(engine: Engine, day: date):
    # SQLite keeps the view's day as 'YYYY-MM-DD' text, PostgreSQL as a DATE
    return day.isoformat() if engine.dialect.name == "sqlite" else day


def _as_day(value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def source_health(engine: Engine, source: str | None = None, since: date | None = None,
                  flagged_only: bool = False) -> list[dict]:
    """Rows of ``v_source_health`` (day as ``datetime.date``), oldest day first."""
    where, params = [], {}
    if source:
        where.append("source = :source")
        params["source"] = source
    if since:
        where.append("day >= :since")
        params["since"] = _day_param(engine, since)
    if flagged_only:
        where.append("flag IS NOT NULL")
    sql = f"SELECT {', '.join(COLUMNS)} FROM v_source_health"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY day, source"
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql), params)]
    for row in rows:
        row["day"] = _as_day(row["day"])
    return rows


def check_source_health(engine: Engine, days: int = 2, today: date | None = None) -> list[dict]:
    """Sources flagged in ``v_source_health`` on the last ``days`` days (today included).

    Logs one warning per flagged (source, day) and returns them (JSON-friendly: day as
    ISO text). Never raises: a health check must not fail the load it follows.
    """
    today = today or datetime.now(timezone.utc).date()
    try:
        rows = source_health(engine, since=today - timedelta(days=max(days, 1) - 1), flagged_only=True)
    except Exception as exc:
        log.warning("source health check skipped: %s", exc)
        return []
    flagged = []
    for row in rows:
        row = dict(row, day=row["day"].isoformat() if row["day"] else None)
        flagged.append(row)
        log.warning(
            "source health: %s on %s flagged %s: %s/%s pages failed extraction (rate %s, baseline %s), "
            "median %s words (baseline %s)",
            row["source"], row["day"], row["flag"], row["failed"], row["pages"], _pct(row["failure_rate"]),
            _pct(row["baseline_failure_rate"]), _num(row["median_words"]), _num(row["baseline_median_words"]),
        )
    return flagged


def _pct(value) -> str:
    return "-" if value is None else f"{float(value):.0%}"


def _num(value) -> str:
    return "-" if value is None else f"{float(value):.0f}"
