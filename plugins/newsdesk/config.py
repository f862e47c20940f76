"""One settings object for every stage, read from the environment.

Inside Airflow, ``tasks.context.settings()`` layers two more sources on top: the JSON
Variable ``newsdesk_settings`` (any option below, by field or variable name) and the
warehouse connection ``newsdesk_warehouse`` (the database URL). Everything else comes
from ``NEWSDESK_*`` variables so that the CLI, the DAGs and the tests configure the
library the same way. ``OPTIONS`` lists every option (docs/deployment.md's table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = Path(os.environ.get("NEWSDESK_SQL_DIR", REPO_ROOT / "sql"))
SEEDS_DIR = Path(os.environ.get("NEWSDESK_SEEDS_DIR", REPO_ROOT / "seeds"))
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'newsdesk.db'}"
DEFAULT_USER_AGENT = "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; news ingestion bot)"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    user_agent: str = DEFAULT_USER_AGENT
    # HTTP limits: untrusted servers must not be able to hold a worker or fill its memory.
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    # Loopback/private targets are refused unless an operator (or a test) allows them.
    allow_private_addresses: bool = False
    http_proxy: str | None = None
    http_concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay: float = 0.0
    respect_robots: bool = True
    # Politeness shared by every worker: robots.txt cache, host slots and pacing (unset: the warehouse).
    redis_url: str | None = None
    max_crawl_delay: float = 30.0
    robots_ttl: float = 3600.0
    robots_error_ttl: float = 600.0
    # Metrics outside Airflow (CLI runs): plain StatsD over UDP when a host is set.
    statsd_host: str | None = None
    statsd_port: int = 8125
    statsd_prefix: str = "newsdesk"
    # Work sizes.
    batch_size: int = 50
    max_pages_per_run: int = 5000
    max_fetch_attempts: int = 3
    dedup_window_days: int = 14
    dedup_workers: int = 1
    # One page's extraction, in seconds: a hostile page must not stall a run (0: no limit).
    extract_timeout: float = 30.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = dict(
            database_url=os.environ.get("NEWSDESK_DATABASE_URL") or DEFAULT_DATABASE_URL,
            user_agent=os.environ.get("NEWSDESK_USER_AGENT") or DEFAULT_USER_AGENT,
            connect_timeout=_env_float("NEWSDESK_CONNECT_TIMEOUT", 10.0),
            read_timeout=_env_float("NEWSDESK_READ_TIMEOUT", 20.0),
            total_timeout=_env_float("NEWSDESK_TOTAL_TIMEOUT", 60.0),
            max_body_bytes=_env_int("NEWSDESK_MAX_BODY_BYTES", 15 * 1024 * 1024),
            max_redirects=_env_int("NEWSDESK_MAX_REDIRECTS", 5),
            allow_private_addresses=_env_bool("NEWSDESK_ALLOW_PRIVATE_ADDRESSES", False),
            http_proxy=os.environ.get("NEWSDESK_HTTP_PROXY") or None,
            http_concurrency=_env_int("NEWSDESK_HTTP_CONCURRENCY", 16),
            per_host_concurrency=_env_int("NEWSDESK_PER_HOST_CONCURRENCY", 2),
            per_host_delay=_env_float("NEWSDESK_PER_HOST_DELAY", 0.0),
            respect_robots=_env_bool("NEWSDESK_RESPECT_ROBOTS", True),
            redis_url=os.environ.get("NEWSDESK_REDIS_URL") or None,
            max_crawl_delay=_env_float("NEWSDESK_MAX_CRAWL_DELAY", 30.0),
            robots_ttl=_env_float("NEWSDESK_ROBOTS_TTL", 3600.0),
            robots_error_ttl=_env_float("NEWSDESK_ROBOTS_ERROR_TTL", 600.0),
            statsd_host=os.environ.get("NEWSDESK_STATSD_HOST") or None,
            statsd_port=_env_int("NEWSDESK_STATSD_PORT", 8125),
            statsd_prefix=os.environ.get("NEWSDESK_STATSD_PREFIX") or "newsdesk",
            batch_size=_env_int("NEWSDESK_BATCH_SIZE", 50),
            max_pages_per_run=_env_int("NEWSDESK_MAX_PAGES_PER_RUN", 5000),
            max_fetch_attempts=_env_int("NEWSDESK_MAX_FETCH_ATTEMPTS", 3),
            dedup_window_days=_env_int("NEWSDESK_DEDUP_WINDOW_DAYS", 14),
            dedup_workers=_env_int("NEWSDESK_DEDUP_WORKERS", 1),
            extract_timeout=_env_float("NEWSDESK_EXTRACT_TIMEOUT", 30.0),
        )
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


# field -> environment variable. Types come from the dataclass defaults.
OPTIONS: dict[str, str] = {
    "database_url": "NEWSDESK_DATABASE_URL",
    "user_agent": "NEWSDESK_USER_AGENT",
    "connect_timeout": "NEWSDESK_CONNECT_TIMEOUT",
    "read_timeout": "NEWSDESK_READ_TIMEOUT",
    "total_timeout": "NEWSDESK_TOTAL_TIMEOUT",
    "max_body_bytes": "NEWSDESK_MAX_BODY_BYTES",
    "max_redirects": "NEWSDESK_MAX_REDIRECTS",
    "allow_private_addresses": "NEWSDESK_ALLOW_PRIVATE_ADDRESSES",
    "http_proxy": "NEWSDESK_HTTP_PROXY",
    "http_concurrency": "NEWSDESK_HTTP_CONCURRENCY",
    "per_host_concurrency": "NEWSDESK_PER_HOST_CONCURRENCY",
    "per_host_delay": "NEWSDESK_PER_HOST_DELAY",
    "respect_robots": "NEWSDESK_RESPECT_ROBOTS",
    "redis_url": "NEWSDESK_REDIS_URL",
    "max_crawl_delay": "NEWSDESK_MAX_CRAWL_DELAY",
    "robots_ttl": "NEWSDESK_ROBOTS_TTL",
    "robots_error_ttl": "NEWSDESK_ROBOTS_ERROR_TTL",
    "statsd_host": "NEWSDESK_STATSD_HOST",
    "statsd_port": "NEWSDESK_STATSD_PORT",
    "statsd_prefix": "NEWSDESK_STATSD_PREFIX",
    "batch_size": "NEWSDESK_BATCH_SIZE",
    "max_pages_per_run": "NEWSDESK_MAX_PAGES_PER_RUN",
    "max_fetch_attempts": "NEWSDESK_MAX_FETCH_ATTEMPTS",
    "dedup_window_days": "NEWSDESK_DEDUP_WINDOW_DAYS",
    "dedup_workers": "NEWSDESK_DEDUP_WORKERS",
    "extract_timeout": "NEWSDESK_EXTRACT_TIMEOUT",
}


def coerce_options(data: dict) -> dict:
    """Typed Settings fields from a mapping keyed by field or variable name (unknown keys are ignored)."""
    by_env = {env: name for name, env in OPTIONS.items()}
    defaults = Settings()
    out: dict = {}
    for key, value in (data or {}).items():
        name = key if key in OPTIONS else by_env.get(str(key).upper())
        if name is None or value is None:
            continue
        default = getattr(defaults, name)
        if isinstance(default, bool):
            value = value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int):
            value = int(value)
        elif isinstance(default, float):
            value = float(value)
        else:
            value = str(value)
        out[name] = value
    return out
