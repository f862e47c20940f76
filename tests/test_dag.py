"""news_ingest as Airflow runs it: parsing, structure, and a whole run through dag.test()."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from newsdesk.offline import SNAPSHOT_REGISTRY
from newsdesk.replay import SnapshotProxy

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "news_ingest" in dagbag.dag_ids


@pytest.mark.slow
def test_news_ingest_shape(dagbag):
    dag = dagbag.get_dag("news_ingest")
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert dag.timetable.expression == "*/15 * * * *"
    mapped = {
        t.task_id for t in dag.tasks if getattr(t, "is_mapped", False) or t.__class__.__name__ == "MappedOperator"
    }
    assert {"poll_feeds", "fetch_pages", "extract_pages"} <= mapped
    finish = dag.get_task("finish")
    assert [o.uri for o in finish.outlets] == ["newsdesk://warehouse/articles"]


@pytest.mark.slow
def test_dag_run_end_to_end_over_snapshot(airflow_db, dagbag, sqlite_url, monkeypatch):
    """A real dag.test() run loads the snapshot; a second run adds no rows."""
    from newsdesk.storage import db

    db.upgrade(db.get_engine(sqlite_url))  # the deployment's init step; the DAG only checks the revision
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSDESK_REGISTRY", str(SNAPSHOT_REGISTRY))
    dag = dagbag.get_dag("news_ingest")
    with SnapshotProxy() as proxy:
        monkeypatch.setenv("NEWSDESK_HTTP_PROXY", proxy.url)
        run = dag.test()
        assert "success" in str(run.state)
        engine = db.get_engine(sqlite_url)
        with engine.connect() as conn:
            first = conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one()
            pages_first = conn.execute(text("SELECT COUNT(*) FROM pages")).scalar_one()
            runs = conn.execute(text("SELECT stats FROM runs WHERE kind = 'news_ingest'")).all()
        assert first >= 8
        assert runs, "the run's statistics are stored in the warehouse"
        run = dag.test()
        assert "success" in str(run.state)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == first
            assert conn.execute(text("SELECT COUNT(*) FROM pages")).scalar_one() == pages_first
