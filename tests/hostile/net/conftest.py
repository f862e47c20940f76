"""Hostile network inputs: a "public" server and an "internal" one, both on loopback.

The bot runs with loopback refused (``allow_private_addresses`` off) except for 127.0.0.2,
allowed through ``NEWSDESK_ALLOW_NETWORKS``: the *public* server listens there and plays the
outside world (feeds, homepages, redirects). The *internal* server listens on 127.0.0.1 and
plays what SSRF reaches for; every test that points at it asserts that it received nothing.
"""

from __future__ import annotations

import pytest
from netcases import PUBLIC_HOST, BoundServer

from newsdesk.config import Settings


@pytest.fixture
def public_server():
    server = BoundServer(PUBLIC_HOST).start()
    yield server
    server.stop()


@pytest.fixture
def internal_server():
    server = BoundServer("127.0.0.1").start()
    server.add("/secret", body=b"internal secret", headers={"Content-Type": "text/html"})
    server.add("/latest/meta-data/", body=b"iam-credentials", headers={"Content-Type": "text/plain"})
    yield server
    server.stop()


@pytest.fixture
def guarded(sqlite_url) -> Settings:
    """Loopback refused but for the public server's 127.0.0.2; timeouts of a second or two."""
    return Settings.from_env(
        database_url=sqlite_url, allow_private_addresses=False, allow_networks=f"{PUBLIC_HOST}/32",
        connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0, per_host_delay=0.0, respect_robots=False,
    )
