"""User errors at the CLI: one line naming the problem, exit 2, no traceback; bad warehouse
URLs, bad options, undecodable text, feed discovery pointed inside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from netcases import guarded_env

from newsdesk.cli import main

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))


def one_line(capsys, *argv) -> str:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's errors exit from inside parse_args
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 600, err
    return err


@pytest.fixture(params=["sqlite", "postgres"])
def ready_url(request):
    """A migrated warehouse on each database."""
    if request.param == "sqlite":
        request.getfixturevalue("sqlite_engine")
        return request.getfixturevalue("sqlite_url")
    request.getfixturevalue("pg_engine")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def not_a_database(tmp_path) -> Path:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a warehouse\n" * 10)
    return path


COMMANDS = {
    "stats": ["stats"],
    "search": ["search", "buffer"],
    "feeds_sync": ["feeds", "sync", "seeds/feeds.yaml"],
    "db_upgrade": ["db", "upgrade"],
    "import": ["import", "missing.warc.gz"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_database_url_unknown_scheme(capsys, command):
    err = one_line(capsys, *COMMANDS[command], "--database", "mysqlx://user@host/db")
    assert "database URL: unknown scheme 'mysqlx'" in err


def test_database_url_http_scheme(capsys):
    assert "unknown scheme 'http'" in one_line(capsys, "stats", "--database", "http://warehouse.example/db")


def test_database_url_not_a_url(capsys):
    assert "database" in one_line(capsys, "stats", "--database", "not-a-url")


def test_database_url_unparseable(capsys):
    assert "database URL" in one_line(capsys, "stats", "--database", "://nothing")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_sqlite_path_under_a_regular_file(capsys, tmp_path, command):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    err = one_line(capsys, *COMMANDS[command], "--database", f"sqlite:///{blocker}/sub/warehouse.db")
    assert f"is under {blocker}, which is a file" in err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_sqlite_file_that_is_not_a_database(capsys, not_a_database, command):
    err = one_line(capsys, *COMMANDS[command], "--database", f"sqlite:///{not_a_database}")
    assert f"{not_a_database} is not a SQLite database" in err
    assert not_a_database.read_text().startswith("these are my notes")  # left as it was


def test_sqlite_path_that_is_a_folder(capsys, tmp_path):
    assert "is a folder, not a SQLite file" in one_line(capsys, "stats", "--database", f"sqlite:///{tmp_path}")


def test_search_undecodable_bytes(capsys, ready_url):
    err = one_line(capsys, "search", "caf\udcff", "--database", ready_url)
    assert "query: not valid text: undecodable bytes" in err


def test_search_undecodable_source(capsys, ready_url):
    assert "source: not valid text" in one_line(capsys, "search", "news", "--source", "\udcfe", "--database",
                                                ready_url)


@pytest.mark.parametrize(("limit", "reason"), [("-1", "must be at least 1, got -1"), ("0", "must be at least 1"),
                                               ("ten", "not a whole number: 'ten'")],
                         ids=["negative", "zero", "not_a_number"])
def test_search_bad_limit(capsys, ready_url, limit, reason):
    err = one_line(capsys, "search", "news", "--limit", limit, "--database", ready_url)
    assert err.startswith("newsdesk search: argument --limit: ") and reason in err


def test_dedup_negative_limit(capsys, ready_url):
    assert "--limit: must be at least 1" in one_line(capsys, "dedup", "--limit", "-5", "--database", ready_url)


def test_unknown_option_is_one_line(capsys):
    assert "unrecognized arguments: --frobnicate" in one_line(capsys, "stats", "--frobnicate")


def test_feeds_discover_homepage_at_private_address(capsys, monkeypatch, internal_server):
    monkeypatch.setenv("NEWSDESK_ALLOW_PRIVATE_ADDRESSES", "0")
    err = one_line(capsys, "feeds", "discover", f"http://2130706433:{internal_server.port}/")
    assert "feeds discover: blocked address 127.0.0.1 (loopback" in err and internal_server.requests == []


def test_feeds_discover_homepage_advertising_only_private_feeds(capsys, monkeypatch, public_server, internal_server):
    for key, value in guarded_env().items():
        if key.startswith("NEWSDESK_"):
            monkeypatch.setenv(key, value)
    public_server.add("/", body=f'<html><head><link rel="alternate" type="application/rss+xml" '
                                f'href="http://0x7f000001:{internal_server.port}/secret"></head></html>',
                      headers={"Content-Type": "text/html"})
    err = one_line(capsys, "feeds", "discover", public_server.url("/"))
    assert "advertises only refused feeds" in err and "127.0.0.1 (loopback" in err
    assert internal_server.requests == []


@pytest.mark.parametrize("url", ["ftp://news.example/", "file:///etc/passwd", "http://[::1/", "http://x:99999/"],
                         ids=["ftp_scheme", "file_scheme", "broken_ipv6_literal", "port_out_of_range"])
def test_feeds_discover_bad_url(capsys, url):
    assert "feeds discover: " in one_line(capsys, "feeds", "discover", url)


@pytest.mark.slow  # a newsdesk process: seconds of imports
def test_search_undecodable_bytes_from_outside(sqlite_engine, sqlite_url):
    """The bytes as a terminal in a non-UTF-8 locale hands them over: argv, not a str."""
    done = subprocess.run([NEWSDESK.encode(), b"search", b"caf\xe9", b"--database", sqlite_url.encode()],
                          capture_output=True, timeout=120, env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"undecodable bytes" in done.stderr, done.stderr


@pytest.mark.slow  # a newsdesk process: seconds of imports
def test_bad_database_url_from_outside(tmp_path):
    (tmp_path / "afile").write_text("x")
    done = subprocess.run([NEWSDESK, "stats", "--database", f"sqlite:///{tmp_path}/afile/w.db"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "which is a file" in done.stderr, done.stderr


def test_backfill_sitemap_unknown_source(capsys, ready_url):
    err = one_line(capsys, "backfill", "sitemap", "nosuchsource", "--database", ready_url)
    assert "unknown source 'nosuchsource'" in err


@pytest.mark.parametrize("argv", [["backfill", "sitemap", "news.example", "--since", "yesterday"],
                                  ["backfill", "archive", "--root", "/nonexistent", "--from", "notadate"]],
                         ids=["sitemap_since", "archive_from"])
def test_backfill_bad_date(capsys, tmp_path, argv):
    err = one_line(capsys, *argv, "--database", f"sqlite:///{tmp_path / 'w.db'}")
    assert "not a date" in err and not (tmp_path / "w.db").exists()
