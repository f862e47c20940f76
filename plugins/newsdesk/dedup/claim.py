"""Claiming a batch of pending articles, the dedup epochs, and the lock that serialises decisions.

PostgreSQL: a batch claims its rows with ``FOR UPDATE SKIP LOCKED`` (workers share the pending
articles) and takes a transaction advisory lock before it decides; every batch stamps the
articles it changes with the next epoch, so a worker that searched before the lock knows what
others committed meanwhile. SQLite: the claim takes the database's write lock, which serialises
everything.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Row

from ..storage.loads import utcnow
from ..storage.schema import articles, dedup_epoch, pages
from .sql import is_postgres

ADVISORY_LOCK_KEY = 0x6E657773_64656475 & ((1 << 63) - 1)  # "newsdedu"

# when the article's page was fetched (captured, for an archive), for publication_day
FETCHED_AT = select(pages.c.fetched_at).where(pages.c.id == articles.c.page_id).scalar_subquery().label("fetched_at")
CLAIM_COLUMNS = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.title,
                 articles.c.text, articles.c.published_at, FETCHED_AT, articles.c.extracted_at, articles.c.source_id,
                 articles.c.date_source)
# ``date_source`` values of a date guessed from the text (a year it mentions, "since 2022"): not
# a publication date, so such an article is placed by its capture like an undated one.
GUESSED_DATE_SOURCES = frozenset({"text"})


def stated_date(published_at: datetime | None, date_source: str | None) -> datetime | None:
    """The publication date an article states (what choosing an original compares), None when it
    was guessed from the text."""
    return None if date_source in GUESSED_DATE_SOURCES else published_at


def publication_day(published_at: datetime | None, fetched_at: datetime | None, extracted_at: datetime | None,
                    date_source: str | None = None) -> int:
    """The day that places an article in time windows: its publication (unless guessed from its
    text), else when its page was fetched (an archived page: its capture, which a backfill may
    place years back), else when it was extracted."""
    when = stated_date(published_at, date_source) or fetched_at or extracted_at or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() // 86400)


def claim(conn: Connection, limit: int) -> list[Row]:
    """Up to ``limit`` pending articles, lowest ids first (``CLAIM_COLUMNS``), held by this
    transaction: other workers skip them (PostgreSQL) or wait (SQLite)."""
    query = select(*CLAIM_COLUMNS).where(articles.c.dedup_state == "pending").order_by(articles.c.id).limit(limit)
    if is_postgres(conn):
        return conn.execute(query.with_for_update(skip_locked=True, of=articles)).all()
    # SQLite: a (no-op) write first takes the database write lock for this transaction,
    # so two processes cannot claim the same rows.
    conn.execute(update(articles).where(articles.c.id == -1).values(dedup_state="pending"))
    return conn.execute(query).all()


def last_epoch(conn: Connection) -> int:
    """The epoch of the last committed dedup batch."""
    return conn.execute(select(dedup_epoch.c.epoch).where(dedup_epoch.c.id == 1)).scalar() or 0


def advance_epoch(conn: Connection) -> int:
    """The epoch this transaction's changes are stamped with (called under the decision lock)."""
    new = conn.execute(update(dedup_epoch).where(dedup_epoch.c.id == 1).values(epoch=dedup_epoch.c.epoch + 1)
                       .returning(dedup_epoch.c.epoch)).scalar()
    if new is None:  # a warehouse created without migration 0005's row
        conn.execute(insert(dedup_epoch).values(id=1, epoch=1))
        new = 1
    return new


def serialise(conn: Connection) -> bool:
    """PostgreSQL: hold the advisory lock that serialises cluster decisions across workers until
    the transaction ends; True once held (SQLite's write lock, taken at the claim, does that)."""
    if not is_postgres(conn):
        return False
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    return True
