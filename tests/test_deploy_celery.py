"""The production topology as processes: CeleryExecutor, PostgreSQL, Redis, two workers.

One stack (scripts/airflow_stack.py) serves the module: api-server (FAB auth manager),
scheduler, dag-processor, triggerer, Flower and two Celery workers against this machine's PostgreSQL
(a metadata and a warehouse database created for the run and dropped at the end)
and Redis (an empty database number, a queue of its own). The offline snapshot is
served by a proxy in this process. Each test resets the warehouse, triggers
``news_ingest`` with the CLI, waits through the REST API and checks that every
article is in the warehouse exactly once, with the seed's syndication cluster intact:
- mapped tasks running in parallel on two workers;
- the warehouse's connections cut (pg_terminate_backend) in the middle of the load;
- a worker SIGKILLed in the middle of a task (the heartbeat timeout fails it, the
  other worker runs the retry);
that the admin user the init created logs in with a password holding quotes, and that
Flower sees both workers; then that teardown leaves no process, database or Redis key behind.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from services import pg_and_redis_unreachable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[1]
EXPECTED = {"articles": 14, "clusters": 11, "seed_cluster_members": 4, "duplicate_page_urls": 0,
            "duplicate_article_pages": 0, "unclustered": 0}


def _load_stack_module():
    spec = importlib.util.spec_from_file_location("airflow_stack", REPO / "scripts" / "airflow_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_mod = _load_stack_module()


def _skip_reason() -> str | None:
    reason = pg_and_redis_unreachable(stack_mod.REDIS_HOST, stack_mod.REDIS_PORT)
    if reason:
        return reason
    try:
        from airflow.providers.celery.executors import celery_executor_utils  # noqa: F401
    except ImportError as exc:  # celery 5.7 dropped what provider 3.26 imports: pin celery 5.6.x
        pytest.fail(f"the Celery provider cannot import with this celery version: {exc}")
    return None


@pytest.fixture(scope="module")
def proxy():
    with stack_mod.DelayableSnapshotProxy() as p:
        yield p


@pytest.fixture(scope="module")
def stack(proxy):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    s = stack_mod.AirflowStack(workers=2, worker_concurrency=2, flower=True,
                               extra_env={**stack_mod.FAST_ENV, "NEWSDESK_HTTP_PROXY": proxy.url})
    with s:
        s.wait_dag("news_ingest")
        s.unpause("news_ingest")
        yield s
    print(f"stack timings: {s.timings}")


def _ingest(stack, *, batch_size: int, during=None, timeout: float = 200) -> tuple[str, list[dict]]:
    """Reset the warehouse, trigger one run, optionally act while it runs, wait for success."""
    stack.reset_warehouse()
    stack.set_variable("newsdesk_settings", {"batch_size": batch_size})
    run_id = stack.trigger("news_ingest")
    if during is not None:
        during(run_id)
    state = stack.wait_run(run_id, timeout=timeout)
    tis = stack.task_instances(run_id)
    if state != "success":
        summary = "\n".join(f"  {t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']}" for t in tis)
        pytest.fail(f"news_ingest {run_id} ended {state}:\n{summary}\n{stack.log_report()}")
    return run_id, tis


def _assert_exactly_once(stack) -> dict:
    counts = stack_mod.warehouse_counts(stack.warehouse_engine())
    assert {k: counts[k] for k in EXPECTED} == EXPECTED, counts
    return counts


def _wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def _running(stack, run_id: str, task_id: str) -> list[dict]:
    return [t for t in stack.task_instances(run_id) if t["task_id"] == task_id and t["state"] == "running"]


def test_fab_admin_logs_in_with_the_password_init_gave_it(stack):
    """FAB auth manager: the user `airflow users create` made (a password with `"`, `'`, `$` and a
    space, passed as one argument as the image's entrypoint passes it) gets a token; a wrong one does not."""
    import json
    import urllib.error
    import urllib.request

    assert '"' in stack.admin_password and "$" in stack.admin_password

    def token(password: str) -> int:
        request = urllib.request.Request(f"{stack.api_url}/auth/token", method="POST",
                                         data=json.dumps({"username": "admin", "password": password}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.loads(response.read())["access_token"]
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert token(stack.admin_password) == 201
    assert token(stack.admin_password.replace('"', "")) == 401
    with urllib.request.urlopen(f"{stack.api_url}/auth/login/", timeout=30) as page:
        assert page.status == 200, "FAB's login page"


def test_flower_monitors_the_workers(stack):
    """The flower profile's command against the stack's broker: both workers are online."""
    import urllib.request

    def online() -> set[str]:
        with urllib.request.urlopen(f"{stack.flower_url}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        up = [line for line in metrics.splitlines()
              if line.startswith("flower_worker_online{") and line.endswith(" 1.0")]
        return {name for name in ("worker-1", "worker-2") if any(f'{name}-{stack.id}"' in line for line in up)}

    assert _wait_for(lambda: online() == {"worker-1", "worker-2"} or None, 60, "Flower to see both workers")


def test_celery_workers_ingest_snapshot_in_parallel_exactly_once(stack):
    """Mapped tasks of one batch each run concurrently on two workers: no doubled rows, cluster intact."""
    run_id, tis = _ingest(stack, batch_size=2)
    counts = _assert_exactly_once(stack)

    mapped = [t for t in tis if t["task_id"] in ("fetch_pages", "extract_pages")]
    assert len(mapped) >= 10, "batch size 2 maps fetch and extract over several task instances"
    spans = sorted((t["start_date"], t["end_date"]) for t in mapped)
    overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlapping >= 2, "mapped tasks ran in parallel"
    for name in ("worker-1", "worker-2"):
        text = (stack.logs / f"{name}.log").read_text(errors="replace")
        assert "execute_workload" in text or "ExecuteTask" in text, f"{name} executed tasks"

    # Run statistics in the warehouse, and the asset event analysts' DAGs are scheduled on.
    from sqlalchemy import text as sql

    with stack.warehouse_engine().connect() as conn:
        keys = conn.execute(sql("SELECT run_key FROM runs")).scalars().all()
    assert f"news_ingest/{run_id}" in keys
    events = stack.api("/assets/events?limit=100")["asset_events"]
    assert any(e.get("uri") == "newsdesk://warehouse/articles" for e in events), events
    assert counts["pages"] >= counts["articles"]


def test_warehouse_connection_cut_mid_load_is_survived(stack):
    """An extract task's write is cut (pg_terminate_backend) while it is in flight: the retry finishes the load.

    A session of the test holds a lock on ``articles`` so that the extract tasks' writes queue up
    behind it; the backends waiting on it are terminated, then the lock is released. Cutting
    sessions at random intervals instead can hit only idle pooled connections (the pool's
    pre-ping reconnects them silently) and prove nothing about a load cut mid-write.
    """
    from sqlalchemy import text as sql

    cut = {"sessions": 0}

    def cut_during_extract(run_id):
        # after ``prepare`` (which also writes to articles): the next writers are the extract tasks
        _wait_for(lambda: _running(stack, run_id, "fetch_pages"), 150, "fetch_pages to run", interval=0.1)
        holder = stack.warehouse_engine().connect()
        try:
            holder.execute(sql("LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE"))
            waiting = _wait_for(lambda: _blocked_backends(stack), 150, "an extract write waiting on articles")
            cut["sessions"] = _terminate(stack, waiting)
        finally:
            holder.rollback()
            holder.close()

    _, tis = _ingest(stack, batch_size=4, during=cut_during_extract)
    assert cut["sessions"] > 0, "warehouse sessions were terminated mid-write"
    _assert_exactly_once(stack)
    retried = [(t["task_id"], t["map_index"], t["try_number"]) for t in tis if t["try_number"] > 1]
    print(f"terminated {cut['sessions']} warehouse sessions mid-write; retried: {retried}")
    assert any(task == "extract_pages" for task, _, _ in retried), "the cut extract task failed and its retry completed"


def _blocked_backends(stack) -> list[int]:
    from sqlalchemy import text as sql

    with stack.warehouse_engine().connect() as conn:
        return conn.execute(sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()")).scalars().all()


def _terminate(stack, pids: list[int]) -> int:
    from sqlalchemy import text as sql

    with stack.warehouse_engine().connect() as conn:
        return sum(1 for ok in conn.execute(sql("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"),
                                            {"pids": list(pids)}).scalars() if ok)


def test_worker_killed_mid_task_is_survived(stack, proxy):
    """SIGKILL a worker (and its task processes) while it runs a task: the retry runs on the other worker."""
    killed = {}

    def kill_a_busy_worker(run_id):
        proxy.delay = 3.0   # hold every HTTP response so fetch tasks are surely in flight
        try:
            _wait_for(lambda: _running(stack, run_id, "fetch_pages"), 150, "fetch_pages to run")
            busy = _wait_for(lambda: [n for n in stack.workers() if stack.running_task_processes(n)], 30,
                             "a worker with a task in flight", interval=0.2)
            killed["worker"] = busy[0]
            killed["tasks"] = [t["map_index"] for t in _running(stack, run_id, "fetch_pages")]
            stack.kill_worker(busy[0])
        finally:
            proxy.delay = 0.0
        assert stack.workers(), "a second worker is alive to take the retry"

    _, tis = _ingest(stack, batch_size=4, during=kill_a_busy_worker, timeout=240)
    _assert_exactly_once(stack)
    retried = [t for t in tis if t["try_number"] > 1]
    assert retried, f"the task lost with {killed} was retried"
    assert all(t["state"] == "success" for t in tis if t["task_id"] == "fetch_pages")
    assert not stack_mod._alive(stack.procs[killed["worker"]].pid)


def test_stack_ran_what_the_compose_file_declares(stack):
    """The commands and variables this stack used are the compose file's (see test_deploy_compose.py)."""
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    ran = [tuple(c) for c in stack.commands_run]
    for name, cmd in stack_mod.SERVICES.items():
        assert tuple(cmd) in ran, f"{name}: {cmd} was started"
        assert compose["services"][name]["command"] == " ".join(cmd[1:])
    init = [tuple(stack.env().get(a[1:], a) if a.startswith("$") else a for a in step) for step in stack_mod.INIT_STEPS]
    init += [tuple(step) for step in stack_mod.entrypoint_init_steps("admin", stack.admin_password)]
    ran_init = [c for c in ran if c in init]
    assert sorted(ran_init) == sorted(init), "every init step ran once (the entrypoint's and the script's)"
    assert ran_init[-1] == tuple(stack_mod.INIT_STEPS[-1]), "the pool is created after both migrations"
    compose_env = set(compose["x-airflow-common"]["environment"]) - stack_mod.CONTAINER_ONLY_ENV
    assert set(stack._compose_env) == compose_env
    scheduler_env = Path(f"/proc/{stack.procs['scheduler'].pid}/environ").read_bytes().split(b"\0")
    names = {item.split(b"=", 1)[0].decode() for item in scheduler_env if b"=" in item}
    assert compose_env <= names, "the running scheduler had every compose variable"


def test_teardown_leaves_nothing_behind(stack):
    stack.stop()
    assert stack.leftovers() == [], "no process of the stack is left running"
    assert all(p.poll() is not None for p in stack.procs.values())
    assert stack.databases_exist() == [], "metadata and warehouse databases dropped"
    import redis

    assert redis.Redis(host=stack_mod.REDIS_HOST, port=stack_mod.REDIS_PORT, db=stack.redis_db).dbsize() == 0
