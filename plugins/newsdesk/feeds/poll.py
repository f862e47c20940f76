"""Poll feeds: conditional GET, unchanged-body check, parse, enqueue pages, record.

    ids = due_feed_ids(engine)
    results = poll_feeds(engine, ids, settings, run_key="2024-05-14T10:00")

Each poll writes one ``poll_log`` row and updates the ``feeds`` row (validators,
body hash, status, failures, ``next_poll_at``) in the same transaction as the
pages it enqueues. A failing feed is recorded and never raises, so one bad feed
cannot stop a run. ``poll_log.error_kind`` is the FetchError kind (``hard``,
``temporary``, ``soft``), ``parse`` for a body that is not a feed, or ``internal``.

One bad entry never costs the others: an entry that cannot be a page (its link has a port
out of range, a broken IPv6 literal) or that the warehouse refuses is set aside, and the
poll is recorded as ``ok`` with ``poll_log.error`` listing each set-aside entry and its
reason (``error_kind`` stays empty: the feed is healthy). Entry dates before 1900 or more
than a day after the poll are unknown.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.engine import Engine

from ..config import Settings
from ..fetch import AddressError, AddressPolicy, Fetcher, FetchError, HostGate, map_concurrent, open_store
from ..storage.loads import NewPage, enqueue_pages, utcnow
from ..storage.schema import feeds, poll_log, sources
from ..storage.values import fit_row
from ..times import as_utc, sane_date
from . import schedule
from .parse import FeedParseError, ParsedFeed, parse_feed

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
MAX_ENTRIES_PER_POLL = 2000  # Media Cloud's cap: a runaway feed cannot flood the queue
_STRICT = AddressPolicy()  # a fetcher without a policy or settings gets no private address


@dataclass
class PollResult:
    feed_id: int
    outcome: str  # ok | not_modified | unchanged | error
    status: int | None = None
    new_page_ids: list[int] = field(default_factory=list)
    entries: int = 0
    error: str | None = None
    error_kind: str | None = None
    next_poll_at: datetime | None = None
    disabled: bool = False
    rejected: list[tuple[str, str]] = field(default_factory=list)  # entries set aside: (link, reason)


def _rejected_message(rejected: list[tuple[str, str]], entries: int) -> str | None:
    """What ``poll_log.error`` says of the entries set aside (bounded: a feed may hold thousands)."""
    if not rejected:
        return None
    listed = "; ".join(f"{link[:300]}: {reason[:200]}" for link, reason in rejected[:20])
    more = f"; and {len(rejected) - 20} more" if len(rejected) > 20 else ""
    return f"{len(rejected)} of {entries + len(rejected)} entries set aside: {listed}{more}"[:2000]




def poll_feed(engine: Engine, feed_id: int, fetcher: Fetcher, run_key: str | None = None,
              feed_row=None) -> PollResult:
    """Poll one feed and record the outcome; never raises.

    ``feed_row`` (the feed's row, already read) saves a query per feed in a round.
    """
    try:
        return _poll(engine, feed_id, fetcher, run_key, feed_row)
    except Exception as exc:
        log.exception("poll of feed %s failed", feed_id)
        message = f"{exc.__class__.__name__}: {exc}"
        try:
            return _record_failure(engine, feed_id, run_key, "internal", message, status=None, latency_ms=None,
                                   nbytes=None, retry_after=None)
        except Exception:
            log.exception("could not record the failure of feed %s", feed_id)
            return PollResult(feed_id=feed_id, outcome="error", error=message, error_kind="internal")


def _load_feed(engine: Engine, feed_id: int):
    with engine.connect() as conn:
        return conn.execute(select(feeds).where(feeds.c.id == feed_id)).first()


def _poll(engine: Engine, feed_id: int, fetcher, run_key: str | None, feed=None) -> PollResult:
    feed = feed if feed is not None else _load_feed(engine, feed_id)
    if feed is None:
        return PollResult(feed_id=feed_id, outcome="error", error=f"no feed with id {feed_id}", error_kind="internal")
    started = time.monotonic()
    try:
        result = fetcher.get(feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT)
    except FetchError as exc:
        return _record_failure(engine, feed_id, run_key, exc.kind, str(exc), status=exc.status,
                               latency_ms=int((time.monotonic() - started) * 1000), nbytes=None,
                               retry_after=exc.retry_after, headers=exc.headers, feed=feed)
    latency = result.elapsed_ms
    if result.status == 304:
        return _record_success(engine, feed, run_key, "not_modified", result, latency, parsed=None, sha=None)
    sha = hashlib.sha256(result.body).hexdigest()
    if feed.body_sha256 == sha:
        return _record_success(engine, feed, run_key, "unchanged", result, latency, parsed=None, sha=sha)
    try:
        parsed = parse_feed(result.body, result.final_url, result.headers.get("content-type"))
    except FeedParseError as exc:
        return _record_failure(engine, feed_id, run_key, "parse", str(exc), status=result.status,
                               latency_ms=latency, nbytes=len(result.body), retry_after=None,
                               headers=result.headers, feed=feed)
    return _record_success(engine, feed, run_key, "ok", result, latency, parsed=parsed, sha=sha,
                           policy=_policy_of(fetcher))


def _previous_interval(feed) -> float | None:
    last, nxt = as_utc(feed.last_polled_at), as_utc(feed.next_poll_at)
    if last and nxt and nxt > last:
        return (nxt - last).total_seconds()
    return None


def _record_success(engine, feed, run_key, outcome, result, latency, *, parsed: ParsedFeed | None,
                    sha: str | None, policy: AddressPolicy = _STRICT) -> PollResult:
    now = utcnow()
    entries = parsed.entries[:MAX_ENTRIES_PER_POLL] if parsed else []
    rejected = list(parsed.rejected) if parsed else []
    allowed, refused = _allowed_entries(entries, policy)
    rejected += refused
    interval = schedule.next_interval(
        now=now,
        success=True,
        override_s=feed.interval_override_s,
        previous_s=_previous_interval(feed),
        published=[sane_date(e.published_at, now) for e in entries] if parsed else (),
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        headers=result.headers,
    )
    next_at = now + timedelta(seconds=interval)
    values = dict(last_polled_at=now, last_status=result.status, last_error=None, last_success_at=now,
                  consecutive_failures=0, failure_score=0.0, next_poll_at=next_at)
    # Keep validators from a 304 only if the server sent new ones.
    if result.headers.get("etag") or outcome != "not_modified":
        values["etag"] = result.headers.get("etag")
    if result.headers.get("last-modified") or outcome != "not_modified":
        values["last_modified"] = result.headers.get("last-modified")
    if sha:
        values["body_sha256"] = sha
    new_ids: list[int] = []
    with engine.begin() as conn:
        if parsed and parsed.kind != "sitemapindex":
            found = [NewPage(url=e.url, origin="sitemap" if "sitemap" in parsed.kind else "feed",
                             source_id=feed.source_id, feed_id=feed.id, guid=e.guid, published_at=e.published_at)
                     for e in allowed]
            new_ids = enqueue_pages(conn, found, rejected)
            if new_ids:
                values["last_new_entry_at"] = now
        if rejected:
            log.warning("feed %s: %d entries set aside (first: %s: %s)", feed.url, len(rejected), *rejected[0])
        conn.execute(update(feeds).where(feeds.c.id == feed.id).values(**fit_row(feeds, values)))
        conn.execute(insert(poll_log).values(**fit_row(poll_log, dict(
            feed_id=feed.id, run_key=run_key, polled_at=now, outcome=outcome, status_code=result.status,
            bytes=len(result.body), latency_ms=latency, entries=len(entries) if parsed else None,
            new_entries=len(new_ids), error_kind=None, error=_rejected_message(rejected, len(allowed))))))
    return PollResult(feed_id=feed.id, outcome=outcome, status=result.status, new_page_ids=new_ids,
                      entries=len(entries), next_poll_at=next_at, rejected=rejected)


def _policy_of(fetcher) -> AddressPolicy:
    policy = getattr(fetcher, "policy", None)
    if policy is None and getattr(fetcher, "settings", None) is not None:
        policy = AddressPolicy.from_settings(fetcher.settings)
    return policy or _STRICT


def _allowed_entries(entries, policy: AddressPolicy):
    """Entries whose link the fetcher's address policy allows (IP literals in any notation and
    loopback names, no DNS lookup: the page fetch resolves and checks again), and the others
    with their reason."""
    allowed, refused = [], []
    for entry in entries:
        try:
            policy.check_url(entry.url)
        except AddressError as exc:
            refused.append((entry.url, str(exc)))
        else:
            allowed.append(entry)
    return allowed, refused


def _record_failure(engine, feed_id, run_key, kind, message, *, status, latency_ms, nbytes, retry_after,
                    headers=None, feed=None) -> PollResult:
    now = utcnow()
    feed = feed or _load_feed(engine, feed_id)
    if feed is None:
        return PollResult(feed_id=feed_id, outcome="error", status=status, error=message, error_kind=kind)
    failures = (feed.consecutive_failures or 0) + 1
    score = float(feed.failure_score or 0.0) + schedule.error_weight(kind)
    interval = schedule.next_interval(
        now=now, success=False, override_s=feed.interval_override_s, previous_s=_previous_interval(feed),
        headers=None, retry_after_s=retry_after, consecutive_failures=failures,
    )
    next_at = now + timedelta(seconds=interval)
    values = dict(last_polled_at=now, last_status=status, last_error=message[:2000], consecutive_failures=failures,
                  failure_score=score, next_poll_at=next_at)
    limit = schedule.feed_disable_after()
    disabled = feed.disabled_reason is None and score >= limit
    if disabled:
        values["disabled_reason"] = (f"auto-disabled at {now:%Y-%m-%d %H:%M} UTC after {failures} consecutive "
                                     f"failures (score {score:g} >= {limit:g}); last error: {message[:500]}")
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**fit_row(feeds, values)))
        conn.execute(insert(poll_log).values(**fit_row(poll_log, dict(
            feed_id=feed_id, run_key=run_key, polled_at=now, outcome="error", status_code=status, bytes=nbytes,
            latency_ms=latency_ms, entries=None, new_entries=0, error_kind=kind, error=message[:2000]))))
    return PollResult(feed_id=feed_id, outcome="error", status=status, error=message, error_kind=kind,
                      next_poll_at=next_at, disabled=disabled)


def poll_feeds(engine: Engine, feed_ids, settings: Settings | None = None, run_key: str | None = None,
               *, fetcher: Fetcher | None = None) -> list[PollResult]:
    """Poll feeds concurrently (``settings.http_concurrency`` threads, per-host limits).

    One shared, thread-safe Fetcher is used (created and closed here unless passed).
    Results come back in the order of ``feed_ids``.
    """
    settings = settings or (fetcher.settings if fetcher else Settings.from_env())
    feed_ids = list(feed_ids)
    if not feed_ids:
        return []
    rows: dict[int, object] = {}
    with engine.connect() as conn:
        for chunk_start in range(0, len(feed_ids), 500):
            chunk = feed_ids[chunk_start:chunk_start + 500]
            rows.update((r.id, r) for r in conn.execute(select(feeds).where(feeds.c.id.in_(chunk))).all())
    items = [(fid, rows[fid].url if fid in rows else "") for fid in feed_ids]
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        # Host slots and pacing shared with every worker (and the pages' Crawl-delay).
        gate = HostGate(open_store(settings, engine), settings)
        return map_concurrent(items, lambda item: poll_feed(engine, item[0], fetcher, run_key, rows.get(item[0])),
                              settings.http_concurrency, settings=settings, gate=gate)
    finally:
        if own:
            fetcher.close()


def due_feed_ids(engine: Engine, now: datetime | None = None) -> list[int]:
    """Active, not disabled feeds whose ``next_poll_at`` is unset or has passed, by id."""
    now = (now or utcnow()).astimezone(timezone.utc)
    with engine.connect() as conn:
        return list(conn.execute(
            select(feeds.c.id)
            .where(feeds.c.active.is_(True), feeds.c.disabled_reason.is_(None),
                   or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now))
            .order_by(feeds.c.id)).scalars())


def enable_feed(engine: Engine, feed: int | str) -> bool:
    """Re-enable an auto-disabled feed (by id or URL): clears the failure state, due now."""
    condition = feeds.c.id == feed if isinstance(feed, int) else feeds.c.url == feed
    with engine.begin() as conn:
        done = conn.execute(update(feeds).where(condition).values(
            disabled_reason=None, failure_score=0.0, consecutive_failures=0, next_poll_at=None, active=True))
        return done.rowcount > 0


def feed_status(engine: Engine, now: datetime | None = None) -> list[dict]:
    """One dict per feed for operators: health, schedule, failures, last week's yield.

    ``health``: ``inactive`` (dropped from the registry), ``disabled``, ``failing``
    (last poll failed), ``silent`` (polls succeed but nothing new for 7 days: the
    "looks fine but collects nothing" case), ``new`` (never polled) or ``ok``.
    """
    now = (now or utcnow()).astimezone(timezone.utc)
    week_ago = now - timedelta(days=7)
    with engine.connect() as conn:
        week = {r.feed_id: r for r in conn.execute(
            select(poll_log.c.feed_id, func.count().label("polls"),
                   func.coalesce(func.sum(poll_log.c.new_entries), 0).label("new_entries"),
                   func.sum(case((poll_log.c.outcome == "error", 1), else_=0)).label("errors"))
            .where(poll_log.c.polled_at >= week_ago).group_by(poll_log.c.feed_id))}
        rows = conn.execute(select(feeds, sources.c.name.label("source_name"))
                            .join(sources, sources.c.id == feeds.c.source_id).order_by(feeds.c.id)).all()
    out = []
    for r in rows:
        stats = week.get(r.id)
        last_new = as_utc(r.last_new_entry_at)
        if not r.active:
            health = "inactive"
        elif r.disabled_reason:
            health = "disabled"
        elif r.last_polled_at is None:
            health = "new"
        elif r.consecutive_failures:
            health = "failing"
        elif (last_new is None or last_new < week_ago) and as_utc(r.created_at or r.last_polled_at) < week_ago:
            health = "silent"
        else:
            health = "ok"
        out.append(dict(
            id=r.id, url=r.url, source=r.source_name, kind=r.kind, active=bool(r.active), health=health,
            disabled_reason=r.disabled_reason, last_status=r.last_status, last_error=r.last_error,
            last_polled_at=as_utc(r.last_polled_at), last_success_at=as_utc(r.last_success_at),
            last_new_entry_at=last_new, next_poll_at=as_utc(r.next_poll_at),
            interval_override_s=r.interval_override_s, failure_score=float(r.failure_score or 0.0),
            consecutive_failures=r.consecutive_failures or 0,
            polls_7d=int(stats.polls) if stats else 0, errors_7d=int(stats.errors or 0) if stats else 0,
            new_entries_7d=int(stats.new_entries) if stats else 0,
        ))
    return out
