"""One settings object for every stage, read from the environment.

Inside Airflow the DAG may override the database URL from an Airflow connection
(see ``dags/``); everything else comes from ``NEWSDESK_*`` variables so that the
CLI, the DAGs and the tests configure the library the same way.
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
    # Work sizes.
    batch_size: int = 50
    max_pages_per_run: int = 5000
    max_fetch_attempts: int = 3
    dedup_window_days: int = 14
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
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
            batch_size=_env_int("NEWSDESK_BATCH_SIZE", 50),
            max_pages_per_run=_env_int("NEWSDESK_MAX_PAGES_PER_RUN", 5000),
            max_fetch_attempts=_env_int("NEWSDESK_MAX_FETCH_ATTEMPTS", 3),
            dedup_window_days=_env_int("NEWSDESK_DEDUP_WINDOW_DAYS", 14),
        )
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)
