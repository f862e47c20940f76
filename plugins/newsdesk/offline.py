"""``newsdesk run``: the main job over the offline snapshot, as ``make run`` runs it.

The snapshot is served by a local HTTP proxy and ingested by the real
``news_ingest`` DAG through ``dag.test()``, then ``news_rollup`` refreshes
``daily_volume``, so the offline run exercises exactly the code a scheduled run does.
The warehouse must be at this newsdesk's revision (``make run`` runs
``newsdesk db upgrade`` first, as a deployment's init step does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from . import pipeline
from .analytics.rollup import refresh_all
from .config import REPO_ROOT, SEEDS_DIR, Settings, newsdesk_home
from .replay import SnapshotProxy
from .storage import db

SNAPSHOT_REGISTRY = f"{SEEDS_DIR / 'feeds.yaml'}#snapshot"
# The seed document of the project: 234Radio's machine-reworded republication.
SEED_URL_HINT = "234radio.com/russia-seeking-to-create-buffer-zones"


def prepare_airflow_env(airflow_home: Path | None = None) -> dict:
    """Environment for an in-process Airflow on SQLite under ``$NEWSDESK_HOME/airflow``; the DAGs
    are those of the source checkout."""
    home = Path(os.environ.get("AIRFLOW_HOME") or airflow_home or newsdesk_home() / "airflow")
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        # dag.test() logs every task at length (and "XCom not found" for lazily read mapped
        # results, which is harmless); the run's own summary is what an operator reads here.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "CRITICAL",
    }
    for key, value in env.items():
        os.environ.setdefault(key, value)
    return {k: os.environ[k] for k in env}


def migrate_airflow_db() -> None:
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def initialize_airflow_metrics() -> None:
    """Airflow's metrics from ``[metrics]`` (StatsD, Datadog, OpenTelemetry), set up in this
    process as Airflow's task runner does before each task: ``dag.test()`` runs the tasks here
    without that runner, and they send newsdesk's metrics through it (tasks.observability)."""
    from airflow.sdk.configuration import conf
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics import stats_utils

    stats.initialize(factory=stats_utils.get_stats_factory(),
                     export_legacy_names=conf.getboolean("metrics", "legacy_names_on", fallback=True))


def run_dag_test(dag_id: str = "news_ingest", **kwargs):
    """Run one DAG in-process with ``dag.test()``; returns the DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    initialize_airflow_metrics()

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(dag_id).test(**kwargs)


def run_offline(database_url: str, use_airflow: bool = True, out=sys.stdout) -> int:
    engine = db.get_engine(database_url)
    db.create_if_new(engine)  # the demo loads data: a new path gets its warehouse, as `import` does
    db.require_current(engine)
    with SnapshotProxy() as proxy:
        os.environ["NEWSDESK_HTTP_PROXY"] = proxy.url
        os.environ["NEWSDESK_REGISTRY"] = str(SNAPSHOT_REGISTRY)
        os.environ["NEWSDESK_DATABASE_URL"] = database_url
        if use_airflow:
            prepare_airflow_env()
            migrate_airflow_db()
            dagrun = run_dag_test("news_ingest")
            state = str(getattr(dagrun, "state", "unknown"))
            print(f"news_ingest ({dagrun.run_id}) finished: {state}", file=out)
            if "success" not in state:
                for ti in dagrun.get_task_instances():
                    if "success" not in str(ti.state):
                        print(f"  task {ti.task_id}[{ti.map_index}]: {ti.state}", file=out)
                return 1
            # news_rollup runs on news_ingest's asset under a scheduler; dag.test() has none
            rollup = run_dag_test("news_rollup")
            if "success" not in str(getattr(rollup, "state", "")):
                print(f"news_rollup ({rollup.run_id}) finished: {rollup.state}", file=out)
                return 1
        else:
            settings = Settings.from_env(database_url=database_url)
            started = datetime.now(timezone.utc)
            stats = pipeline.run_round(engine, settings, registry=SNAPSHOT_REGISTRY, run_key="offline")
            pipeline.record_run(engine, "offline", "news_ingest", stats, started_at=started, settings=settings)
            refresh_all(engine)
    print_summary(engine, out)
    return 0


def print_summary(engine, out=sys.stdout) -> None:
    summary = pipeline.warehouse_summary(engine)
    with engine.connect() as conn:
        last_run = conn.execute(text("SELECT run_key, stats FROM runs ORDER BY id DESC LIMIT 1")).first()
    if last_run is not None:
        stats = last_run.stats if isinstance(last_run.stats, dict) else json.loads(last_run.stats or "{}")
        stats.pop("warehouse", None)
        print(f"\n== this run ({last_run.run_key}) ==", file=out)
        print(json.dumps(stats, indent=2, default=str, sort_keys=True), file=out)
    print("\n== warehouse ==", file=out)
    print(json.dumps(summary, indent=2, default=str), file=out)
    with engine.connect() as conn:
        seed = conn.execute(text(
            "SELECT cluster_id FROM v_articles WHERE url LIKE :hint ORDER BY article_id LIMIT 1"
        ), {"hint": f"%{SEED_URL_HINT}%"}).first()
        if seed is not None:
            reason = conn.execute(text("SELECT original_reason FROM v_clusters WHERE cluster_id = :c"),
                                  {"c": seed.cluster_id}).scalar()
            print(f"\n== the seed's cluster ({seed.cluster_id}; original by {reason or 'an earlier decision'}) ==",
                  file=out)
            rows = conn.execute(text(
                "SELECT relation, similarity, domain, url, original_url FROM v_articles "
                "WHERE cluster_id = :c ORDER BY relation <> 'original', domain"
            ), {"c": seed.cluster_id}).all()
            for row in rows:
                print(f"  {row.relation:<10} {row.similarity:<6.3f} {row.domain:<28} {row.url}", file=out)
    print("\n== try a query ==", file=out)
    print("  sqlite3 var/newsdesk.db \"SELECT domain, relation, title FROM v_articles ORDER BY cluster_id\"", file=out)
