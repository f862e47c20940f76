#!/usr/bin/env python3
"""The production topology of docker-compose.yml, as plain processes on one machine.

``docker compose`` needs a Docker engine; this script starts the same components
(api-server, scheduler, dag-processor, triggerer, Celery workers) with the same
environment against the machine's PostgreSQL and Redis, so the deployment can be
proven where no engine runs (``tests/test_deploy_celery.py`` drives it).

    python scripts/airflow_stack.py run          # up, ingest the offline snapshot, check, tear down
    python scripts/airflow_stack.py standalone   # `make airflow`: airflow standalone on SQLite
    python scripts/airflow_stack.py standalone --dry-run

Everything it creates is private to one stack: a metadata database and a warehouse
database with unique names (dropped at the end), a Redis database number that was
empty and a Celery queue of its own, a temporary AIRFLOW_HOME, free ports. Every
process runs in its own session and carries ``NEWSDESK_STACK_ID`` in its environment,
so teardown can kill process groups and then prove that nothing is left.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("NEWSDESK_STACK_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("NEWSDESK_STACK_REDIS_PORT", "6379"))
POOL_NAME = "news_http"
POOL_SLOTS = 8
POOL_DESCRIPTION = "HTTP fetching of feeds and pages (politeness cap)"

# What docker-compose.yml runs, component by component (service -> command). The
# deployment test checks that the compose file and this table agree.
SERVICES = {
    "airflow-apiserver": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
    "flower": ["airflow", "celery", "flower"],  # profile flower
}
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# What the image's entrypoint does for airflow-init before its script (_AIRFLOW_DB_MIGRATE,
# _AIRFLOW_WWW_USER_CREATE with _AIRFLOW_WWW_USER_* variables).
ENTRYPOINT_INIT_ENV = {"_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE", "_AIRFLOW_WWW_USER_USERNAME",
                       "_AIRFLOW_WWW_USER_PASSWORD"}


def entrypoint_init_steps(username: str, password: str) -> list[list[str]]:
    """The image entrypoint's migration and admin user (its defaults for the other fields)."""
    return [
        ["airflow", "db", "migrate"],
        ["airflow", "users", "create", "--username", username, "--firstname", "Airflow", "--lastname", "Admin",
         "--email", "airflowadmin@example.com", "--role", "Admin", "--password", password],
    ]


# The airflow-init service's script, in order, after the entrypoint's steps.
INIT_STEPS = [
    ["airflow", "db", "check-migrations", "--migration-wait-timeout", "0"],
    ["newsdesk", "db", "upgrade", "--database", "$AIRFLOW_CONN_NEWSDESK_WAREHOUSE"],
    ["airflow", "pools", "set", POOL_NAME, str(POOL_SLOTS), POOL_DESCRIPTION],
]
# Faster failure detection and retries for tests and demos (production keeps the defaults:
# 30 s retry delay, 300 s heartbeat timeout). The cron is moved out of the way so that
# unpausing does not start a scheduled run next to the triggered one.
FAST_ENV = {
    "NEWSDESK_TASK_RETRY_DELAY": "2",
    "NEWSDESK_INGEST_CRON": "0 0 29 2 *",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "12",
    # A worker that dies holding a task it had not started leaves it queued: requeue it soon.
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
}
# Variables of the compose file that only make sense inside containers (the image's entrypoint
# reads them), or only for the optional Flower service.
CONTAINER_ONLY_ENV = {"DUMB_INIT_SETSID", "AIRFLOW_UID", "CONNECTION_CHECK_MAX_COUNT",
                      "AIRFLOW__CELERY__FLOWER_BASIC_AUTH"} | ENTRYPOINT_INIT_ENV


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_admin():
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def _pg_base() -> str:
    """postgres://user[:pw]@host:port (no driver, no database) from the admin URL."""
    from sqlalchemy.engine import make_url

    u = make_url(PG_ADMIN_URL)
    auth = u.username or "postgres"
    if u.password:
        auth += f":{u.password}"
    return f"{auth}@{u.host or '127.0.0.1'}:{u.port or 5432}"


def _redis():
    import redis

    return redis


REDIS_OWNER_KEY = "newsdesk_stack_owner"


def pick_redis_db(owner: str, preferred: int | None = None) -> int:
    """An empty Redis database number (15 downwards), claimed with an owner key so that
    another stack skips it and teardown only flushes a database that is still ours."""
    redis = _redis()
    for number in ([preferred] if preferred is not None else range(15, 0, -1)):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
        try:
            if (preferred is not None or client.dbsize() == 0) and client.setnx(REDIS_OWNER_KEY, owner):
                return number
        finally:
            client.close()
    raise RuntimeError("no empty Redis database between 1 and 15")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def processes_with_marker(marker: str) -> list[int]:
    """Pids whose environment holds NEWSDESK_STACK_ID=<marker> (our processes, whatever their group)."""
    needle = f"NEWSDESK_STACK_ID={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_alive(pgid: int) -> bool:
    """Whether any live process is in the process group (our session leaders' groups)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


class StackError(RuntimeError):
    pass


class AirflowStack:
    """One Celery deployment of newsdesk as processes. Use as a context manager."""

    def __init__(self, *, workers: int = 2, worker_concurrency: int = 2, triggerer: bool = True,
                 flower: bool = False, redis_db: int | None = None, extra_env: dict | None = None,
                 workdir: Path | None = None, keep_workdir: bool = False) -> None:
        self.id = uuid.uuid4().hex[:10]
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"newsdesk-stack-{self.id}-"))
        self.home = self.workdir / "airflow"
        self.logs = self.workdir / "logs"
        self.meta_db = f"newsdesk_af_{self.id}"
        self.warehouse_db = f"newsdesk_wh_{self.id}"
        self.n_workers = workers
        self.worker_concurrency = worker_concurrency
        self.with_triggerer = triggerer
        self.with_flower = flower
        self.redis_db_wanted = redis_db
        self.redis_db: int | None = None
        self.extra_env = dict(extra_env or {})
        self.keep_workdir = keep_workdir
        self.stop_grace = 5.0   # seconds between SIGTERM and SIGKILL
        self.api_port = free_port()
        self.scheduler_health_port = free_port()
        self.trigger_log_port = free_port()
        self.flower_port = free_port()
        # Quotes, a dollar and a space: the password reaches `airflow users create` as one argument.
        self.admin_password = secrets.token_urlsafe(12) + """ "q'$x"""
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands_run: list[list[str]] = []   # every airflow/newsdesk command line, for the compose check
        self._token: str | None = None
        self._created_dbs: list[str] = []
        self._worker_seq = 0
        self.timings: dict[str, float] = {}

    # --- environment ---------------------------------------------------------

    @property
    def warehouse_url(self) -> str:
        return f"postgresql://{_pg_base()}/{self.warehouse_db}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def flower_url(self) -> str:
        return f"http://127.0.0.1:{self.flower_port}"

    def compose_env(self) -> dict[str, str]:
        """The variables of docker-compose.yml's x-airflow-common, with this machine's values."""
        from cryptography.fernet import Fernet

        meta = f"{_pg_base()}/{self.meta_db}"
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{meta}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{meta}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW_CONN_NEWSDESK_WAREHOUSE": self.warehouse_url,
            "NEWSDESK_REGISTRY": f"{REPO / 'seeds' / 'feeds.yaml'}#snapshot",
            # Politeness state beside the broker's queue: the stack's own database, flushed at the end.
            "NEWSDESK_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "NEWSDESK_USER_AGENT": "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; stack test)",
            "NEWSDESK_BATCH_SIZE": "50",
            "NEWSDESK_TASK_RETRIES": "2",
            "NEWSDESK_TASK_RETRY_DELAY": "30",
        }

    def process_env(self) -> dict[str, str]:
        """What differs from containers when everything shares one host: ports, home, queue, marker."""
        return {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self.scheduler_health_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs / "tasks"),
            # A queue of our own: another stack on the same Redis can never take our tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"newsdesk_{self.id}",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__CELERY__FLOWER_HOST": "127.0.0.1",
            "AIRFLOW__CELERY__FLOWER_PORT": str(self.flower_port),
            "NEWSDESK_STACK_ID": self.id,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }

    def env(self, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AIRFLOW", "NEWSDESK_", "_AIRFLOW")) or k == "NEWSDESK_TEST_PG_URL"}
        env.update(self._compose_env)
        env.update(self.process_env())
        env.update(self.extra_env)
        env.update(more)
        return env

    # --- lifecycle -------------------------------------------------------------

    def __enter__(self) -> AirflowStack:
        try:
            self.start()
        except BaseException:
            sys.stderr.write(self.log_report())
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            sys.stderr.write(self.log_report())
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.redis_db = pick_redis_db(self.id, self.redis_db_wanted)
        self._compose_env = self.compose_env()
        t0 = time.monotonic()
        self.create_databases()
        self.init()
        self.timings["init"] = round(time.monotonic() - t0, 1)
        self.spawn("api-server", SERVICES["airflow-apiserver"])
        self.spawn("scheduler", SERVICES["airflow-scheduler"])
        self.spawn("dag-processor", SERVICES["airflow-dag-processor"])
        if self.with_triggerer:
            self.spawn("triggerer", SERVICES["airflow-triggerer"])
        if self.with_flower:
            self.spawn("flower", SERVICES["flower"])
        for _ in range(self.n_workers):
            self.start_worker()
        self.wait_healthy()
        self.timings["up"] = round(time.monotonic() - t0, 1)

    def create_databases(self) -> None:
        from sqlalchemy import text

        admin = _pg_admin()
        with admin.connect() as conn:
            for name in (self.meta_db, self.warehouse_db):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                self._created_dbs.append(name)
        admin.dispose()

    def init(self) -> None:
        """What the compose file's airflow-init does: the image entrypoint's migration and admin
        user, then its script (the warehouse's migrations, the pool)."""
        env = self.env()
        import concurrent.futures as cf

        migrate_airflow, create_user = entrypoint_init_steps("admin", self.admin_password)
        check, upgrade_warehouse, *rest = [[env[a[1:]] if a.startswith("$") else a for a in step]
                                           for step in INIT_STEPS]
        # The two databases migrate at once (they are independent); the rest needs Airflow's tables.
        with cf.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(self.run, step, env, 180) for step in (migrate_airflow, upgrade_warehouse)]:
                future.result()
        for step in (create_user, check, *rest):
            self.run(step, env=env, timeout=180)

    def run(self, cmd: list[str], env: dict | None = None, timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess:
        """One CLI command (airflow / newsdesk), output kept in the logs folder."""
        self.commands_run.append(list(cmd))
        exe = str(BIN / cmd[0]) if (BIN / cmd[0]).exists() else cmd[0]
        proc = subprocess.run([exe, *cmd[1:]], env=env or self.env(), capture_output=True, text=True,
                              timeout=timeout, cwd=self.workdir, start_new_session=True)
        shown = " ".join(cmd).replace(self.admin_password, "***")  # failure reports print the log
        with open(self.logs / "cli.log", "a") as fh:
            fh.write(f"$ {shown}\n[rc={proc.returncode}]\n{proc.stdout}\n{proc.stderr}\n")
        if check and proc.returncode != 0:
            raise StackError(f"{shown} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def spawn(self, name: str, cmd: list[str], flags: list[str] = (), **env_more: str) -> subprocess.Popen:
        self.commands_run.append(list(cmd))
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen([str(BIN / cmd[0]), *cmd[1:], *flags], env=self.env(**env_more), stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def start_worker(self) -> str:
        """One more Celery worker (its own node name, pid file and log-server port, like its own container)."""
        self._worker_seq += 1
        name = f"worker-{self._worker_seq}"
        # Node name, pid file and log-server port are per container in compose; here per process.
        self.spawn(name, SERVICES["airflow-worker"],
                   flags=["--celery-hostname", f"{name}-{self.id}", "--pid", str(self.workdir / f"{name}.pid")],
                   AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
        return name

    def wait_healthy(self, timeout: float = 150) -> None:
        """api-server answers /api/v2/version, the scheduler /health, every worker is a Celery node."""
        deadline = time.monotonic() + timeout
        self._wait(lambda: self._http_ok(f"{self.api_url}/api/v2/version"), deadline, "api-server")
        self._wait(lambda: self._http_ok(f"http://127.0.0.1:{self.scheduler_health_port}/health"), deadline,
                   "scheduler health")
        if self.with_flower:
            self._wait(lambda: self._http_ok(f"{self.flower_url}/healthcheck"), deadline, "flower")
        for name in self.workers():
            self.wait_worker_ready(name, deadline)

    def wait_worker_ready(self, name: str, deadline: float | None = None) -> None:
        """Until the Celery node logs "<node> ready." (it consumes the queue from then on)."""
        log = self.logs / f"{name}.log"
        self._wait(lambda: " ready." in log.read_text(errors="replace"),
                   deadline or time.monotonic() + 120, f"{name} to be ready", interval=0.5)

    def _wait(self, probe, deadline: float, what: str, interval: float = 1.0):
        while time.monotonic() < deadline:
            self.check_processes()
            result = probe()
            if result:
                return result
            time.sleep(interval)
        raise StackError(f"timed out waiting for {what}")

    def check_processes(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None and not getattr(proc, "newsdesk_killed", False):
                raise StackError(f"{name} exited with {proc.returncode}")

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    # --- REST API ---------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            req = urllib.request.Request(
                f"{self.api_url}/auth/token",
                method="POST",
                data=json.dumps({"username": "admin", "password": self.admin_password}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                self._token = json.loads(resp.read())["access_token"]
        return self._token

    # A loaded machine (two cores shared with other test runs) can stall the one api-server
    # worker for many seconds: generous timeouts, so a slow answer is not taken for a failure.
    def api(self, path: str, method: str = "GET", body: dict | None = None):
        req = urllib.request.Request(f"{self.api_url}/api/v2{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {self.token()}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def set_variable(self, key: str, value) -> None:
        """Create or update an Airflow Variable through the REST API (what the UI does)."""
        value = value if isinstance(value, str) else json.dumps(value)
        try:
            self.api(f"/variables/{key}", method="PATCH", body={"key": key, "value": value})
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            self.api("/variables", method="POST", body={"key": key, "value": value})

    def api_or_none(self, path: str):
        """The answer, or None when there is none yet: not found, or an API server too busy to
        answer within the request's timeout (the callers poll again)."""
        try:
            return self.api(path)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        except TimeoutError:
            return None

    # --- running the DAG ------------------------------------------------------------

    def wait_dag(self, dag_id: str = "news_ingest", timeout: float = 120) -> dict:
        """Until the dag-processor has parsed and serialised the DAG."""
        return self._wait(lambda: self.api_or_none(f"/dags/{dag_id}"), time.monotonic() + timeout,
                          f"{dag_id} to be parsed", interval=2)

    def unpause(self, dag_id: str = "news_ingest") -> None:
        self.run(["airflow", "dags", "unpause", dag_id])

    def trigger(self, dag_id: str = "news_ingest", run_id: str | None = None) -> str:
        run_id = run_id or f"manual__stack_{uuid.uuid4().hex[:8]}"
        self.run(["airflow", "dags", "trigger", dag_id, "--run-id", run_id])
        return run_id

    def run_state(self, run_id: str, dag_id: str = "news_ingest") -> str | None:
        run = self.api_or_none(f"/dags/{dag_id}/dagRuns/{run_id}")
        return run["state"] if run else None

    def wait_run(self, run_id: str, dag_id: str = "news_ingest", timeout: float = 180) -> str:
        def done():
            state = self.run_state(run_id, dag_id)
            return state if state in ("success", "failed") else None

        return self._wait(done, time.monotonic() + timeout, f"{dag_id} run {run_id}", interval=1.5)

    def task_instances(self, run_id: str, dag_id: str = "news_ingest") -> list[dict]:
        return self.api(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]

    def ingest(self, dag_id: str = "news_ingest", timeout: float = 180) -> tuple[str, str]:
        self.wait_dag(dag_id)
        self.unpause(dag_id)
        run_id = self.trigger(dag_id)
        return run_id, self.wait_run(run_id, dag_id, timeout)

    # --- the warehouse ------------------------------------------------------------------

    def warehouse_engine(self):
        from newsdesk.storage import db

        return db.get_engine(self.warehouse_url)

    def reset_warehouse(self) -> None:
        """Empty every warehouse table (the schema stays): the next run starts from nothing."""
        from sqlalchemy import text

        engine = self.warehouse_engine()
        with engine.begin() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )).scalars().all()
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))

    # --- faults ------------------------------------------------------------------------

    def workers(self) -> dict[str, subprocess.Popen]:
        return {n: p for n, p in self.procs.items() if n.startswith("worker-") and p.poll() is None}

    def running_task_processes(self, name: str) -> list[int]:
        """Task runners under a worker (the supervisor puts each in its own process group)."""
        out = []
        for pid in descendants(self.procs[name].pid):
            try:
                if os.getpgid(pid) == pid and _alive(pid):
                    out.append(pid)
            except ProcessLookupError:
                continue
        return out

    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL a worker and everything under it at once, as when its container or host dies."""
        proc = self.procs[name]
        victims = [proc.pid, *descendants(proc.pid)]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.newsdesk_killed = True
        proc.wait(timeout=10)
        return victims

    # --- teardown ------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM each process group, SIGKILL what remains, drop the databases, free Redis (idempotent)."""
        t0 = time.monotonic()
        for proc in self.procs.values():
            if proc.poll() is None or _group_alive(proc.pid):
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.stop_grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            if _group_alive(proc.pid):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Task runners live in process groups of their own: anything still carrying our marker goes too.
        for _ in range(3):
            stray = [p for p in processes_with_marker(self.id) if _alive(p)]
            if not stray:
                break
            for pid in stray:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        self._drop_databases()
        self._free_redis()
        if not self.keep_workdir and os.environ.get("NEWSDESK_STACK_KEEP") != "1":
            import shutil

            shutil.rmtree(self.workdir, ignore_errors=True)
        self.timings["stop"] = round(time.monotonic() - t0, 1)

    def leftovers(self) -> list[int]:
        return [p for p in processes_with_marker(self.id) if _alive(p)]

    def _drop_databases(self) -> None:
        from sqlalchemy import text

        try:
            from newsdesk.storage import db

            db.dispose_all()
        except Exception:
            pass
        if not self._created_dbs:
            return
        admin = _pg_admin()
        with admin.connect() as conn:
            for name in self._created_dbs:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self._created_dbs.clear()

    def _free_redis(self) -> None:
        if self.redis_db is None:
            return
        try:
            client = _redis().Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db)
            if client.get(REDIS_OWNER_KEY) in (self.id.encode(), None):
                client.flushdb()
            client.close()
        except Exception:
            pass

    def databases_exist(self) -> list[str]:
        from sqlalchemy import text

        admin = _pg_admin()
        with admin.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname IN (:a, :b)"),
                                 {"a": self.meta_db, "b": self.warehouse_db}).scalars().all()
        admin.dispose()
        return list(names)

    def log_report(self, tail: int = 60) -> str:
        """The last lines of every component's log (and the task logs' errors), for a failure message."""
        out = [f"\n===== stack {self.id} logs ({self.logs}) ====="]
        for path in sorted(self.logs.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            out.append(f"--- {path.name} (last {tail} of {len(lines)} lines)")
            out.extend(lines[-tail:])
        for path in sorted((self.logs / "tasks").rglob("*.log"))[:200]:
            text_ = path.read_text(errors="replace")
            if "error" in text_.lower() or "Traceback" in text_:
                out.append(f"--- task log {path.relative_to(self.logs)}")
                out.extend(text_.splitlines()[-25:])
        return "\n".join(out) + "\n"


# --- snapshot proxy with an adjustable delay (to catch a task in flight) -----------------------

class DelayableSnapshotProxy:
    """``newsdesk.replay.SnapshotProxy`` whose every response can be held back ``delay`` seconds."""

    def __init__(self) -> None:
        from newsdesk.replay import SnapshotProxy

        self._proxy = SnapshotProxy()
        server = self._proxy._server
        base = server.RequestHandlerClass
        server.newsdesk_delay = 0.0

        class Delayed(base):  # type: ignore[misc, valid-type]
            def do_GET(self):
                if self.server.newsdesk_delay:
                    time.sleep(self.server.newsdesk_delay)
                super().do_GET()

        server.RequestHandlerClass = Delayed
        self._server = server

    @property
    def url(self) -> str:
        return self._proxy.url

    @property
    def delay(self) -> float:
        return self._server.newsdesk_delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._server.newsdesk_delay = seconds

    def __enter__(self):
        self._proxy.__enter__()
        return self

    def __exit__(self, *exc):
        self._proxy.__exit__(*exc)


def warehouse_counts(engine) -> dict:
    """Articles, pages, duplicates by URL and the seed cluster's size: what 'exactly once' means."""
    from sqlalchemy import text

    from newsdesk.offline import SEED_URL_HINT

    with engine.connect() as conn:

        def q(sql, **kw):
            return conn.execute(text(sql), kw).scalar_one()

        seed_cluster = conn.execute(text("SELECT cluster_id FROM articles a JOIN pages p ON p.id = a.page_id "
                                         "WHERE p.url LIKE :h ORDER BY a.id LIMIT 1"),
                                    {"h": f"%{SEED_URL_HINT}%"}).scalar()
        return {
            "articles": q("SELECT COUNT(*) FROM articles"),
            "clusters": q("SELECT COUNT(DISTINCT cluster_id) FROM articles"),
            "pages": q("SELECT COUNT(*) FROM pages"),
            "duplicate_page_urls": q("SELECT COUNT(*) FROM (SELECT url FROM pages GROUP BY url HAVING COUNT(*) > 1) d"),
            "duplicate_article_pages": q("SELECT COUNT(*) FROM (SELECT page_id FROM articles GROUP BY page_id "
                                         "HAVING COUNT(*) > 1) d"),
            "unclustered": q("SELECT COUNT(*) FROM articles WHERE cluster_id IS NULL"),
            "seed_cluster_members": q("SELECT COUNT(*) FROM articles WHERE cluster_id = :c", c=seed_cluster)
            if seed_cluster is not None else 0,
            "runs": q("SELECT COUNT(*) FROM runs"),
        }


# --- make airflow: standalone on the embedded default ---------------------------------------------

def standalone_env() -> dict[str, str]:
    """The environment `make airflow` runs `airflow standalone` in (this process's, completed).
    Standalone forces LocalExecutor and the simple auth manager whatever is configured."""
    home = Path(os.environ.get("AIRFLOW_HOME") or REPO / "var" / "airflow")
    warehouse = os.environ.get("NEWSDESK_DATABASE_URL") or f"sqlite:///{REPO / 'var' / 'newsdesk.db'}"
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "NEWSDESK_DATABASE_URL": warehouse,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    # The warehouse as the Airflow connection tasks read first (NEWSDESK_DATABASE_URL is the fallback).
    env.setdefault(
        "AIRFLOW_CONN_NEWSDESK_WAREHOUSE",
        json.dumps({"conn_type": "sqlite", "host": warehouse.split("///", 1)[1]})
        if warehouse.startswith("sqlite:///")
        else warehouse,
    )
    # Tasks report to the Execution API served by the api-server: moving its port with
    # AIRFLOW__API__PORT must move that URL too, or every task fails (an explicit URL is kept).
    port = env.get("AIRFLOW__API__PORT", "").strip()
    if port and not env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "").strip():
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://localhost:{port}/execution/"
    return env


def standalone(dry_run: bool = False) -> int:
    env = standalone_env()
    home = Path(env["AIRFLOW_HOME"])
    steps = [
        ["newsdesk", "db", "upgrade", "--database", env["NEWSDESK_DATABASE_URL"]],
        ["airflow", "db", "migrate"],
        ["airflow", "pools", "set", POOL_NAME, str(POOL_SLOTS), POOL_DESCRIPTION],
    ]
    print(
        f"AIRFLOW_HOME={home}\nDAGs: {env['AIRFLOW__CORE__DAGS_FOLDER']}\n"
        f"warehouse: {env['NEWSDESK_DATABASE_URL']} (connection newsdesk_warehouse)\n"
        f"pool: {POOL_NAME} ({POOL_SLOTS} slots)"
    )
    for step in steps + [["airflow", "standalone"]]:
        print("$ " + " ".join(step))
    print(f"admin password: {home / 'simple_auth_manager_passwords.json.generated'} (user admin), "
          f"UI http://localhost:{env.get('AIRFLOW__API__PORT', '8080')}")
    if dry_run:
        return 0
    home.mkdir(parents=True, exist_ok=True)
    for step in steps:
        subprocess.run([str(BIN / step[0]), *step[1:]], env=env, check=True)
    return subprocess.call([str(BIN / "airflow"), "standalone"], env=env)


# --- command line ------------------------------------------------------------------------------------

def run_demo(workers: int, concurrency: int, batch_size: int) -> int:
    sys.path.insert(0, str(REPO / "plugins"))
    t0 = time.monotonic()
    with DelayableSnapshotProxy() as proxy:
        stack = AirflowStack(workers=workers, worker_concurrency=concurrency,
                             extra_env={**FAST_ENV, "NEWSDESK_HTTP_PROXY": proxy.url,
                                        "NEWSDESK_BATCH_SIZE": str(batch_size)})
        with stack:
            print(f"stack {stack.id} up in {time.monotonic() - t0:.0f}s: api {stack.api_url}, "
                  f"metadata db {stack.meta_db}, warehouse {stack.warehouse_db}, redis db {stack.redis_db}")
            run_id, state = stack.ingest()
            print(f"news_ingest {run_id}: {state}")
            print(json.dumps(warehouse_counts(stack.warehouse_engine()), indent=2))
            if state != "success":
                print(stack.log_report())
                return 1
        left = stack.leftovers()
        print(f"torn down in total {time.monotonic() - t0:.0f}s; leftover processes: {left or 'none'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="start the Celery stack, ingest the offline snapshot, tear down")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--concurrency", type=int, default=2)
    r.add_argument("--batch-size", type=int, default=1)
    s = sub.add_parser("standalone", help="airflow standalone with the DAGs, pool and connection (make airflow)")
    s.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        return run_demo(args.workers, args.concurrency, args.batch_size)
    return standalone(args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
