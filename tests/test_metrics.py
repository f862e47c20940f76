"""Metrics received by a local StatsD listener (a real UDP socket): plain StatsD from a CLI run,
Airflow's StatsD client from ``newsdesk run`` (dag.test), Airflow's OpenTelemetry exporter by a
local OTLP receiver; and ``runs.stats`` agreeing with what the run wrote to the warehouse."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from metrics_listener import StatsdListener
from newsdesk import metrics, offline, pipeline
from newsdesk.config import SEEDS_DIR, Settings
from newsdesk.replay import SnapshotProxy
from newsdesk.storage import schema

SNAPSHOT_REGISTRY = f"{SEEDS_DIR / 'feeds.yaml'}#snapshot"


def _relations(engine) -> dict:
    a = schema.articles
    with engine.connect() as conn:
        found = dict(conn.execute(select(a.c.relation, func.count()).group_by(a.c.relation)).all())
    return {key: found.get(relation, 0) for key, relation in pipeline.RELATION_KEYS.items()}


def _decisions(engine) -> list:
    """Each article's relation and its dedup decision: cluster, the original it is linked to, similarity."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT a.id, a.relation, a.relation || ':' || a.cluster_id || ':' || COALESCE(l.original_article_id, 0)"
            " || ':' || ROUND(COALESCE(a.similarity, 0), 4) AS decision"
            " FROM articles a LEFT JOIN dedup_links l ON l.article_id = a.id")).all()


def _run_stats(engine, run_key: str) -> dict:
    with engine.connect() as conn:
        stats = conn.execute(select(schema.runs.c.stats).where(schema.runs.c.run_key == run_key)).scalar_one()
    return stats if isinstance(stats, dict) else yaml.safe_load(stats)


# -- outside Airflow: plain StatsD ------------------------------------------------------------

@pytest.mark.slow
def test_cli_run_sends_plain_statsd_that_agrees_with_the_run(sqlite_url, sqlite_engine, monkeypatch):
    for name in ("NEWSDESK_HTTP_PROXY", "NEWSDESK_REGISTRY", "NEWSDESK_DATABASE_URL"):  # run_offline sets them
        monkeypatch.setenv(name, "")
    with StatsdListener() as listener:
        monkeypatch.setenv("NEWSDESK_STATSD_HOST", "127.0.0.1")
        monkeypatch.setenv("NEWSDESK_STATSD_PORT", str(listener.port))
        assert offline.run_offline(sqlite_url, use_airflow=False, out=io.StringIO()) == 0
        listener.wait_for("newsdesk.queue.articles_pending_dedup")
    stats = _run_stats(sqlite_engine, "offline")
    got = listener.counters("newsdesk.")
    print(sorted(got.items()))

    polled = {k.rsplit(".", 1)[1]: v for k, v in got.items() if k.startswith("feeds.polled.")}
    assert sum(polled.values()) == stats["feeds_polled"] == 7 and polled["error"] == stats["feed_errors"]
    failed = sum(v for k, v in got.items() if k.startswith("pages.failed."))
    assert failed == stats["fetch_errors"] and got["pages.fetched.200"] >= stats["fetched"]
    assert got["extract.outcome.extracted"] == stats["extracted"]
    assert sum(v for k, v in got.items() if k.startswith("extract.outcome.")) == stats["extracted"] + \
        stats["extract_errors"]
    decided = {relation: got[f"dedup.decided.{relation}"] for relation in pipeline.RELATION_KEYS.values()}
    assert decided == {relation: stats["dedup"][key] for key, relation in pipeline.RELATION_KEYS.items()}
    assert got["robots.fetched.ok"] >= 1
    assert {"stage.duration.poll", "stage.duration.fetch", "stage.duration.extract", "stage.duration.dedup",
            "run.duration.news_ingest", "fetch.duration"} <= listener.names("newsdesk.", "ms")
    assert {"queue.pages_pending", "queue.pages_fetched", "queue.articles_pending_dedup"} <= \
        listener.names("newsdesk.", "g")


def test_no_statsd_host_means_no_metrics(sqlite_engine, settings):
    assert not metrics.for_settings(settings.with_(statsd_host=None)).enabled
    with StatsdListener() as listener:
        pipeline.poll(sqlite_engine, settings.with_(statsd_host=None), [])
        pipeline.dedup(sqlite_engine, settings.with_(statsd_host=None))
        time.sleep(0.3)
    assert listener.lines == []


# -- runs.stats against the warehouse ------------------------------------------------------------

@pytest.mark.slow
def test_run_stats_relations_are_the_warehouses(sqlite_engine, tmp_path):
    """A first round sees two republications (one becomes the provisional original), the next
    brings the original they copy: its statistics count the earlier articles it re-pointed,
    with the relation the warehouse holds after it."""
    spec = yaml.safe_load((SEEDS_DIR / "feeds.yaml").read_text())["snapshot"]
    copies_only = [s for s in spec if s["name"] in ("234Radio", "DailyWire Mirror")]
    subset = tmp_path / "feeds.yaml"
    subset.write_text(yaml.safe_dump({"snapshot": copies_only}))
    with SnapshotProxy() as proxy:
        settings = Settings.from_env(database_url=str(sqlite_engine.url), http_proxy=proxy.url)
        first = pipeline.run_round(sqlite_engine, settings, registry=f"{subset}#snapshot")["dedup"]
        assert {key: first[key] for key in pipeline.RELATION_KEYS} == _relations(sqlite_engine)
        assert sum(first[key] for key in pipeline.RELATION_KEYS) == first["processed"]
        before = {row.id: row.decision for row in _decisions(sqlite_engine)}
        second = pipeline.run_round(sqlite_engine, settings, registry=SNAPSHOT_REGISTRY)["dedup"]
        third = pipeline.run_round(sqlite_engine, settings, registry=SNAPSHOT_REGISTRY)["dedup"]
    after = _decisions(sqlite_engine)
    changed = Counter(row.relation for row in after if before.get(row.id) != row.decision)
    assert {key: second[key] for key in pipeline.RELATION_KEYS} == \
        {key: changed[relation] for key, relation in pipeline.RELATION_KEYS.items()}
    repointed = [row for row in after if row.id in before and before[row.id] != row.decision]
    assert repointed, "the original arrived after its copies and re-pointed them"
    assert third["processed"] == 0 and all(third[key] == 0 for key in pipeline.RELATION_KEYS)


# -- through Airflow's metrics facility --------------------------------------------------------------

@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("airflow-metrics")


def _newsdesk_run(tmp_path: Path, airflow_home: Path, **env: str) -> tuple[str, str]:
    """``newsdesk run`` (dag.test of news_ingest over the snapshot) in a process of its own."""
    database = f"sqlite:///{tmp_path / 'warehouse.db'}"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "AIRFLOW"))}
    full.update(AIRFLOW_HOME=str(airflow_home), NEWSDESK_DATABASE_URL=database, **env)
    proc = subprocess.run([str(Path(sys.executable).with_name("newsdesk")), "run", "--database", database],
                          env=full, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return database, proc.stdout


@pytest.mark.slow
@pytest.mark.airflow
def test_newsdesk_run_sends_metrics_through_airflows_statsd(tmp_path, airflow_home):
    with StatsdListener() as listener:
        database, out = _newsdesk_run(tmp_path, airflow_home, AIRFLOW__METRICS__STATSD_ON="True",
                                      AIRFLOW__METRICS__STATSD_HOST="127.0.0.1",
                                      AIRFLOW__METRICS__STATSD_PORT=str(listener.port),
                                      AIRFLOW__METRICS__STATSD_PREFIX="airflow")
        listener.wait_for("airflow.newsdesk.queue.articles_pending_dedup")
    from newsdesk.storage import db

    engine = db.get_engine(database)
    with engine.connect() as conn:
        key = conn.execute(select(schema.runs.c.run_key)).scalar_one()
    stats = _run_stats(engine, key)
    got = listener.counters("airflow.newsdesk.")
    assert sum(v for k, v in got.items() if k.startswith("feeds.polled.")) == stats["feeds_polled"]
    assert got["extract.outcome.extracted"] == stats["extracted"]
    decided = {key: got[f"dedup.decided.{relation}"] for key, relation in pipeline.RELATION_KEYS.items()}
    assert decided == {key: stats["dedup"][key] for key in pipeline.RELATION_KEYS} == _relations(engine)
    assert "run.duration.news_ingest" in listener.names("airflow.newsdesk.", "ms")
    engine.dispose()


class OtlpReceiver:
    """OTLP/HTTP on 127.0.0.1 (``POST /v1/metrics``, protobuf): the metric names and their data points."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        owner = self
        self.points: dict[str, list] = {}

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportMetricsServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_metrics:
                    for scope in resource.scope_metrics:
                        for metric in scope.metrics:
                            data = getattr(metric, metric.WhichOneof("data"))
                            owner.points.setdefault(metric.name, []).extend(data.data_points)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/metrics"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# A round of the stages in a process set up as an Airflow task is (Airflow's metrics from
# [metrics], newsdesk's routed to them); the process's exit flushes the OpenTelemetry exporter.
AIRFLOW_TASK_LIKE_ROUND = """
import sys
from newsdesk import offline, pipeline
from newsdesk.config import Settings
from newsdesk.replay import SnapshotProxy
from newsdesk.storage import db
from newsdesk.tasks import observability

offline.initialize_airflow_metrics()
observability.install()
engine = db.get_engine(sys.argv[1])
db.upgrade(engine)
with SnapshotProxy() as proxy:
    pipeline.run_round(engine, Settings.from_env(database_url=sys.argv[1], http_proxy=proxy.url), registry=sys.argv[2])
"""


@pytest.mark.airflow
@pytest.mark.slow
def test_stages_send_metrics_through_airflows_opentelemetry(tmp_path):
    pytest.importorskip("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "AIRFLOW__METRICS"))}
    with OtlpReceiver() as receiver:
        env.update(AIRFLOW__METRICS__OTEL_ON="True", OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=receiver.endpoint,
                   OTEL_METRIC_EXPORT_INTERVAL="1000")
        proc = subprocess.run([sys.executable, "-c", AIRFLOW_TASK_LIKE_ROUND, f"sqlite:///{tmp_path / 'w.db'}",
                               SNAPSHOT_REGISTRY], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    names = set(receiver.points)
    ours = {name for name in names if ".newsdesk." in name}
    print(sorted(ours))
    assert "airflow.newsdesk.extract.outcome.extracted" in names
    assert "airflow.newsdesk.dedup.decided.original" in names
    extracted = receiver.points["airflow.newsdesk.extract.outcome.extracted"]
    # Tags travel as attributes, which StatsD cannot carry.
    assert any(attr.key == "kind" and attr.value.string_value == "extracted"
               for point in extracted for attr in point.attributes)
