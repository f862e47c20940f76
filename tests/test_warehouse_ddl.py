"""The warehouse as a shared database: only `newsdesk db upgrade` changes its structure, views
are replaced only when their definition changed (in place where the database allows it), an
analyst's own view never stops ingestion, and every other command checks the revision."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from newsdesk.storage import db, loads, schema, views
from newsdesk.storage.errors import ViewBlocked, WarehouseNotReady

REPO = Path(__file__).resolve().parents[1]
NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
HEAD = db.head_revision()


def run(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSDESK, *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def sql_dir_with(tmp_path: Path, **edits) -> Path:
    """A copy of sql/ with view files edited: ``edits[stem] = function(sql) -> sql``."""
    copy = tmp_path / "sql"
    shutil.copytree(REPO / "sql", copy)
    for stem, edit in edits.items():
        path = copy / "views" / f"{stem}.sql"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def append_column(sql: str) -> str:
    """v_articles with one more column at the end, as a later release would add it."""
    return sql.replace("    a.publisher       AS publisher\n", "    a.publisher       AS publisher,\n"
                                                                  "    a.dedup_state     AS probe_state\n")


def rename_republisher(sql: str) -> str:
    """v_syndication with a column renamed: CREATE OR REPLACE VIEW cannot apply that."""
    return sql.replace("a.publisher AS republisher,", "a.publisher AS republishing_publisher,")


def _add_article(engine, url: str, title: str, body: str) -> int:
    with engine.begin() as conn:
        (page_id,) = loads.enqueue_pages(conn, [loads.NewPage(url=url, origin="feed")])
        source_id = loads.source_for_domain(conn, loads.with_place({"url": url})["domain"])
        return loads.upsert_article(conn, page_id, source_id, {"url": url, "title": title, "text": body})


# --- views: replaced only when changed ------------------------------------------------------


def test_upgrade_touches_only_the_views_that_changed(engine, tmp_path, monkeypatch):
    """A second upgrade replaces nothing; a column appended to v_articles replaces v_articles
    alone, and an analyst's view built on it still answers (PostgreSQL: CREATE OR REPLACE VIEW;
    SQLite: dropped and created again in one transaction, the analyst's view resolves by name)."""
    names = [name for name, _, _ in views.definitions(engine.dialect.name)]
    done = db.upgrade(engine)
    assert done["views"]["unchanged"] == names and done["search_index"] == "present"
    _add_article(engine, "https://edition.cnn.com/2025/07/24/world/buffer", "Buffer zones", "Kremlin says so.")
    with engine.begin() as conn:
        conn.execute(text("CREATE VIEW analyst_hosts AS SELECT domain, publisher, title FROM v_articles"))

    monkeypatch.setattr(views, "SQL_DIR", sql_dir_with(tmp_path, **{"10_v_articles": append_column}))
    assert views.outdated(engine.connect()) == ["v_articles"]
    done = db.upgrade(engine)
    assert done["views"]["replaced"] == ["v_articles"]
    assert done["views"]["unchanged"] == names[1:] and done["search_index"] == "present"
    assert _rows(engine, "SELECT probe_state FROM v_articles") == [("pending",)]
    assert _rows(engine, "SELECT domain, publisher FROM analyst_hosts") == [("edition.cnn.com", "cnn.com")]
    assert db.upgrade(engine)["views"]["unchanged"] == names


def test_a_view_that_must_be_dropped_names_the_objects_that_need_it(pg_engine, tmp_path, monkeypatch):
    """PostgreSQL: a renamed column needs DROP VIEW. With an analyst's view on it, the upgrade
    leaves that view as it was, names the analyst's view and what to do, and applies the rest;
    the warehouse stays at its revision, so ingestion goes on. Once the analyst's view is
    gone, the same upgrade recreates it."""
    with pg_engine.begin() as conn:
        conn.execute(text("CREATE VIEW analyst_pairs AS SELECT republisher, copies FROM v_syndication"))
    monkeypatch.setattr(views, "SQL_DIR", sql_dir_with(
        tmp_path, **{"10_v_articles": append_column, "30_v_syndication": rename_republisher}))
    with pytest.raises(ViewBlocked) as blocked:
        db.upgrade(pg_engine)
    message = str(blocked.value)
    assert "v_syndication (needed by view analyst_pairs)" in message and "newsdesk db upgrade" in message
    assert "\n" not in message
    assert _rows(pg_engine, "SELECT count(*) FROM v_articles WHERE probe_state IS NULL") == [(0,)]  # applied
    with pg_engine.connect() as conn:
        assert views.outdated(conn) == ["v_syndication"]
    assert db.require_current(pg_engine) == HEAD  # ingestion's check passes
    assert _rows(pg_engine, "SELECT * FROM analyst_pairs") == []  # and the analyst's view answers

    with pg_engine.begin() as conn:
        conn.execute(text("DROP VIEW analyst_pairs"))
    done = db.upgrade(pg_engine)
    assert done["views"]["recreated"] == ["v_syndication"] and done["views"]["replaced"] == []
    assert _rows(pg_engine, "SELECT republishing_publisher FROM v_syndication") == []


@pytest.mark.slow
def test_the_cli_upgrade_says_which_view_an_analyst_object_holds(pg_url, tmp_path, monkeypatch, capsys):
    from newsdesk.cli import main

    assert run("db", "upgrade", "--database", pg_url).returncode == 0
    engine = db.get_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE VIEW analyst_pairs AS SELECT * FROM v_syndication"))
    # this newsdesk's next release renames a column of v_syndication (in-process: the view files
    # come from the package, so the test points the views module at an edited copy)
    monkeypatch.setattr(views, "SQL_DIR", sql_dir_with(tmp_path, **{"30_v_syndication": rename_republisher}))
    capsys.readouterr()
    assert main(["db", "upgrade", "--database", pg_url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "view analyst_pairs" in err, err
    assert main(["stats", "--database", pg_url]) == 0


# --- every other command checks the revision -------------------------------------------------


@pytest.mark.slow
def test_commands_and_tasks_stop_on_a_warehouse_behind(sqlite_url, monkeypatch):
    """At an older revision, every command but `db upgrade` stops with one line saying what to
    run, and so does the first task of a DAG (without retries). `db upgrade REV` applies what
    it says and never goes back. Migration 0011 fills in the publisher of stored articles."""
    done = run("db", "upgrade", "0009", "--database", sqlite_url)
    assert done.returncode == 0, done.stderr
    assert f"created at 0009 (newest: {HEAD})" in done.stdout and "views and search index not touched" in done.stdout
    current = run("db", "current", "--database", sqlite_url)
    assert f"revision 0009; this newsdesk's newest is {HEAD}" in current.stdout
    assert "run `newsdesk db upgrade`" in current.stdout
    history = run("db", "history", "--database", sqlite_url).stdout.splitlines()
    states = [line.split()[:2] for line in history]
    assert states[0] == [HEAD, "pending"] and ["0009", "current"] in states
    assert all(state == "pending" for _, state in states[:states.index(["0009", "current"])])

    expected = f"is at revision 0009, this newsdesk needs {HEAD}: run `newsdesk db upgrade`"
    for command in (["stats"], ["search", "buffer"], ["poll"], ["export", "-"], ["rollup"], ["dedup"],
                    ["feeds", "status"], ["reextract"]):
        done = run(*command, "--database", sqlite_url)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and expected in done.stderr, (command, done)

    from airflow.sdk.exceptions import AirflowFailException

    from newsdesk.tasks.context import ready_warehouse

    monkeypatch.setenv("NEWSDESK_DATABASE_URL", sqlite_url)
    with pytest.raises(AirflowFailException, match=re.escape(expected)):
        ready_warehouse()

    engine = db.get_engine(sqlite_url)
    with engine.begin() as conn:  # an article stored before 0011: no publisher column yet
        page = conn.execute(insert(schema.pages).values(url="https://edition.cnn.com/a", origin="feed",
                                                        state="extracted").returning(schema.pages.c.id)).scalar_one()
        conn.execute(text("INSERT INTO articles (page_id, url, domain, text, dedup_state) "
                          "VALUES (:p, 'https://edition.cnn.com/a', 'edition.cnn.com', 'x', 'pending')"), {"p": page})
    refused = run("db", "upgrade", "0005", "--database", sqlite_url)
    assert refused.returncode == 2 and "never goes back" in refused.stderr
    done = run("db", "upgrade", "--database", sqlite_url)
    assert done.returncode == 0 and f"from 0009 to {HEAD} (newest)" in done.stdout, done.stderr
    assert _rows(engine, "SELECT publisher FROM v_articles") == [("cnn.com",)]
    assert json.loads(run("stats", "--database", sqlite_url).stdout)["articles"] == 1
    assert ready_warehouse()[1].url == engine.url
    assert run("db", "current", "--database", sqlite_url).stdout == f"revision {HEAD} (newest)\n"


def test_only_upgrade_writes_ddl(engine):
    """What the analysts' and loaders' paths call is read-only with respect to the schema:
    require_current on an upgraded warehouse changes no object definition."""
    def schema_objects():
        if engine.dialect.name == "sqlite":
            return _rows(engine, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
        return _rows(engine, "SELECT c.relname, c.relkind, c.xmin::text FROM pg_class c "
                             "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                             "ORDER BY 1")

    before = schema_objects()
    db.require_current(engine)
    db.require_current(db.get_engine(_url(engine), read_only=True))
    assert schema_objects() == before


# --- read-only SQLite ------------------------------------------------------------------------


@pytest.mark.slow
def test_sqlite_readers_never_wait_on_a_writer_and_cannot_write(sqlite_engine, sqlite_url):
    """A load holds the write lock: `newsdesk search` and `export` answer at once from the last
    committed state (WAL) instead of waiting for the lock; the read-only engine refuses writes."""
    _add_article(sqlite_engine, "https://news.example/committed", "Committed buffer story", "Buffer text.")
    writer = sqlite_engine.raw_connection()
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE articles SET title = 'Uncommitted buffer title'")
        found = run("search", "buffer", "--json", "--database", sqlite_url)
        assert found.returncode == 0, found.stderr
        assert [s["title"] for s in json.loads(found.stdout)] == ["Committed buffer story"]
        exported = run("export", "-", "--database", sqlite_url)
        assert exported.returncode == 0 and exported.stdout.count("\n") == 2  # header and one row
    finally:
        writer.rollback()
        writer.close()
    reader = db.get_engine(sqlite_url, read_only=True)
    with pytest.raises(Exception, match="readonly|read-only|query_only|attempt to write"):
        with reader.begin() as conn:
            conn.execute(text("DELETE FROM articles"))
    assert _rows(sqlite_engine, "SELECT count(*) FROM articles") == [(1,)]


def test_read_only_engine_of_a_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nowhere.db"
    with pytest.raises(WarehouseNotReady, match="no SQLite warehouse at"):
        db.get_engine(f"sqlite:///{missing}", read_only=True)
    assert not missing.exists()


# --- PostgreSQL: a SELECT-only role ---------------------------------------------------------


@pytest.fixture
def reader_role(pg_url):
    """A login role that only reads: created here, granted by `db upgrade --grant-reader`,
    dropped afterwards (roles are server-wide)."""
    import uuid

    from sqlalchemy.engine import make_url

    role = f"newsdesk_reader_{uuid.uuid4().hex[:8]}"
    owner = db.get_engine(pg_url)
    with owner.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    yield role, make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    db.dispose_all()
    owner = db.get_engine(pg_url)
    with owner.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))  # its grants and default privileges here
        conn.execute(text(f'DROP ROLE "{role}"'))
    owner.dispose()


@pytest.mark.slow
def test_analyst_commands_as_a_select_only_role(pg_url, reader_role, tmp_path):
    """`db upgrade --grant-reader ROLE` (sql/roles/reader.sql): that role runs search, export in
    every format and report, reads every documented view, and cannot write; objects a later
    upgrade creates are readable too (default privileges)."""
    import pyarrow.parquet as pq

    role, reader_url = reader_role
    done = run("db", "upgrade", "--grant-reader", role, "--database", pg_url)
    assert done.returncode == 0 and f"role {role} may read" in done.stdout, done.stderr
    owner = db.get_engine(pg_url)
    _add_article(owner, "https://www.reuters.com/world/buffer", "Buffer zones along the border", "Buffer text.")
    _add_article(owner, "https://edition.cnn.com/world/buffer", "Buffer zones, says Kremlin", "Buffer text again.")

    found = run("search", "buffer", "--json", "--database", reader_url)
    assert found.returncode == 0, found.stderr
    assert {s["publisher"] for s in json.loads(found.stdout)} == {"reuters.com", "cnn.com"}
    view_columns = [c for c, in _rows(owner, "SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = 'v_articles' ORDER BY ordinal_position")]
    for fmt in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"a.{fmt}"
        done = run("export", str(out), "--database", reader_url)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["columns"] == view_columns
    assert pq.read_table(tmp_path / "a.parquet").schema.names == view_columns
    assert (tmp_path / "a.csv").read_text().splitlines()[0].split(",") == view_columns
    assert list(json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])) == view_columns
    report = run("report", "--since", "2000-01-01", "--out", str(tmp_path / "r.html"), "--database", reader_url)
    assert report.returncode == 0, report.stderr
    assert run("stats", "--database", reader_url).returncode == 0

    reader = db.get_engine(reader_url)
    for name, _, _ in views.definitions("postgresql"):
        _rows(reader, f"SELECT * FROM {name} LIMIT 1")
    with pytest.raises(Exception, match="permission denied"):
        with reader.begin() as conn:
            conn.execute(text("UPDATE articles SET title = 'x'"))
    with owner.begin() as conn:  # what a later migration or view would add
        conn.execute(text("CREATE VIEW v_later AS SELECT count(*) AS n FROM articles"))
    assert _rows(reader, "SELECT n FROM v_later") == [(2,)]


@pytest.mark.slow
def test_grant_reader_needs_postgresql(sqlite_url):
    done = run("db", "upgrade", "--grant-reader", "newsdesk_reader", "--database", sqlite_url)
    assert done.returncode == 2 and "needs PostgreSQL" in done.stderr


# --- the scenario: an analyst's view on v_articles, then upgrade and every load ------

OLD_V_SYNDICATION = """CREATE VIEW v_syndication AS
SELECT a.domain AS republisher_domain, o.domain AS source_domain, COUNT(*) AS copies,
       SUM(CASE WHEN a.relation = 'exact' THEN 1 ELSE 0 END) AS exact,
       SUM(CASE WHEN a.relation = 'near' THEN 1 ELSE 0 END) AS near,
       SUM(CASE WHEN a.relation = 'paraphrase' THEN 1 ELSE 0 END) AS paraphrase,
       MIN(COALESCE(a.published_at, a.extracted_at)) AS first_copy,
       MAX(COALESCE(a.published_at, a.extracted_at)) AS last_copy
FROM articles a JOIN clusters c ON c.id = a.cluster_id JOIN articles o ON o.id = c.original_article_id
WHERE a.id <> o.id GROUP BY a.domain, o.domain"""


def _warehouse_before_0011(engine) -> None:
    """Migrations up to 0009 and the views as releases before 0011 created them (v_articles
    without publisher, v_syndication by host), with no record of what was applied."""
    db.upgrade(engine, "0009")
    with engine.begin() as conn:
        for name, sql, _ in views.definitions(engine.dialect.name):
            if name == "v_articles":
                sql = re.sub(r",\n\s*-- registrable[^\n]*\n\s*a\.publisher\s+AS publisher", "", sql)
                assert "publisher" not in sql
            elif name == "v_syndication":
                sql = OLD_V_SYNDICATION
            conn.execute(text(sql))


@pytest.mark.slow
@pytest.mark.airflow
def test_an_analyst_view_on_v_articles_survives_upgrade_and_every_load(pg_url, airflow_db, tmp_path, monkeypatch):
    """PostgreSQL, an analyst's view on v_articles in place: `newsdesk db upgrade`, `import`,
    `poll`, `stats` and a news_ingest run all succeed, and the analyst's view still answers."""
    from airflow.dag_processing.dagbag import DagBag

    from newsdesk.offline import SNAPSHOT_REGISTRY
    from newsdesk.replay import SnapshotProxy

    engine = db.get_engine(pg_url)
    _warehouse_before_0011(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE VIEW analyst_copies AS SELECT domain, relation, title FROM v_articles "
                          "WHERE relation <> 'original'"))
    assert run("stats", "--database", pg_url).returncode == 2  # behind: says so, changes nothing

    done = run("db", "upgrade", "--database", pg_url)
    assert done.returncode == 0, done.stderr
    assert "replaced v_articles" in done.stdout and "recreated v_syndication" in done.stdout, done.stdout
    assert _rows(engine, "SELECT count(*) FROM analyst_copies") == [(0,)]

    warc = REPO / "tests" / "data" / "warc" / "syndication.warc.gz"
    imported = run("import", str(warc), "--database", pg_url)
    assert imported.returncode == 0, imported.stderr
    with SnapshotProxy() as proxy:
        polled = run("poll", "--registry", str(SNAPSHOT_REGISTRY), "--database", pg_url,
                     env={"NEWSDESK_HTTP_PROXY": proxy.url})
        assert polled.returncode == 0, polled.stderr
        assert run("stats", "--database", pg_url).returncode == 0
        monkeypatch.setenv("NEWSDESK_DATABASE_URL", pg_url)
        monkeypatch.setenv("NEWSDESK_REGISTRY", str(SNAPSHOT_REGISTRY))
        monkeypatch.setenv("NEWSDESK_HTTP_PROXY", proxy.url)
        dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag("news_ingest")
        assert "success" in str(dag.test().state)
    copies = _rows(engine, "SELECT domain, relation FROM analyst_copies ORDER BY domain")
    assert ("dailywire-mirror.example", "near") in copies and len(copies) >= 2
    assert _rows(engine, "SELECT count(*) FROM v_articles WHERE publisher IS NULL") == [(0,)]
    assert run("db", "upgrade", "--database", pg_url).stdout.splitlines()[-1] == "views: unchanged"
