"""Politeness of the whole Celery deployment, as processes: two Celery workers (two tasks each)
run ``news_ingest`` against a proxy that counts the requests in flight per invented host.

The workers share host slots, pacing and robots.txt through Redis (``NEWSDESK_REDIS_URL``, as
in docker-compose.yml): however the mapped fetch tasks land on the workers, no host ever has
more than ``NEWSDESK_PER_HOST_CONCURRENCY`` requests in flight, a host's Crawl-delay spaces
every request to it, and each robots.txt is fetched once for the whole run. The same run sends
its metrics through Airflow's StatsD client (``[metrics] statsd_on``) to a local listener.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from metrics_listener import StatsdListener
from politeness_server import CountingProxy
from services import pg_and_redis_unreachable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[1]
PER_HOST = 2
CRAWL_DELAY = 1.0
STORIES = {"alpha.example": 10, "beta.example": 10, "gamma.example": 5}
ROBOTS = {
    "alpha.example": "User-agent: *\nDisallow: /*-private.html$\n",
    "beta.example": "User-agent: *\nAllow: /\n",
    "gamma.example": f"User-agent: newsdesk\nCrawl-delay: {CRAWL_DELAY}\n",
}


def _load_stack_module():
    spec = importlib.util.spec_from_file_location("airflow_stack", REPO / "scripts" / "airflow_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_mod = _load_stack_module()


def _feed(host: str, count: int) -> str:
    links = [f"http://{host}/story-{n}.html" for n in range(count)]
    if host == "alpha.example":
        links.append(f"http://{host}/memo-private.html")  # refused by its robots.txt
    items = "".join(f"<item><title>Story {n} of {host}</title><link>{link}</link><guid>{link}</guid>"
                    f"<pubDate>Mon, 07 Dec 2026 {8 + n % 10:02d}:00:00 GMT</pubDate></item>"
                    for n, link in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{host}</title>'
            f"<link>http://{host}/</link><description>news</description>{items}</channel></rss>")


def _skip_reason() -> str | None:
    return pg_and_redis_unreachable(stack_mod.REDIS_HOST, stack_mod.REDIS_PORT)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    registry = tmp_path_factory.mktemp("registry") / "feeds.yaml"
    registry.write_text(yaml.safe_dump({"sources": [
        {"name": host, "homepage": f"http://{host}/", "language": "en", "feeds": [f"http://{host}/feed.xml"]}
        for host in STORIES]}))
    files = {(host, "/feed.xml"): ("application/rss+xml", _feed(host, count)) for host, count in STORIES.items()}
    # Each page takes a while, so the fetch tasks on both workers overlap on the same hosts.
    with CountingProxy(hold=0.8, robots=ROBOTS, files=files) as proxy, StatsdListener() as listener:
        stack = stack_mod.AirflowStack(workers=2, worker_concurrency=2, extra_env={
            **stack_mod.FAST_ENV,
            "NEWSDESK_HTTP_PROXY": proxy.url,
            "NEWSDESK_REGISTRY": f"{registry}#sources",
            "NEWSDESK_PER_HOST_CONCURRENCY": str(PER_HOST),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(listener.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        })
        with stack:
            stack.wait_dag("news_ingest")
            stack.unpause("news_ingest")
            yield stack, proxy, listener
        print(f"stack timings: {stack.timings}")


def test_two_celery_workers_keep_the_per_host_limits_and_robots(deployment):
    stack, proxy, listener = deployment
    assert stack.env()["NEWSDESK_REDIS_URL"].startswith("redis://"), "the deployment's shared store is Redis"
    stack.set_variable("newsdesk_settings", {"batch_size": 3})
    run_id = stack.trigger("news_ingest")
    state = stack.wait_run(run_id, timeout=400)
    tis = stack.task_instances(run_id)
    if state != "success":
        summary = "\n".join(f"  {t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']}" for t in tis)
        pytest.fail(f"news_ingest {run_id} ended {state}:\n{summary}\n{stack.log_report()}")

    fetch = [t for t in tis if t["task_id"] == "fetch_pages"]
    spans = sorted((t["start_date"], t["end_date"]) for t in fetch)
    overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    print(f"fetch tasks: {len(fetch)}, at most {overlapping} at once; most in flight per host "
          f"{dict(proxy.max_in_flight)} (limit {PER_HOST}), overall {proxy.max_total}")
    assert len(fetch) >= 8 and overlapping >= 2, "mapped fetch tasks ran side by side"
    for name in ("worker-1", "worker-2"):
        log = (stack.logs / f"{name}.log").read_text(errors="replace")
        assert "execute_workload" in log or "ExecuteTask" in log, f"{name} executed tasks"

    # Per-host concurrency, across both workers and all their tasks.
    assert max(proxy.max_in_flight.values()) <= PER_HOST
    assert proxy.max_total > PER_HOST, "several hosts were fetched at once"

    # robots.txt: one request per host for the whole deployment; the refused page never asked for.
    requested = [(host, path) for host, path, _, _ in proxy.log]
    assert all(requested.count((host, "/robots.txt")) == 1 for host in STORIES), requested
    assert ("alpha.example", "/memo-private.html") not in requested
    with stack.warehouse_engine().connect() as conn:
        refused = conn.execute(text("SELECT url FROM pages WHERE error_kind = 'robots'")).scalars().all()
    assert refused == ["http://alpha.example/memo-private.html"]

    # Crawl-delay: every request to gamma (its robots.txt's included) at least a delay apart.
    gamma = proxy.starts("gamma.example")
    gaps = [b - a for a, b in zip(gamma[1:], gamma[2:])]  # from the robots.txt request on (the feed came first)
    assert len(gamma) == 2 + STORIES["gamma.example"] and min(gaps) >= CRAWL_DELAY - 0.1, gaps

    # Metrics from the workers' task processes, through Airflow's StatsD client.
    listener.wait_for("airflow.newsdesk.run.duration.news_ingest", timeout=30)
    got = listener.counters("airflow.newsdesk.")
    print(f"politeness refusals: busy {got['politeness.refused.busy']}, paced {got['politeness.refused.paced']}")
    pages = sum(STORIES.values())
    assert got["pages.fetched.200"] == pages
    assert got["pages.failed.robots"] == 1
    assert got["feeds.polled.ok"] == len(STORIES)
    assert got["politeness.refused.busy"] > 0, "workers waited for slots other processes held"
    assert got["politeness.refused.paced"] > 0, "gamma's Crawl-delay held requests back"
