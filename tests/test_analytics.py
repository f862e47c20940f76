"""The analysts' warehouse on SQLite and PostgreSQL: views, full-text search, exports,
rollups, the CLI and the news_rollup DAG, against a small realistic warehouse
(``newsdesk.analytics.sample``: a Reuters "buffer zones" story with four copies, an
ECB story with one, unrelated stories, feeds in every state with their poll log)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update

import sample_warehouse as sample
from newsdesk import cli
from newsdesk.analytics import export, rollup, search
from newsdesk.storage import db, schema, search_index, views


@pytest.fixture
def warehouse(engine):
    info = sample.build_sample_warehouse(engine)
    return engine, info


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


# --- views --------------------------------------------------------------------------------


def test_v_articles_contract_over_the_sample(warehouse):
    engine, info = warehouse
    rows = _rows(engine, "SELECT * FROM v_articles ORDER BY article_id")
    assert len(rows) == 13
    by_id = {r["article_id"]: r for r in rows}
    original = by_id[info["articles"]["buffer"]]
    copy = by_id[info["articles"]["buffer_kyivpost"]]
    assert original["relation"] == "original" and original["original_url"] == original["url"]
    assert copy["relation"] == "paraphrase" and copy["original_url"] == original["url"]
    assert copy["cluster_id"] == original["cluster_id"] and copy["source"] == "Kyiv Post"
    pending = by_id[info["articles"]["wildfire"]]
    assert pending["cluster_id"] is None and pending["relation"] == "original" and pending["similarity"] == 1.0


def test_v_daily_volume(warehouse):
    engine, info = warehouse
    rows = _rows(engine, "SELECT * FROM v_daily_volume ORDER BY day, source")
    assert list(rows[0]) == ["day", "source_id", "source", "articles", "originals", "copies", "exact_copies",
                             "near_copies", "paraphrases", "words"]
    story_day = info["story_day"].isoformat()
    day = {r["source"]: r for r in rows if str(r["day"])[:10] == story_day}
    assert set(day) == {"Reuters", "Yahoo News", "MSN", "US News", "Kyiv Post", "BBC News"}  # + the storm story
    assert (day["BBC News"]["originals"], day["BBC News"]["copies"]) == (1, 0)
    assert (day["Reuters"]["originals"], day["Reuters"]["copies"]) == (1, 0)
    assert (day["Yahoo News"]["copies"], day["Yahoo News"]["exact_copies"]) == (1, 1)
    assert day["MSN"]["near_copies"] == 1 and day["Kyiv Post"]["paraphrases"] == 1
    assert sum(r["articles"] for r in rows) == 13
    assert sum(r["copies"] for r in rows) == 5
    assert all(r["articles"] == r["originals"] + r["copies"] for r in rows)
    assert all(isinstance(r["words"], int) and r["words"] > 0 for r in rows)


def test_v_feed_health(warehouse):
    engine, info = warehouse
    rows = {r["feed_id"]: r for r in _rows(engine, "SELECT * FROM v_feed_health")}
    f = info["feeds"]
    assert len(rows) == 7
    reuters, msn, kyiv, bbc, dw = rows[f["reuters"]], rows[f["msn"]], rows[f["kyivpost"]], rows[f["bbc"]], rows[f["dw"]]
    assert reuters["source"] == "Reuters" and reuters["url"] == "https://www.reuters.com/world/rss"
    assert (reuters["health"], reuters["last_outcome"], reuters["last_status"]) == ("ok", "ok", 200)
    assert reuters["polls_24h"] == 8 and reuters["failures_24h"] == 0 and reuters["error_rate_24h"] == 0
    assert reuters["new_entries_7d"] == 2 * 4 + 5  # the 10-day-old poll is outside the window
    assert reuters["polls_total"] == 10
    assert (msn["health"], msn["last_outcome"], msn["last_status"]) == ("failing", "error", 503)
    assert (msn["polls_24h"], msn["failures_24h"]) == (4, 3) and msn["error_rate_24h"] == pytest.approx(0.75)
    assert msn["last_error"] == "HTTP 503 Service Unavailable" and msn["last_error_kind"] == "http_5xx"
    assert msn["consecutive_failures"] == 3 and not msn["disabled"]
    assert kyiv["health"] == "disabled" and kyiv["disabled"] and kyiv["disabled_reason"].startswith("HTTP 410")
    assert kyiv["polls_24h"] == 0 and kyiv["error_rate_24h"] is None and kyiv["failures_total"] == 1
    assert bbc["health"] == "stale" and bbc["new_entries_7d"] == 0
    assert dw["health"] == "never_polled" and dw["last_polled_at"] is None and dw["polls_total"] == 0
    assert rows[f["yahoo"]]["health"] == "ok" and rows[f["yahoo"]]["last_status"] == 200


def test_every_view_runs_on_an_empty_warehouse(engine):
    for path in db.view_files():
        name = path.stem.split("_", 1)[1]
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT * FROM {name}")).all() == [], name


# --- search ---------------------------------------------------------------------------------


def test_search_buffer_zones_is_one_story_with_copies_collapsed(warehouse):
    engine, info = warehouse
    stories = search.search(engine, "buffer zones")
    assert len(stories) == 1
    story = stories[0]
    assert story.article_id == info["articles"]["buffer"] and story.source == "Reuters"
    assert story.title.startswith("Russia's Putin says army is creating 'buffer zones'")
    assert story.copies == 4 and story.matched == 5
    assert [c["source"] for c in story.copy_list] == ["Yahoo News", "MSN", "US News", "Kyiv Post"]
    assert [c["relation"] for c in story.copy_list] == ["exact", "near", "near", "paraphrase"]
    assert "buffer zones" in story.snippet


def test_search_ranking_stemming_and_filters(warehouse):
    engine, info = warehouse
    a = info["articles"]
    # "buffer" alone: the banks story (title match) and the Ukraine story; stemming finds "buffers".
    assert [s.article_id for s in search.search(engine, "buffer")] == [a["banks"], a["buffer"]]
    assert [s.article_id for s in search.search(engine, "Pufferzone")] == [a["german"]]
    assert [s.article_id for s in search.search(engine, '"time zones"')] == [a["timezones"]]
    assert {s.article_id for s in search.search(engine, "buffer -Ukraine")} == {a["banks"]}
    assert {s.article_id for s in search.search(engine, "wildfire OR storm")} == {a["wildfire"], a["storm"]}
    # A filter on a copy's source still shows the original, with all its copies.
    only_msn = search.search(engine, "buffer zones", source="MSN")
    assert [(s.article_id, s.copies, s.matched) for s in only_msn] == [(a["buffer"], 4, 1)]
    assert search.search(engine, "buffer zones", source="www.kyivpost.com")[0].matched == 1
    assert search.search(engine, "buffer zones", source="BBC News") == []
    assert [s.article_id for s in search.search(engine, "Ukraine", language="de")] == [a["german"]]
    assert [s.article_id for s in search.search(engine, "Ukraine", language="fr")] == []
    assert [s.article_id for s in search.search(engine, "Selenskyj", language="de")] == [a["german"]]
    since = info["now"] - timedelta(days=10)
    assert a["old"] in [s.article_id for s in search.search(engine, "prisoners")]
    assert search.search(engine, "prisoners", since=since) == []
    assert len(search.search(engine, "the OR a OR in", limit=3)) <= 3
    assert search.search(engine, "   ") == [] and search.search(engine, '"" -') == []


def test_search_input_is_not_query_syntax(warehouse):
    engine, _ = warehouse
    for hostile in ['buffer" OR title:*', "NEAR(buffer zones)", "buffer AND (", "'; DROP TABLE articles; --", "*"]:
        search.search(engine, hostile)  # no syntax error
    assert _rows(engine, "SELECT COUNT(*) AS n FROM articles")[0]["n"] == 13


def test_search_index_follows_inserts_updates_and_deletes(warehouse):
    engine, info = warehouse
    with engine.begin() as conn:
        conn.execute(update(schema.articles).where(schema.articles.c.id == info["articles"]["storm"])
                     .values(title="Storm Éowyn batters Ireland", text="Record gusts in Galway overnight."))
    assert search.search(engine, "flooding") == []
    assert [s.article_id for s in search.search(engine, "Éowyn galway")] == [info["articles"]["storm"]]
    # accents folded on both databases, in the text and in the query
    assert [s.article_id for s in search.search(engine, "eowyn")] == [info["articles"]["storm"]]
    assert [s.article_id for s in search.search(engine, "Präsident")] == [info["articles"]["german"]]
    assert [s.article_id for s in search.search(engine, "prasident die")] == [info["articles"]["german"]]
    with engine.begin() as conn:
        page = conn.execute(insert(schema.pages).values(url="https://x.example/n", origin="feed", state="extracted")
                            .returning(schema.pages.c.id)).scalar_one()
        new = conn.execute(insert(schema.articles).values(
            page_id=page, url="https://x.example/n", title="Zebra crossings", text="A zebra crossing story.",
            dedup_state="pending").returning(schema.articles.c.id)).scalar_one()
    assert [s.article_id for s in search.search(engine, "zebra")] == [new]
    with engine.begin() as conn:
        conn.execute(schema.articles.delete().where(schema.articles.c.id == new))
    assert search.search(engine, "zebra") == []


def test_postgres_search_rows_are_rewritten_only_when_title_text_or_language_change(pg_engine):
    """Dedup updates every article once (cluster, relation, clean text): that must not re-insert
    its lexemes into the GIN index. A re-extraction that changes the text must."""
    info = sample.build_sample_warehouse(pg_engine)
    storm = info["articles"]["storm"]

    def version():
        with pg_engine.connect() as conn:
            return conn.execute(text("SELECT xmin::text FROM article_search WHERE article_id = :a"),
                                {"a": storm}).scalar_one()

    before = version()
    with pg_engine.begin() as conn:
        conn.execute(update(schema.articles).where(schema.articles.c.id == storm).values(
            clean_text="Cleaned again.", relation="near", similarity=0.9, dedup_state="done", dedup_epoch=7))
    assert version() == before
    with pg_engine.begin() as conn:
        conn.execute(update(schema.articles).where(schema.articles.c.id == storm).values(text="Hailstones in Cork."))
    assert version() != before
    assert [s.article_id for s in search.search(pg_engine, "hailstones")] == [storm]


def test_postgres_upgrade_moves_the_former_generated_search_column(pg_engine):
    """Warehouses created before 2026-11 kept the tsvector as a generated column of articles
    (with its GIN index): an upgrade drops it and builds the side table from every article."""
    sample.build_sample_warehouse(pg_engine)
    with pg_engine.begin() as conn:
        conn.execute(text("DROP TABLE article_search"))
        conn.execute(text(f"ALTER TABLE articles ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
                          f"({search_index.pg_tsv_expr()}) STORED"))
        conn.execute(text("CREATE INDEX ix_articles_search_tsv ON articles USING GIN (search_tsv)"))
    db.upgrade(pg_engine)
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM information_schema.columns "
                                 "WHERE table_name = 'articles' AND column_name = 'search_tsv'")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM article_search")).scalar_one() == 13
    assert len(search.search(pg_engine, "buffer zones")) == 1
    assert search_index.ensure_search_index(pg_engine) == "present"


def test_postgres_upgrade_from_a_definition_with_the_same_vectors_replaces_only_the_functions(pg_engine):
    """A definition listed in SAME_VECTORS (the former newsdesk_fold: one translate over the
    whole list of accented letters) computed every vector as the current one does: the upgrade
    replaces the function and keeps the vectors, it does not index every article again."""
    sample.build_sample_warehouse(pg_engine)
    old_digest = next(iter(search_index.SAME_VECTORS["postgresql"]))
    with pg_engine.begin() as conn:
        conn.execute(text(f"CREATE OR REPLACE FUNCTION newsdesk_fold(value text) RETURNS text LANGUAGE sql "
                          f"IMMUTABLE PARALLEL SAFE AS $$ SELECT translate(value, '{search_index.ACCENTS}', "
                          f"'{search_index.ACCENTS_FOLDED}') $$"))
        views.record(conn, db.SEARCH_INDEX, old_digest)
        conn.execute(text("UPDATE article_search SET search_tsv = search_tsv || 'kept'::tsvector"))
        before = dict(conn.execute(text("SELECT article_id, search_tsv::text FROM article_search")).all())
    assert not db.status(pg_engine)["search_index_current"]
    assert db.upgrade(pg_engine)["search_index"] == "functions replaced"
    with pg_engine.connect() as conn:
        assert dict(conn.execute(text("SELECT article_id, search_tsv::text FROM article_search")).all()) == before
        assert "regexp_replace" in conn.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'newsdesk_fold'")
                                                ).scalar_one()
    assert db.status(pg_engine)["search_index_current"]
    assert db.upgrade(pg_engine)["search_index"] == "present"


def test_ensure_search_index_is_idempotent_and_backfills(engine):
    sample.build_sample_warehouse(engine)
    assert search_index.ensure_search_index(engine) == "present"
    db.upgrade(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:  # as if the index had been lost: recreated and backfilled
            conn.execute(text("DROP TABLE articles_fts"))
        assert search_index.ensure_search_index(engine).startswith("created")
    else:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE article_search"))
        assert search_index.ensure_search_index(engine) == "created table"
        with engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT article_id FROM article_search WHERE search_tsv @@ to_tsquery('simple', 'buffer')")
            ).scalars())
            assert "ix_article_search_tsv" in plan
    assert len(search.search(engine, "buffer zones")) == 1


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_formats(warehouse, tmp_path, fmt):
    engine, info = warehouse
    out = tmp_path / f"articles.{fmt}"
    since = info["now"] - timedelta(days=10)
    stats = export.export(engine, out, fmt=fmt, since=since, chunk_size=5)
    with engine.connect() as conn:
        view_columns = list(conn.execute(text("SELECT * FROM v_articles WHERE 1 = 0")).keys())
    assert stats["rows"] == 12 and stats["chunks"] == 3 and out.exists()
    assert not list(tmp_path.glob("*.part"))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        assert table.schema.names == stats["columns"] == view_columns and table.num_rows == 12
        assert str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
        rows = table.to_pylist()
    elif fmt == "csv":
        with open(out, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == view_columns
    else:
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert list(rows[0]) == view_columns
    ids = [int(r["article_id"]) for r in rows]
    assert ids == sorted(ids) and info["articles"]["old"] not in ids
    first = next(r for r in rows if int(r["article_id"]) == info["articles"]["buffer"])
    assert first["title"].startswith("Russia's Putin") and first["source"] == "Reuters"
    published = first["published_at"]
    published = published if isinstance(published, datetime) else datetime.fromisoformat(published)
    assert published.utcoffset() == timedelta(0)
    assert published.replace(tzinfo=None) == (info["story_day"] and published.replace(tzinfo=None))


def test_export_everything_and_nothing(warehouse, tmp_path):
    engine, info = warehouse
    assert export.export(engine, tmp_path / "all.jsonl", fmt="jsonl")["rows"] == 13
    empty = export.export(engine, tmp_path / "none.parquet", fmt="parquet", since=info["now"] + timedelta(days=1))
    assert empty["rows"] == 0
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "none.parquet").schema.names == [c for c, _ in export.view_columns(engine)]
    with pytest.raises(ValueError):
        export.export(engine, tmp_path / "x.xml", fmt="xml")


def test_export_columns_and_types_come_from_the_view(warehouse, tmp_path, monkeypatch):
    """The export is the view: its columns in its order, read at run time, with the same
    Parquet types on both databases; a column appended to v_articles is exported with no
    change to the exporter."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsdesk.storage import views

    engine, info = warehouse
    export.export(engine, tmp_path / "a.parquet")
    schema = pq.read_schema(tmp_path / "a.parquet")
    types = {name: str(schema.field(name).type) for name in schema.names}
    assert types["article_id"] == types["word_count"] == types["cluster_id"] == "int64"
    assert types["similarity"] == "double" and types["paywalled"] == "bool"
    assert types["published_at"] == types["fetched_at"] == "timestamp[us, tz=UTC]"
    assert types["relation"] == types["publisher"] == types["original_url"] == "string"
    table = pq.read_table(tmp_path / "a.parquet")
    reuters = table.filter(pa.compute.equal(table["article_id"], info["articles"]["buffer"])).to_pylist()[0]
    assert reuters["publisher"] == "reuters.com" and reuters["similarity"] == 1.0

    copy = tmp_path / "sql"
    shutil.copytree(Path(views.SQL_DIR), copy)
    view = copy / "views" / "10_v_articles.sql"
    appended = "    a.publisher       AS publisher,\n    a.text_sha256     AS text_sha256\n"
    view.write_text(view.read_text().replace("    a.publisher       AS publisher\n", appended))
    monkeypatch.setattr(views, "SQL_DIR", copy)
    db.upgrade(engine)
    stats = export.export(engine, tmp_path / "b.csv", fmt="csv")
    assert stats["columns"][-2:] == ["publisher", "text_sha256"] and stats["rows"] == 13
    with open(tmp_path / "b.csv", newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh))[-1] == "text_sha256"


def test_export_partitioned_by_day(warehouse, tmp_path):
    import pyarrow.dataset as ds

    engine, info = warehouse
    out = tmp_path / "by_day"
    stats = export.export(engine, out, fmt="parquet", partition_by="day", chunk_size=4)
    with engine.connect() as conn:
        per_day = {str(day)[:10]: n for day, n in conn.execute(text(
            "SELECT day, SUM(articles) FROM v_daily_volume GROUP BY day"))}
    days = set(per_day)
    assert {p.name for p in out.iterdir()} == {f"day={d}" for d in days}
    assert stats["rows"] == 13 and stats["partitions"] == len(days)
    for part in out.iterdir():  # each file holds the view's columns, the day is its folder
        for f in part.glob("*.parquet"):
            assert ds.dataset(f, format="parquet").schema.names == stats["columns"]
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 13 and sorted(table["article_id"].to_pylist()) == sorted(info["articles"].values())
    assert {d: table.filter(ds.field("day") == d).num_rows for d in days} == per_day
    with pytest.raises(FileExistsError):
        export.export(engine, out, fmt="parquet", partition_by="day")


@pytest.mark.slow
def test_cli_export_dash_writes_csv_to_stdout(sqlite_engine, tmp_path):
    import subprocess
    import sys
    from pathlib import Path as P

    sample.build_sample_warehouse(sqlite_engine)
    newsdesk = str(P(sys.executable).with_name("newsdesk"))
    url = _url(sqlite_engine)
    done = subprocess.run([newsdesk, "export", "-", "--database", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert len(rows) == 13 and rows[0]["publisher"] and json.loads(done.stderr)["format"] == "csv"
    jsonl = subprocess.run([newsdesk, "export", "-", "--format", "jsonl", "--database", url],
                           capture_output=True, text=True, timeout=120)
    assert len(jsonl.stdout.splitlines()) == 13
    refused = subprocess.run([newsdesk, "export", "-", "--format", "parquet", "--database", url],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "parquet needs a file" in refused.stderr


# --- publishers ---------------------------------------------------------------------------------


def test_publishers_group_an_outlets_hosts(warehouse):
    """edition.cnn.com and cnn.com are one publisher: one republisher in v_syndication and in the
    report's network, and --source cnn.com finds both hosts' copies; domain stays the host."""
    from newsdesk.analytics import report
    from newsdesk.storage import loads

    engine, info = warehouse
    with engine.begin() as conn:
        copies = []
        for url in ("https://edition.cnn.com/2026/world/putin-buffer-zones", "https://www.cnn.com/world/buffer"):
            (page,) = loads.enqueue_pages(conn, [loads.NewPage(url=url, origin="feed")])
            source = loads.source_for_domain(conn, loads.with_place({"url": url})["domain"])
            copies.append(loads.upsert_article(conn, page, source, {
                "url": url, "title": sample.BUFFER_ORIGINAL[0], "text": sample.BUFFER_ORIGINAL[1],
                "published_at": info["now"] - timedelta(days=1)}))
        conn.execute(update(schema.articles).where(schema.articles.c.id.in_(copies)).values(
            cluster_id=info["clusters"]["buffer"], relation="exact", similarity=1.0, dedup_state="done"))
    hosts = _rows(engine, "SELECT domain, publisher FROM v_articles WHERE publisher = 'cnn.com' ORDER BY domain")
    assert [(r["domain"], r["publisher"]) for r in hosts] == [("cnn.com", "cnn.com"), ("edition.cnn.com", "cnn.com")]
    syndication = _rows(engine, "SELECT * FROM v_syndication WHERE republisher = 'cnn.com'")
    assert [(r["original_publisher"], r["copies"], r["exact"]) for r in syndication] == [("reuters.com", 2, 2)]
    edges = report.collect(engine, since=info["now"] - timedelta(days=10))["edges"]
    assert {"from": "cnn.com", "to": "reuters.com", "copies": 2} in edges
    assert all(e["from"] != e["to"] for e in edges)
    found = search.search(engine, "buffer zones", source="cnn.com")
    assert [(s.article_id, s.matched) for s in found] == [(info["articles"]["buffer"], 2)]
    assert search.search(engine, "buffer zones", source="edition.cnn.com")[0].matched == 1


# --- rollup ----------------------------------------------------------------------------------


def test_rollup_materialises_v_daily_volume_incrementally(warehouse):
    engine, info = warehouse
    view_sql = "SELECT day, source_id, source, articles, originals, copies, words FROM {} ORDER BY day, source_id"

    def same():
        def norm(rows):
            return [dict(r, day=str(r["day"])[:10]) for r in rows]

        assert norm(_rows(engine, view_sql.format("daily_volume"))) == norm(
            _rows(engine, view_sql.format("v_daily_volume"))
        )

    assert rollup.refresh_all(engine)["daily_volume"]["mode"] == "full"
    same()
    assert rollup.refresh_all(engine)["daily_volume"]["mode"] == "unchanged"
    # dedup decides later that the BBC storm story is a copy of the Reuters wildfire story
    later = datetime.now(timezone.utc) + timedelta(seconds=2)
    with engine.begin() as conn:
        conn.execute(update(schema.articles).where(schema.articles.c.id == info["articles"]["storm"]).values(
            relation="near", similarity=0.9, cluster_id=info["clusters"]["buffer"]))
        conn.execute(insert(schema.dedup_links).values(
            article_id=info["articles"]["storm"], original_article_id=info["articles"]["buffer"], relation="near",
            similarity=0.9, method="test", evidence={}, decided_at=later))
    result = rollup.refresh_all(engine)["daily_volume"]
    assert result["mode"] == "incremental" and result["days_from"] == info["story_day"].isoformat()
    same()
    assert rollup.refresh_all(engine, full=True)["daily_volume"]["mode"] == "full"
    same()


# --- CLI -------------------------------------------------------------------------------------


def _url(engine):
    return engine.url.render_as_string(hide_password=False)


def test_cli_search_export_report_rollup(warehouse, tmp_path, capsys):
    engine, info = warehouse
    url = _url(engine)
    assert cli.main(["search", "buffer zones", "--database", url, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 1 and found[0]["copies"] == 4 and len(found[0]["copy_list"]) == 4
    assert cli.main(["search", "buffer zones", "--database", url, "--since", "2000-01-01", "--limit", "5",
                     "--language", "en", "--source", "Reuters"]) == 0
    out = capsys.readouterr().out
    assert "+4 copies" in out and "Yahoo News (exact)" in out
    assert cli.main(["search", "no-such-words-anywhere", "--database", url]) == 0
    assert "no matching stories" in capsys.readouterr().out

    since = (info["now"] - timedelta(days=10)).date().isoformat()
    assert cli.main(["export", str(tmp_path / "a.csv"), "--since", since, "--database", url]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 12
    assert cli.main(["export", str(tmp_path / "a.out"), "--format", "jsonl", "--database", url]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "jsonl"

    report = tmp_path / "r" / "report.html"
    assert cli.main(["report", "--since", since, "--out", str(report), "--database", url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clusters"] == 2 and summary["feeds"] == 7
    page = report.read_text(encoding="utf-8")
    assert "<script src" not in page and "http://" not in page.split("<script id=\"report-data\"")[0]
    assert cli.main(["rollup", "--database", url]) == 0
    assert json.loads(capsys.readouterr().out)["daily_volume"]["mode"] == "full"


def test_cli_rejects_bad_dates(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "x.csv", "--since", "last tuesday"])
    assert "not a date" in capsys.readouterr().err


# --- the DAG ---------------------------------------------------------------------------------


@pytest.mark.airflow
@pytest.mark.slow
def test_news_rollup_dag_is_asset_scheduled(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert bag.import_errors == {}
    dag = bag.get_dag("news_rollup")
    assets = [a.uri for a in dag.timetable.asset_condition.iter_assets()] if hasattr(
        dag.timetable.asset_condition, "iter_assets") else [str(dag.timetable.asset_condition)]
    assert any("newsdesk://warehouse/articles" in str(a) for a in assets)
    ingest = bag.get_dag("news_ingest")
    assert "newsdesk://warehouse/articles" in [o.uri for o in ingest.get_task("finish").outlets]


@pytest.mark.airflow
@pytest.mark.slow
def test_news_rollup_dag_run(airflow_db, sqlite_engine, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    sample.build_sample_warehouse(sqlite_engine)
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", _url(sqlite_engine))
    dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag("news_rollup")
    run = dag.test()
    assert "success" in str(run.state)
    assert _rows(sqlite_engine, "SELECT COUNT(*) AS n FROM daily_volume")[0]["n"] == 13
