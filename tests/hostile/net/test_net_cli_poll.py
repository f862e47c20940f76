"""From outside: `newsdesk poll --registry` with loopback refused, against a public server whose
feed links into the internal one and a registry feed written in another notation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from netcases import NOTATIONS, guarded_env
from sqlalchemy import select

from newsdesk.storage import db
from newsdesk.storage.schema import feeds, pages, poll_log

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
LOOPBACK_FORMS = [host for quirk, host, reason in NOTATIONS if "127.0.0.1 (loopback" in reason]


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.mark.slow
def test_cli_poll_refuses_every_notation_and_records_why(tmp_path, warehouse_url, public_server, internal_server):
    port = internal_server.port
    links = [f"http://{host}:{port}/secret" for host in LOOPBACK_FORMS] + ["https://news.example/story/1"]
    items = "".join(f"<item><title>S{i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    public_server.add("/feed.xml", body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
                                        "</channel></rss>", headers={"Content-Type": "application/rss+xml"})
    registry = tmp_path / "feeds.yaml"
    registry.write_text(f"sources:\n  - name: Public\n    homepage: {public_server.url('/')}\n"
                        f"    feeds: ['{public_server.url('/feed.xml')}', 'http://2130706433:{port}/secret']\n")
    done = subprocess.run([NEWSDESK, "poll", "--registry", str(registry), "--database", warehouse_url],
                          capture_output=True, text=True, timeout=180, env=guarded_env())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["feed_errors"] == 1
    warehouse = db.get_engine(warehouse_url)
    with warehouse.connect() as conn:
        logs = {r.url: r for r in conn.execute(select(feeds.c.url, poll_log.c.outcome, poll_log.c.error_kind,
                                                      poll_log.c.error).join(poll_log))}
        urls = list(conn.execute(select(pages.c.url)).scalars())
    refused = logs[f"http://2130706433:{port}/secret"]
    assert refused.error_kind == "hard" and "blocked address 127.0.0.1 (loopback; host '2130706433')" in refused.error
    assert logs[public_server.url("/feed.xml")].outcome == "ok"
    assert urls == ["https://news.example/story/1"]
    assert internal_server.requests == []
