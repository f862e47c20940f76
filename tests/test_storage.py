"""The warehouse: migrations, the v_articles contract, idempotent loads, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from newsdesk.fetch.archived import read_body
from newsdesk.storage import db, loads, schema
from services import PG_ADMIN_URL

# docs/analysts.md, in order: columns are only ever appended
V_ARTICLES_CONTRACT = [
    "article_id", "url", "canonical_url", "domain", "title", "text", "published_at", "language",
    "cluster_id", "original_url", "relation", "similarity", "source", "author", "sitename", "attribution",
    "word_count", "extracted_at", "origin", "clean_text", "fetched_at", "paywalled", "publisher",
]


def test_upgrade_creates_tables_and_views(engine):
    names = set(inspect(engine).get_table_names())
    assert {"sources", "feeds", "poll_log", "pages", "raw_pages", "articles", "clusters", "dedup_links"} <= names
    with engine.connect() as conn:
        cols = list(conn.execute(text("SELECT * FROM v_articles")).keys())
    assert cols == V_ARTICLES_CONTRACT


def test_analysts_md_lists_the_v_articles_columns_in_order():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysts.md").read_text()
    table = doc.split("### v_articles", 1)[1].split("```", 1)[0]
    documented = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert documented == V_ARTICLES_CONTRACT


def test_upgrade_twice_is_a_no_op(engine):
    db.upgrade(engine)
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_enqueue_pages_is_idempotent_and_canonicalises(engine):
    found = [
        loads.NewPage(url="https://News.example/a?utm_source=rss&id=1#top", origin="feed"),
        loads.NewPage(url="https://news.example/a?id=1", origin="feed"),
        loads.NewPage(url="https://news.example/b", origin="feed"),
    ]
    with engine.begin() as conn:
        first = loads.enqueue_pages(conn, found)
    with engine.begin() as conn:
        second = loads.enqueue_pages(conn, found)
    assert len(first) == 2 and second == []
    with engine.connect() as conn:
        urls = sorted(conn.execute(select(schema.pages.c.url)).scalars())
    assert urls == ["https://news.example/a?id=1", "https://news.example/b"]


def test_raw_html_round_trips_compressed(engine):
    body = ("<html><body>" + "<p>Paragraph of text.</p>" * 500 + "</body></html>").encode()
    with engine.begin() as conn:
        (page_id,) = loads.enqueue_pages(conn, [loads.NewPage(url="https://x.example/1", origin="warc")])
        loads.store_raw(conn, page_id, body, {"content-type": "text/html"})
        loads.store_raw(conn, page_id, body, {"content-type": "text/html"})
    with engine.connect() as conn:
        stored = conn.execute(select(schema.raw_pages)).one()
        assert stored.raw_size == len(body) and len(stored.body) < len(body) / 10
        assert loads.load_raw(conn, page_id, read_body)[0] == body


def test_upsert_article_refreshes_in_place(engine):
    with engine.begin() as conn:
        (page_id,) = loads.enqueue_pages(conn, [loads.NewPage(url="https://x.example/story", origin="feed")])
        source_id = loads.source_for_domain(conn, "x.example")
        fields = {"url": "https://x.example/story", "title": "T", "text": "one two three"}
        first = loads.upsert_article(conn, page_id, source_id, fields)
        again = loads.upsert_article(conn, page_id, source_id, fields)
        changed = loads.upsert_article(conn, page_id, source_id, dict(fields, text="one two three four"))
    assert first == again == changed
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.articles)).scalar_one() == 1
        row = conn.execute(select(schema.articles)).one()
        assert row.word_count == 4 and row.domain == "x.example"


def test_source_for_domain_reuses_registry_source(engine):
    with engine.begin() as conn:
        conn.execute(schema.sources.insert().values(name="Example News", domain="news.example", in_registry=True))
        assert loads.source_for_domain(conn, "news.example") == loads.source_for_domain(conn, "news.example")
        other = loads.source_for_domain(conn, "other.example")
        assert other == loads.source_for_domain(conn, "other.example")
        assert conn.execute(select(func.count()).select_from(schema.sources)).scalar_one() == 2


def test_migrations_build_exactly_the_schema(engine):
    """A schema change without a migration revision fails here, not on an operator's warehouse."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)

    def search_object(change) -> bool:  # full-text search objects are created by ensure_search_index
        return "fts" in repr(change) or "article_search" in repr(change)

    assert [d for d in diff if not search_object(d)] == []


def test_no_index_is_a_leading_prefix_of_another(engine):
    """An index on (a) beside one on (a, b) serves no lookup the wider one does not, and every
    write to the table pays for both (migration 0008 dropped three such indexes)."""
    inspector = inspect(engine)
    redundant = []
    for table in inspector.get_table_names():
        keys = [(i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)]
        keys += [("primary key", tuple(inspector.get_pk_constraint(table)["constrained_columns"]))]
        keys += [(u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)]
        for index in inspector.get_indexes(table):
            cols = tuple(index["column_names"])
            if index["unique"] or None in cols:  # a unique index enforces something; expression indexes vary
                continue
            redundant += [(table, index["name"], other) for other, wider in keys
                          if other != index["name"] and len(wider) > len(cols) and wider[:len(cols)] == cols]
    assert redundant == []


def test_feed_entry_known_by_guid_when_its_link_changes(engine):
    with engine.begin() as conn:
        source_id = loads.source_for_domain(conn, "news.example")
        conn.execute(schema.feeds.insert().values(source_id=source_id, url="https://news.example/rss",
                                                  kind="feed", active=True))
        feed_id = conn.execute(select(schema.feeds.c.id)).scalar_one()
        first = loads.enqueue_pages(conn, [loads.NewPage(url="https://news.example/2025/story-draft", origin="feed",
                                                         feed_id=feed_id, guid="urn:story:42")])
        moved = loads.enqueue_pages(conn, [loads.NewPage(url="https://news.example/2025/story-final", origin="feed",
                                                         feed_id=feed_id, guid="urn:story:42")])
        other_feed_same_guid = loads.enqueue_pages(conn, [loads.NewPage(
            url="https://news.example/2025/other", origin="feed", feed_id=None, guid="urn:story:42")])
    assert len(first) == 1 and moved == [] and len(other_feed_same_guid) == 1


def test_lsh_buckets_rekeyed_by_window_keeping_their_rows(engine):
    """Migration 0003 (and back): the bucket index gains pub_day in its key; rows survive both ways."""
    from alembic import command

    cfg = db.alembic_config(engine)
    with engine.begin() as conn:
        source_id = loads.source_for_domain(conn, "news.example")
        page_id = loads.enqueue_pages(conn, [loads.NewPage(url="https://news.example/a", origin="feed")])[0]
        article_id = loads.upsert_article(conn, page_id, source_id, {"url": "https://news.example/a", "text": "x" * 50})
        conn.execute(schema.lsh_buckets.insert(), [dict(scheme=s, bucket=7 + s, article_id=article_id, pub_day=20000)
                                                   for s in range(3)])
    try:
        command.downgrade(cfg, "0002")
        assert inspect(engine).get_pk_constraint("lsh_buckets")["constrained_columns"] == ["scheme", "bucket",
                                                                                           "article_id"]
    finally:
        command.upgrade(cfg, "head")
    assert inspect(engine).get_pk_constraint("lsh_buckets")["constrained_columns"] == ["scheme", "bucket", "pub_day",
                                                                                       "article_id"]
    with engine.connect() as conn:
        rows = conn.execute(select(schema.lsh_buckets.c.scheme, schema.lsh_buckets.c.pub_day)).all()
    assert sorted(rows) == [(0, 20000), (1, 20000), (2, 20000)]


def _raised(run) -> BaseException:
    with pytest.raises(SQLAlchemyError) as info:
        run()
    return info.value


def test_a_terminated_session_is_transient_and_a_refused_row_is_not(pg_engine):
    """A row the warehouse refuses is set aside; a warehouse that goes away mid-batch is not the
    row's fault: the run fails and a re-run completes it (loads.is_transient)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with pg_engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        cut = _raised(lambda: conn.execute(text("SELECT 1")))
    admin.dispose()
    assert loads.is_transient(cut)
    with pg_engine.begin() as conn:
        long_domain = _raised(lambda: conn.execute(
            text("INSERT INTO sources (name, domain) VALUES ('x', :d)"), {"d": "d" * 300}))
    assert not loads.is_transient(long_domain)


def test_a_locked_sqlite_warehouse_is_transient(tmp_path):
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    with engine.connect() as conn:
        locked = _raised(lambda: conn.execute(text("SELECT * FROM t")))
    holder.rollback()
    holder.close()
    with engine.connect() as conn:
        wrong_row = _raised(lambda: conn.execute(text("INSERT INTO t VALUES (1, 2)")))
    engine.dispose()
    assert loads.is_transient(locked)
    assert not loads.is_transient(wrong_row)
