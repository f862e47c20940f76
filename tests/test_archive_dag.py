"""news_archive as Airflow runs it: one day's archive files through dag.test(logical_date=...)."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from newsdesk.storage import db, loads, schema

sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import news_records, write_warc

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


def test_news_archive_shape(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.get_dag("news_archive")
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.catchup is False
    assert {"plan", "import_file", "dedup", "finish"} <= set(dag.task_ids)
    assert [o.uri for o in dag.get_task("finish").outlets] == ["newsdesk://warehouse/articles"]


@pytest.mark.slow
def test_news_archive_imports_its_day_only(airflow_db, dagbag, sqlite_url, tmp_path, monkeypatch):
    root = tmp_path / "archive"
    month = root / "crawl-data" / "CC-NEWS" / "2026" / "03"
    specs = list(news_records(6, 61, domain="dailyherald.example"))
    specs += list(news_records(4, 61, start=50, domain="metrotimes.example"))
    write_warc(month / "CC-NEWS-20260302000000-00001.warc.gz", specs)
    write_warc(month / "CC-NEWS-20260302120000-00002.warc.gz", news_records(3, 62, domain="dailyherald.example"))
    write_warc(month / "CC-NEWS-20260303000000-00003.warc.gz", news_records(5, 63, domain="dailyherald.example"))

    engine = db.get_engine(sqlite_url)
    db.upgrade(engine)
    with engine.begin() as conn:  # the registry lists dailyherald only
        loads.insert_ignore(conn, schema.sources, [dict(name="Daily Herald", domain="dailyherald.example",
                                                        homepage="https://dailyherald.example/", in_registry=True,
                                                        created_at=loads.utcnow())], ["name"])
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSDESK_ARCHIVE_ROOT", str(root))
    dag = dagbag.get_dag("news_archive")
    # A manual/test run at logical date D gets the data interval that ends at D (Airflow 3
    # infers manual intervals that way): 2026-03-03 imports the files of 2026-03-02.
    # Scheduled and backfill runs of day D have the interval [D, D+1).
    logical = datetime(2026, 3, 3, tzinfo=timezone.utc)

    run = dag.test(logical_date=logical)
    assert "success" in str(run.state)
    assert run.data_interval_start == datetime(2026, 3, 2, tzinfo=timezone.utc)
    with engine.connect() as conn:
        domains = conn.execute(text("SELECT domain, COUNT(*) FROM articles GROUP BY domain")).all()
        files = conn.execute(select(schema.archive_files.c.path, schema.archive_files.c.status,
                                    schema.archive_files.c.skipped)).all()
        runs = conn.execute(text("SELECT stats FROM runs WHERE kind = 'news_archive'")).all()
        pending = conn.execute(text("SELECT COUNT(*) FROM articles WHERE dedup_state = 'pending'")).scalar_one()
    assert dict(domains) == {"dailyherald.example": 9}, "registry domains only, the day's two files only"
    assert sorted(Path(p).name for p, _, _ in files) == ["CC-NEWS-20260302000000-00001.warc.gz",
                                                        "CC-NEWS-20260302120000-00002.warc.gz"]
    assert {s for _, s, _ in files} == {"done"}
    assert sum((sk or {}).get("domain_filtered", 0) for _, _, sk in files) == 4
    assert runs, "the run's statistics are stored"
    assert pending == 0, "the dedup task ran"

    run = dag.test(logical_date=logical)  # the same day again: nothing new
    assert "success" in str(run.state)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == 9
        assert conn.execute(text("SELECT COUNT(*) FROM pages")).scalar_one() == 9
