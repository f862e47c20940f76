"""Aggregate tables refreshed after each load (the ``news_rollup`` DAG).

``daily_volume`` is ``v_daily_volume`` materialised. A refresh recomputes only the
days that changed since the previous refresh: days of articles extracted, or
(re)decided by dedup, after it. The first refresh, or ``full=True``, rebuilds all.
Each refresh is one transaction, so readers see the old rows or the new ones.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Date, DateTime, bindparam, text
from sqlalchemy.engine import Engine

_INSERT = """
    INSERT INTO daily_volume (day, source_id, source, articles, originals, copies, words, refreshed_at)
    SELECT day, source_id, source, articles, originals, copies, words, :now FROM v_daily_volume"""


def _to_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def refresh_daily_volume(engine: Engine, full: bool = False) -> dict:
    now = datetime.now(timezone.utc)
    ts = DateTime(timezone=True)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One refresh at a time; a second waits instead of inserting duplicate keys.
            conn.execute(text("LOCK TABLE daily_volume IN SHARE ROW EXCLUSIVE MODE"))
        last = conn.execute(text("SELECT MAX(refreshed_at) FROM daily_volume")).scalar()
        last = _parse_ts(last)
        since_day = None
        if not full and last is not None:
            changed = conn.execute(text("""
                SELECT MIN(COALESCE(a.published_at, a.extracted_at)) FROM articles a
                WHERE a.extracted_at >= :last
                   OR a.id IN (SELECT article_id FROM dedup_links WHERE decided_at >= :last)
            """).bindparams(bindparam("last", type_=ts)), {"last": last}).scalar()
            if changed is None:
                rows = conn.execute(text("SELECT COUNT(*) FROM daily_volume")).scalar_one()
                return {"mode": "unchanged", "days_from": None, "rows": rows}
            since_day = _to_date(_parse_ts(changed))
        if since_day is None:
            conn.execute(text("DELETE FROM daily_volume"))
            conn.execute(text(_INSERT).bindparams(bindparam("now", type_=ts)), {"now": now})
        else:
            day = bindparam("day", type_=Date())
            conn.execute(text("DELETE FROM daily_volume WHERE day >= :day").bindparams(day), {"day": since_day})
            conn.execute(text(_INSERT + " WHERE day >= :day").bindparams(bindparam("now", type_=ts), day),
                         {"now": now, "day": since_day})
        rows = conn.execute(text("SELECT COUNT(*) FROM daily_volume")).scalar_one()
    return {"mode": "full" if since_day is None else "incremental",
            "days_from": since_day.isoformat() if since_day else None, "rows": rows}


def _parse_ts(value):
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
    return _parse_ts(datetime.fromisoformat(str(value)))


def refresh_all(engine: Engine, full: bool = False) -> dict:
    """Every aggregate table; what the news_rollup DAG runs."""
    return {"daily_volume": refresh_daily_volume(engine, full=full)}
