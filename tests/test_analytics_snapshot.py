"""The analytics layer over the offline snapshot, loaded by the real pipeline
(``newsdesk db upgrade`` and ``newsdesk run --no-airflow`` into a fresh warehouse, served by
SnapshotProxy: conftest's ``snapshot_warehouse``), on SQLite and PostgreSQL. Expectations
come from ``seeds/snapshot/expected.yaml``."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from sqlalchemy import text

from newsdesk.analytics import export, report, search
from newsdesk.config import SEEDS_DIR

SNAPSHOT = SEEDS_DIR / "snapshot"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SNAPSHOT / "manifest.yaml").exists(), reason="no offline snapshot in seeds/snapshot"),
]


@pytest.fixture
def expected():
    return yaml.safe_load((SNAPSHOT / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def loaded(snapshot_warehouse):
    from newsdesk.offline import print_summary

    out = io.StringIO()
    print_summary(snapshot_warehouse, out)
    # the summary `make run` prints, on either warehouse: the seed's cluster and why its original leads
    assert "original by attribution" in out.getvalue()
    return snapshot_warehouse


def _scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_search_collapses_the_seed_story(loaded, expected):
    story = expected["story"]
    members = {m["url"] for m in story["members"]}
    stories = search.search(loaded, "buffer zones", limit=50)
    urls = [s.url for s in stories]
    assert urls.count(story["original"]) == 1, urls
    assert not members & set(urls), "a copy of the seed story was listed as a story of its own"
    seed = next(s for s in stories if s.url == story["original"])
    assert seed.rank == 1 and seed.copies == len(members)
    assert {c["url"] for c in seed.copy_list} == members
    assert {c["relation"] for c in seed.copy_list} == {m["relation"] for m in story["members"]}
    for other in story["not_members"]:  # same event, own reporting: a separate story, no copies
        match = [s for s in stories if s.url == other["url"]]
        assert len(match) == 1 and match[0].copies == 0
    # Filters on the snapshot: a copy's outlet finds the seed story through its copy.
    via_copy = search.search(loaded, "buffer zones", source="234radio.com")
    assert [s.url for s in via_copy] == [story["original"]]
    assert search.search(loaded, "buffer zones", since="2025-07-26") == []


def test_views_over_the_snapshot(loaded, expected):
    articles = _scalar(loaded, "SELECT COUNT(*) FROM articles")
    copies = _scalar(loaded, "SELECT COUNT(*) FROM articles WHERE relation IN ('exact', 'near', 'paraphrase')")
    assert articles >= expected["totals"]["articles"] and copies == len(expected["story"]["members"])
    assert _scalar(loaded, "SELECT SUM(articles) FROM v_daily_volume") == articles
    assert _scalar(loaded, "SELECT SUM(copies) FROM v_daily_volume") == copies
    # `newsdesk run` refreshes the rollup as news_rollup does after a load
    assert _scalar(loaded, "SELECT SUM(articles) FROM daily_volume") == articles
    days = _scalar(loaded, "SELECT COUNT(*) FROM v_daily_volume")
    assert _scalar(loaded, "SELECT COUNT(*) FROM daily_volume") == days
    seed_day = expected["story"]["members"][1]["published"][:10]
    assert _scalar(loaded, "SELECT SUM(copies) FROM v_daily_volume WHERE "
                           + ("CAST(day AS TEXT)" if loaded.dialect.name == "postgresql" else "day")
                           + " = :d", d=seed_day) >= 2

    with loaded.connect() as conn:
        health = {r.url: r for r in conn.execute(text("SELECT * FROM v_feed_health"))}
    assert len(health) == expected["totals"]["feeds"]
    for err in expected["errors"]:
        if err["reached_from"].endswith("feeds.yaml"):  # a registry feed that fails
            row = health[err["url"]]
            assert row.health == "failing" and row.last_outcome == "error" and row.failures_24h == 1
            assert row.last_status == err["status"] and row.error_rate_24h == 1.0
    ok = [r for r in health.values() if r.health == "ok"]
    assert len(ok) == 5 and all(r.polls_24h == 1 and r.new_entries_7d > 0 for r in ok)
    assert sum(r.new_entries_7d for r in health.values()) == expected["totals"]["feed_entries"]


def test_export_and_report_over_the_snapshot(loaded, expected, tmp_path):
    articles = _scalar(loaded, "SELECT COUNT(*) FROM articles")
    out = tmp_path / "snapshot.jsonl"
    assert export.export(loaded, out, fmt="jsonl", since="2025-07-01")["rows"] == articles
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    original = next(r for r in rows if r["url"] == expected["story"]["original"])
    assert original["relation"] == "original" and original["published_at"].startswith("2025-07-24T10:00:00")

    data = report.collect(loaded, since="2025-07-01")
    assert data["clusters"][0]["url"] == expected["story"]["original"]
    assert data["clusters"][0]["copies"] == len(expected["story"]["members"])
    # the network by publisher (registrable domain)
    assert {e["to"] for e in data["edges"]} == {"aljazeera.com"} and len(data["edges"]) == 3
    assert report.write_report(loaded, tmp_path / "r.html", since="2025-07-01")["feeds"] == 7
