"""Where politeness state lives, so that every worker, task and run shares it.

    store = open_store(settings, engine)     # Redis when NEWSDESK_REDIS_URL is set, else the warehouse
    lease, wait, why = store.acquire("news.example", limit=2, interval=1.0, lease_seconds=70)
    ...                                      # the request, when a lease was granted
    store.release("news.example", lease)

``acquire`` is atomic: it drops the host's expired leases (a worker killed mid-request holds
its slot only until then), refuses when ``limit`` leases are held (``busy``: ask again in
``POLL_SECONDS``) or the host's next start is ahead (``paced``: wait until then), else takes a
lease and moves the next start to now + max(``interval``, the host's Crawl-delay in force). Times are the shared store's
clock where it has one (PostgreSQL, Redis), so workers on several machines agree.

``set_crawl_delay`` records a host's Crawl-delay for a while and counts the robots.txt request
just made; ``get_robots`` / ``put_robots`` keep robots.txt records per origin (fetch.robots
decides what they hold and for how long). Three stores, one interface:

- ``WarehouseStore``: tables ``robots_txt``, ``host_pacing``, ``host_leases`` (SQLite or
  PostgreSQL; one code path, serialised per host by a row lock or SQLite's write lock);
- ``RedisStore``: the same in Redis, one Lua script per acquisition;
- ``MemoryStore``: this process only (a fetcher used without a warehouse).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine

from ..config import Settings
from ..storage.loads import insert_ignore, upsert
from ..storage.schema import host_leases, host_pacing, robots_txt
from ..times import as_utc

# How soon to ask again when all of a host's slots are taken (a release is not announced).
POLL_SECONDS = 0.1
# RFC 9309 2.3.1.4: a site whose robots.txt is unreachable for ~30 days may be treated as having
# none; until then its last robots.txt is the copy fetch.robots falls back on.
STALE_KEEP_SECONDS = 30 * 86400


@dataclass(frozen=True)
class RobotsRecord:
    """One origin's robots.txt as fetched: ``status`` ok (``body`` holds it), missing (4xx:
    everything allowed) or unreachable (5xx, network: everything disallowed); epoch seconds."""

    status: str
    body: str
    http_status: int | None
    fetched_at: float
    expires_at: float


def _crawl_delay_in_force(interval: float, delay: float | None, until: float | None, now: float) -> float:
    return max(interval, delay or 0.0) if until is not None and until > now else interval


class MemoryStore:
    """One process's politeness state (threads share it)."""

    def __init__(self, clock=time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._leases: dict[str, dict[str, float]] = {}
        self._next_start: dict[str, float] = {}
        self._crawl_delay: dict[str, tuple[float, float]] = {}
        self._robots: dict[str, RobotsRecord] = {}

    def acquire(self, host: str, limit: int, interval: float, lease_seconds: float) -> tuple[str | None, float, str]:
        with self._lock:
            now = self.clock()
            leases = self._leases.setdefault(host, {})
            for lease, expires in list(leases.items()):
                if expires <= now:
                    del leases[lease]
            if len(leases) >= limit:
                return None, POLL_SECONDS, "busy"
            next_start = self._next_start.get(host, 0.0)
            if next_start > now:
                return None, next_start - now, "paced"
            delay, until = self._crawl_delay.get(host, (0.0, None))
            lease = uuid.uuid4().hex
            leases[lease] = now + lease_seconds
            self._next_start[host] = now + _crawl_delay_in_force(interval, delay, until, now)
            return lease, 0.0, ""

    def release(self, host: str, lease: str) -> None:
        with self._lock:
            self._leases.get(host, {}).pop(lease, None)

    def set_crawl_delay(self, host: str, seconds: float, valid_for: float) -> None:
        with self._lock:
            now = self.clock()
            self._crawl_delay[host] = (seconds, now + valid_for)
            self._next_start[host] = max(self._next_start.get(host, 0.0), now + seconds)

    def get_robots(self, origin: str) -> RobotsRecord | None:
        with self._lock:
            return self._robots.get(origin)

    def put_robots(self, origin: str, record: RobotsRecord) -> None:
        with self._lock:
            self._robots[origin] = record


class WarehouseStore:
    """Politeness state in the warehouse (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def _pace_row(self, conn, host: str):
        """The host's pacing row, locked for this transaction, with ``now``: the server's clock on
        PostgreSQL (workers on several machines agree on it), this machine's on SQLite."""
        if self.postgres:
            # Leases and pacing are short-lived: a commit need not wait for the disk (a server
            # crash can lose the last ones, and expiry covers a lost release).
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            query = select(host_pacing, text("EXTRACT(EPOCH FROM clock_timestamp()) AS now")).where(
                host_pacing.c.host == host).with_for_update(of=host_pacing)
            row = conn.execute(query).first()
            if row is None:
                insert_ignore(conn, host_pacing, [dict(host=host, next_start=0.0)], ["host"])
                row = conn.execute(query).one()
            return row, float(row.now)
        # SQLite: the insert comes first and takes the write lock, so nothing the reads below
        # see can change before this transaction ends.
        insert_ignore(conn, host_pacing, [dict(host=host, next_start=0.0)], ["host"])
        return conn.execute(select(host_pacing).where(host_pacing.c.host == host)).one(), time.time()

    def acquire(self, host: str, limit: int, interval: float, lease_seconds: float) -> tuple[str | None, float, str]:
        with self.engine.begin() as conn:
            pace, now = self._pace_row(conn, host)
            conn.execute(delete(host_leases).where(host_leases.c.host == host, host_leases.c.expires_at <= now))
            held = conn.execute(select(func.count()).select_from(host_leases)
                                .where(host_leases.c.host == host)).scalar_one()
            if held >= limit:
                return None, POLL_SECONDS, "busy"
            if pace.next_start > now:
                return None, pace.next_start - now, "paced"
            lease = uuid.uuid4().hex
            conn.execute(insert(host_leases).values(lease_id=lease, host=host, expires_at=now + lease_seconds))
            delay = _crawl_delay_in_force(interval, pace.crawl_delay, pace.crawl_delay_until, now)
            conn.execute(update(host_pacing).where(host_pacing.c.host == host).values(next_start=now + delay))
            return lease, 0.0, ""

    def release(self, host: str, lease: str) -> None:
        with self.engine.begin() as conn:
            if self.postgres:
                conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(delete(host_leases).where(host_leases.c.lease_id == lease))

    def set_crawl_delay(self, host: str, seconds: float, valid_for: float) -> None:
        with self.engine.begin() as conn:
            pace, now = self._pace_row(conn, host)
            conn.execute(update(host_pacing).where(host_pacing.c.host == host).values(
                crawl_delay=seconds, crawl_delay_until=now + valid_for,
                next_start=max(pace.next_start, now + seconds)))

    def get_robots(self, origin: str) -> RobotsRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(robots_txt).where(robots_txt.c.origin == origin)).first()
        if row is None:
            return None
        return RobotsRecord(status=row.status, body=row.body or "", http_status=row.http_status,
                            fetched_at=as_utc(row.fetched_at).timestamp(),
                            expires_at=as_utc(row.expires_at).timestamp())

    def put_robots(self, origin: str, record: RobotsRecord) -> None:
        row = dict(origin=origin, status=record.status, http_status=record.http_status, body=record.body,
                   fetched_at=datetime.fromtimestamp(record.fetched_at, timezone.utc),
                   expires_at=datetime.fromtimestamp(record.expires_at, timezone.utc))
        with self.engine.begin() as conn:
            upsert(conn, robots_txt, [row], ["origin"], ["status", "http_status", "body", "fetched_at", "expires_at"])


# KEYS: leases (sorted set lease -> expiry), pace (hash); ARGV: limit, interval, lease_seconds,
# lease id, poll seconds. Returns {granted 0/1, seconds to wait as a string (Lua numbers returned
# to Redis are truncated to integers), why not}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return {0, ARGV[5], 'busy'} end
local next_start = tonumber(redis.call('HGET', KEYS[2], 'next_start') or '0')
if next_start > now then return {0, tostring(next_start - now), 'paced'} end
local delay = tonumber(ARGV[2])
local until_ = tonumber(redis.call('HGET', KEYS[2], 'crawl_delay_until') or '0')
if until_ > now then delay = math.max(delay, tonumber(redis.call('HGET', KEYS[2], 'crawl_delay') or '0')) end
local lease_seconds = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + lease_seconds, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(lease_seconds * 1000))
redis.call('HSET', KEYS[2], 'next_start', tostring(now + delay))
redis.call('PEXPIRE', KEYS[2], math.ceil((math.max(delay, until_ - now) + 1) * 1000))
return {1, '0', ''}
"""

# KEYS: pace; ARGV: crawl delay, valid for (seconds).
_SET_CRAWL_DELAY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local delay, valid_for = tonumber(ARGV[1]), tonumber(ARGV[2])
local next_start = math.max(tonumber(redis.call('HGET', KEYS[1], 'next_start') or '0'), now + delay)
redis.call('HSET', KEYS[1], 'next_start', tostring(next_start), 'crawl_delay', ARGV[1],
           'crawl_delay_until', tostring(now + valid_for))
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(delay, valid_for) + 1) * 1000))
return 1
"""

_redis_clients: dict[str, object] = {}
_redis_guard = threading.Lock()


class RedisStore:
    """Politeness state in Redis (``NEWSDESK_REDIS_URL``); keys under ``prefix:``, a host's
    keys in one hash slot (``{host}``) so that its script runs on Redis Cluster too."""

    def __init__(self, url: str, prefix: str = "newsdesk") -> None:
        with _redis_guard:
            client = _redis_clients.get(url)
            if client is None:
                # Imported here: only deployments that set NEWSDESK_REDIS_URL need the client.
                import redis

                client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=10,
                                                                     socket_connect_timeout=10)
        self.client = client
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._set_crawl_delay = client.register_script(_SET_CRAWL_DELAY)

    def _keys(self, host: str) -> tuple[str, str]:
        return f"{self.prefix}:host:{{{host}}}:leases", f"{self.prefix}:host:{{{host}}}:pace"

    def acquire(self, host: str, limit: int, interval: float, lease_seconds: float) -> tuple[str | None, float, str]:
        lease = uuid.uuid4().hex
        granted, wait, why = self._acquire(keys=list(self._keys(host)),
                                           args=[limit, repr(float(interval)), repr(float(lease_seconds)), lease,
                                                 repr(POLL_SECONDS)])
        return (lease, 0.0, "") if int(granted) else (None, float(wait), why.decode())

    def release(self, host: str, lease: str) -> None:
        self.client.zrem(self._keys(host)[0], lease)

    def set_crawl_delay(self, host: str, seconds: float, valid_for: float) -> None:
        self._set_crawl_delay(keys=[self._keys(host)[1]], args=[repr(float(seconds)), repr(float(valid_for))])

    def get_robots(self, origin: str) -> RobotsRecord | None:
        raw = self.client.get(f"{self.prefix}:robots:{origin}")
        return RobotsRecord(**json.loads(raw)) if raw else None

    def put_robots(self, origin: str, record: RobotsRecord) -> None:
        keep = max(record.expires_at - time.time(), 0.0) + STALE_KEEP_SECONDS
        self.client.set(f"{self.prefix}:robots:{origin}", json.dumps(asdict(record)), px=int(keep * 1000))


def open_store(settings: Settings, engine: Engine | None = None):
    """Redis when ``settings.redis_url`` is set, else the warehouse, else this process's memory."""
    if settings.redis_url:
        return RedisStore(settings.redis_url)
    if engine is not None:
        return WarehouseStore(engine)
    return MemoryStore()
