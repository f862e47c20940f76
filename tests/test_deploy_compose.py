"""docker-compose.yml, Dockerfile, .env.example and `make airflow`, checked without a Docker engine.

`docker compose config` needs the compose plugin (absent here), so the file is validated as
YAML with the structure compose requires, and compared with what the process-level test
(tests/test_deploy_celery.py through scripts/airflow_stack.py) runs: the same services with
the same commands, the same init steps and the same variables.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"


def _stack_module():
    spec = importlib.util.spec_from_file_location("airflow_stack", REPO / "scripts" / "airflow_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_mod = _stack_module()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _command(service: dict) -> list[str]:
    cmd = service.get("command")
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd or [])


def _init_steps(compose: dict) -> list[list[str]]:
    """The airflow / newsdesk command lines of the init script, with $${X} spelled $X."""
    script = _command(compose["services"]["airflow-init"])[-1]
    steps = []
    for line in script.splitlines():
        line = re.sub(r"\$\$\{(\w+)\}|\$\{(\w+)\}", lambda m: "$" + (m.group(1) or m.group(2)), line.strip())
        if line.startswith(("airflow ", "newsdesk ")):
            steps.append(shlex.split(line))
    return steps


def test_docker_compose_config_when_available():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin here: the YAML checks below stand in for `docker compose config`")
    env = {
        "AIRFLOW_JWT_SECRET": "x" * 32,
        "AIRFLOW_FERNET_KEY": "k",
        "AIRFLOW_ADMIN_PASSWORD": "p",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr


def test_compose_structure(compose):
    services = compose["services"]
    assert set(services) == {"airflow-db", "warehouse-db", "redis", "airflow-apiserver", "airflow-scheduler",
                             "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "airflow-init"}
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        if name != "airflow-init":
            assert "healthcheck" in svc, f"{name} has a healthcheck"
    # Airflow services run the project's image, built from the Dockerfile.
    airflow_services = [n for n, svc in services.items() if "build" in svc]  # the x-airflow-common ones
    assert set(airflow_services) == set(stack_mod.SERVICES) | {"airflow-init"}
    assert {services[n]["image"] for n in airflow_services} == {"newsdesk-airflow:3.3.2"}
    assert all(services[n]["build"] == "." for n in airflow_services)
    # Separate PostgreSQL services for Airflow's metadata and for the warehouse; Redis as broker.
    assert services["airflow-db"]["image"].startswith("postgres:")
    assert services["warehouse-db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    env = services["airflow-scheduler"]["environment"]
    assert "@airflow-db/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse-db:" in env["AIRFLOW_CONN_NEWSDESK_WAREHOUSE"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # Every Airflow component gets the same JWT secret (one variable, one value).
    secrets = {services[n]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for n in airflow_services}
    assert len(secrets) == 1 and "AIRFLOW_JWT_SECRET" in secrets.pop()
    # Services that need a migrated database wait for init.
    for n in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer"):
        assert services[n]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_compose_commands_are_the_ones_the_process_test_runs(compose):
    services = compose["services"]
    for name, cmd in stack_mod.SERVICES.items():
        assert cmd[0] == "airflow"
        assert _command(services[name]) == cmd[1:], name  # the image's entrypoint is `airflow`
    assert _init_steps(compose) == stack_mod.INIT_STEPS


def test_compose_variables_are_the_ones_the_process_test_sets(compose):
    compose_env = set(compose["x-airflow-common"]["environment"])
    stack = stack_mod.AirflowStack.__new__(stack_mod.AirflowStack)
    stack.id, stack.home, stack.meta_db, stack.warehouse_db = "x", Path("/tmp/x"), "m", "w"
    stack.redis_db, stack.worker_concurrency, stack.api_port = 0, 2, 8080
    assert set(stack.compose_env()) == compose_env - stack_mod.CONTAINER_ONLY_ENV
    # Per-service additions are container-only (documented in the stack module).
    for name, svc in compose["services"].items():
        if "build" in svc:
            extra = set(svc.get("environment", {})) - compose_env
            assert extra <= stack_mod.CONTAINER_ONLY_ENV | {"AIRFLOW_ADMIN_PASSWORD"}, (name, extra)


def test_env_example_covers_every_compose_variable():
    used = set(re.findall(r"(?<!\$)\$\{(\w+)(?::?[-?][^}]*)?\}", COMPOSE.read_text()))  # $${X}: container-side
    example = (REPO / ".env.example").read_text()
    defined = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    assert used <= defined, used - defined
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required == {"AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD"}


def test_dockerfile_matches_installed_airflow():
    from importlib.metadata import version

    dockerfile = (REPO / "Dockerfile").read_text()
    base = re.search(r"^FROM apache/airflow:([\w.]+)-python([\d.]+)", dockerfile, re.MULTILINE)
    assert base, "built on the official apache/airflow image"
    assert base.group(1) == version("apache-airflow") == "3.3.2"
    assert base.group(2) == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "requirements.lock" in dockerfile and "pip install" in dockerfile
    assert "apache-airflow==3.3.2" in (REPO / "requirements.txt").read_text()


def test_make_airflow_standalone_dry_run(tmp_path):
    """`make airflow` prints the plan: DAGs, warehouse connection, pool, where the admin password is."""
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "airflow_stack.py"), "standalone", "--dry-run"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"DAGs: {REPO / 'dags'}" in out
    assert "airflow pools set news_http 8" in out
    assert "newsdesk_warehouse" in out and "var/newsdesk.db" in out
    assert str(tmp_path / "home" / "simple_auth_manager_passwords.json.generated") in out
    assert "$ airflow standalone" in out
    env_ = stack_mod.standalone_env()
    assert env_["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^airflow:.*\n(\t.*\n)*\t.*airflow_stack\.py standalone", makefile, re.MULTILINE)


def test_standalone_connection_resolves_to_the_sqlite_warehouse(monkeypatch):
    """The JSON connection `make airflow` defines is what tasks read first."""
    from newsdesk.tasks import context as orchestration

    env = stack_mod.standalone_env()
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_WAREHOUSE", env["AIRFLOW_CONN_NEWSDESK_WAREHOUSE"])
    assert orchestration.warehouse_url_from_airflow() == env["NEWSDESK_DATABASE_URL"]
    assert orchestration.settings().database_url == env["NEWSDESK_DATABASE_URL"]


def test_settings_layering_env_variable_connection(monkeypatch):
    """Environment < Variable newsdesk_settings < connection newsdesk_warehouse (for the database)."""
    from newsdesk.tasks import context as orchestration

    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "7")
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "sqlite:////tmp/env.db")
    monkeypatch.delenv("AIRFLOW_CONN_NEWSDESK_WAREHOUSE", raising=False)
    monkeypatch.delenv("AIRFLOW_VAR_NEWSDESK_SETTINGS", raising=False)
    s = orchestration.settings()
    assert (s.batch_size, s.database_url) == (7, "sqlite:////tmp/env.db")
    monkeypatch.setenv("AIRFLOW_VAR_NEWSDESK_SETTINGS", '{"batch_size": 3, "NEWSDESK_ALLOW_PRIVATE_ADDRESSES": "true"}')
    s = orchestration.settings()
    assert (s.batch_size, s.allow_private_addresses) == (3, True)
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_WAREHOUSE", "postgresql://u:p@wh:5432/news")
    assert (
        orchestration.settings().database_url.startswith("postgres")
        and "@wh:5432/news" in orchestration.settings().database_url
    )


def test_every_setting_is_documented():
    from newsdesk.config import OPTIONS

    doc = (REPO / "docs" / "deployment.md").read_text()
    names = set(OPTIONS.values()) | {"NEWSDESK_AIRFLOW_CONN_ID", "NEWSDESK_AIRFLOW_VARIABLE", "NEWSDESK_REGISTRY",
                                     "NEWSDESK_INGEST_CRON", "NEWSDESK_HTTP_POOL", "NEWSDESK_TASK_RETRIES",
                                     "NEWSDESK_TASK_RETRY_DELAY", "AIRFLOW_CONN_NEWSDESK_WAREHOUSE"}
    missing = [n for n in sorted(names) if f"`{n}`" not in doc]
    assert not missing, missing


def test_dag_retries_default_and_env_override(monkeypatch):
    import importlib

    monkeypatch.delenv("NEWSDESK_TASK_RETRY_DELAY", raising=False)
    monkeypatch.delenv("NEWSDESK_TASK_RETRIES", raising=False)
    spec = importlib.util.spec_from_file_location("news_ingest_probe", REPO / "dags" / "news_ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TASK_RETRIES == 2 and module.TASK_RETRY_DELAY.total_seconds() == 30
    monkeypatch.setenv("NEWSDESK_TASK_RETRY_DELAY", "2")
    spec.loader.exec_module(module)
    assert module.TASK_RETRY_DELAY.total_seconds() == 2


def test_postgres_connection_with_special_characters_in_credentials(monkeypatch):
    """A password with '@', ':' or '/' must reach the driver intact, not split the URL."""
    import json

    from sqlalchemy.engine import make_url

    from newsdesk.tasks import context as orchestration

    monkeypatch.setenv("AIRFLOW_CONN_NEWSDESK_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "login": "news", "password": "p@ss:w/rd", "host": "warehouse-db",
        "port": 5432, "schema": "newsdesk"}))
    url = make_url(orchestration.warehouse_url_from_airflow())
    assert (url.username, url.password, url.host, url.database) == ("news", "p@ss:w/rd", "warehouse-db", "newsdesk")
