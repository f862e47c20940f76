"""The ``newsdesk`` command as operators run it (a real subprocess, a real warehouse file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from newsdesk.storage import db

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSDESK, *args], capture_output=True, text=True, timeout=180, env=env)


@pytest.mark.slow
def test_dead_feed_is_disabled_then_polled_again_after_enable(tmp_path, sqlite_url, http_server):
    import os

    http_server.add("/gone.xml", status=410, body=b"gone")
    registry = tmp_path / "feeds.yaml"
    registry.write_text(f"sources:\n  - name: Gone Gazette\n    homepage: {http_server.url('/')}\n"
                        f"    feeds: [{http_server.url('/gone.xml')}]\n")
    env = dict(os.environ, NEWSDESK_ALLOW_PRIVATE_ADDRESSES="1", NEWSDESK_FEED_DISABLE_SCORE="3")

    assert run("db", "upgrade", "--database", sqlite_url, env=env).returncode == 0
    synced = run("feeds", "sync", str(registry), "--database", sqlite_url, env=env)
    assert json.loads(synced.stdout)["feeds_added"] == 1

    engine = db.get_engine(sqlite_url)

    def polls() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM poll_log")).scalar_one()

    assert run("poll", "--database", sqlite_url, env=env).returncode == 0
    with engine.begin() as conn:  # make the feed due again without waiting for its backoff
        conn.execute(text("UPDATE feeds SET next_poll_at = NULL"))
    assert run("poll", "--database", sqlite_url, env=env).returncode == 0
    status = json.loads(run("feeds", "status", "--json", "--database", sqlite_url, env=env).stdout)
    assert status[0]["health"] == "disabled" and "HTTP 410" in status[0]["disabled_reason"]

    before = polls()
    with engine.begin() as conn:
        conn.execute(text("UPDATE feeds SET next_poll_at = NULL"))
    run("poll", "--database", sqlite_url, env=env)
    assert polls() == before, "a disabled feed is not polled"

    enabled = run("feeds", "enable", http_server.url("/gone.xml"), "--database", sqlite_url, env=env)
    assert enabled.returncode == 0, enabled.stderr
    run("poll", "--database", sqlite_url, env=env)
    assert polls() == before + 1, "an enabled feed is polled again"
    assert run("feeds", "enable", "no-such-feed", "--database", sqlite_url, env=env).returncode == 1


@pytest.mark.slow
def test_feeds_discover_prints_advertised_feeds(http_server):
    import os

    http_server.add("/", body=b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
                              b'</head><body>home</body></html>', headers={"Content-Type": "text/html"})
    done = run("feeds", "discover", http_server.url("/"), env=dict(os.environ, NEWSDESK_ALLOW_PRIVATE_ADDRESSES="1"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [http_server.url("/rss.xml")]


@pytest.mark.slow
def test_stats_reports_counts(sqlite_url):
    assert run("db", "upgrade", "--database", sqlite_url).returncode == 0
    done = run("stats", "--database", sqlite_url)
    assert done.returncode == 0
    assert json.loads(done.stdout)["articles"] == 0


@pytest.mark.slow
def test_a_mistyped_sqlite_path_is_an_error_and_creates_nothing(tmp_path):
    """Every command but `db upgrade` reads the warehouse it is given: a path that holds none is
    one line and exit code 2, not a new empty warehouse that answers "no matching stories"."""
    missing = tmp_path / "typo" / "warehuose.db"
    for command in (["stats"], ["search", "buffer"], ["export", str(tmp_path / "a.csv")], ["poll"],
                    ["feeds", "status"], ["db", "current"]):
        done = run(*command, "--database", f"sqlite:///{missing}")
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.count("\n") == 1 and f"no SQLite warehouse at {missing}" in done.stderr, done.stderr
    assert not missing.parent.exists()
