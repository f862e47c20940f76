"""docker-compose.yml, Dockerfile, .env.example and `make airflow`, checked without a Docker engine.

A compose binary validates the file (`config` needs no engine): `make test` installs Debian's
`docker-compose` (scripts/install-compose.sh) and the test skips, saying so, only where none
could be installed. The file is also compared with what the process-level test
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


REQUIRED_SECRETS = {"AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD",
                    "AIRFLOW_DB_PASSWORD", "WAREHOUSE_DB_PASSWORD"}


def _compose_binary() -> list[str]:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    pytest.skip("no compose binary (docker compose or docker-compose): `make compose` installs Debian's "
                "docker-compose; scripts/install-compose.sh could not here, so the file was not validated by one")


def _compose_config(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """`compose config` of a copy of the file in ``project`` (which may hold a .env)."""
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    files = ["-f", str(project / "docker-compose.yml")]
    if (project / "docker-compose.override.yml").exists():  # read by default, but not beside an explicit -f
        files += ["-f", str(project / "docker-compose.override.yml")]
    return subprocess.run([*_compose_binary(), "--project-directory", str(project), *files, *args, "config"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, cwd=project,
                          timeout=120)


@pytest.mark.slow
def test_compose_binary_accepts_the_file_with_the_example_env(tmp_path):
    """With .env.example as .env the file resolves; every service, both profiles."""
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    proc = _compose_config(tmp_path, {}, "--profile", "flower", "--profile", "debug")
    assert proc.returncode == 0, proc.stderr
    resolved = yaml.safe_load(proc.stdout)
    assert {"airflow-cli", "flower", "airflow-init", "airflow-worker"} <= set(resolved["services"])
    assert resolved["services"]["airflow-cli"]["profiles"] == ["debug"]
    assert resolved["services"]["flower"]["profiles"] == ["flower"]
    env = resolved["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")


@pytest.mark.parametrize("where", ["env_file", "environment"])
def test_compose_binary_passes_a_password_with_quotes_intact(tmp_path, where):
    """A `"`, `$`, `#` or space in the admin password reaches the image's entrypoint unchanged
    (which passes it to `airflow users create` as one quoted argument)."""
    password = """pa"ss #1 $x 'y"""
    example = (REPO / ".env.example").read_text()
    env = {}
    if where == "env_file":
        # single-quoted in .env: taken literally (a `'` cannot be in such a value; the environment can carry it)
        password = password.replace("'", "")
        example = re.sub(r"^AIRFLOW_ADMIN_PASSWORD=.*$", f"AIRFLOW_ADMIN_PASSWORD='{password}'", example, flags=re.M)
    else:
        env["AIRFLOW_ADMIN_PASSWORD"] = password
    (tmp_path / ".env").write_text(example)
    proc = _compose_config(tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    init_env = yaml.safe_load(proc.stdout)["services"]["airflow-init"]["environment"]
    # compose writes its output as a compose file, where `$$` is a literal `$`
    assert init_env["_AIRFLOW_WWW_USER_PASSWORD"].replace("$$", "$") == password


def test_compose_binary_refuses_a_missing_secret(tmp_path):
    example = (REPO / ".env.example").read_text()
    (tmp_path / ".env").write_text(re.sub(r"^AIRFLOW_JWT_SECRET=.*\n", "", example, flags=re.M))
    proc = _compose_config(tmp_path, {})
    assert proc.returncode != 0
    assert "set AIRFLOW_JWT_SECRET in .env" in proc.stderr


@pytest.mark.slow
def test_the_documented_override_for_archive_credentials(tmp_path):
    """docs/deployment.md's docker-compose.override.yml adds the S3 variables to the worker's
    environment without losing the common ones."""
    doc = (REPO / "docs" / "deployment.md").read_text()
    section = doc.split("### Archives on S3 or HTTPS", 1)[1]
    override = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "docker-compose.override.yml").write_text(override)
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    proc = _compose_config(tmp_path, {"ARCHIVE_ACCESS_KEY_ID": "key", "ARCHIVE_SECRET_ACCESS_KEY": "secret"})
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    worker = services["airflow-worker"]["environment"]
    assert worker["AWS_ENDPOINT_URL_S3"] == "https://s3.example.net" and worker["AWS_ACCESS_KEY_ID"] == "key"
    assert worker["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and worker["DUMB_INIT_SETSID"] == "0"
    assert services["airflow-dag-processor"]["environment"]["NEWSDESK_ARCHIVE_ROOT"] == "s3://my-bucket/cc-news"


def test_compose_structure(compose):
    services = compose["services"]
    assert set(services) == {"airflow-db", "warehouse-db", "redis", "airflow-apiserver", "airflow-scheduler",
                             "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "airflow-init",
                             "airflow-cli", "flower"}
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        if name not in ("airflow-init", "airflow-cli"):  # one-shot containers
            assert "healthcheck" in svc, f"{name} has a healthcheck"
    # Like the official file: the CLI and Flower only with their profiles.
    assert services["airflow-cli"]["profiles"] == ["debug"] and services["flower"]["profiles"] == ["flower"]
    assert _command(services["airflow-cli"]) == ["bash", "-c", "airflow"]
    assert services["flower"]["ports"] == ["127.0.0.1:${FLOWER_PORT:-5555}:5555"], "Flower on loopback only"
    # Airflow services run the project's image, built from the Dockerfile.
    airflow_services = [n for n, svc in services.items() if "build" in svc]  # the x-airflow-common ones
    assert set(airflow_services) == set(stack_mod.SERVICES) | {"airflow-init", "airflow-cli"}
    assert {services[n]["image"] for n in airflow_services} == {"newsdesk-airflow:3.3.2"}
    assert all(services[n]["build"] == "." for n in airflow_services)
    # Separate PostgreSQL services for Airflow's metadata and for the warehouse; Redis as broker.
    assert services["airflow-db"]["image"].startswith("postgres:")
    assert services["warehouse-db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == stack_mod.FAB_AUTH_MANAGER
    assert "@airflow-db/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse-db:" in env["AIRFLOW_CONN_NEWSDESK_WAREHOUSE"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # Every Airflow component gets the same JWT secret (one variable, one value).
    secrets = {services[n]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for n in airflow_services}
    assert len(secrets) == 1 and "AIRFLOW_JWT_SECRET" in secrets.pop()
    # Services that need a migrated database wait for init.
    for n in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer",
              "flower"):
        assert services[n]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_code_comes_from_the_image_only(compose):
    """One source of truth: no service mounts DAGs, plugins or the library; the image has them."""
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert target not in ("/opt/airflow/dags", "/opt/airflow/plugins"), (name, volume)
            assert not target.startswith("/opt/newsdesk"), (name, volume)
            assert source.lstrip("./").split("/")[0] not in ("dags", "plugins", "sql", "seeds"), (name, volume)
    dockerfile = (REPO / "Dockerfile").read_text()
    dags_folder = compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
    assert re.search(rf"^COPY .*\bdags {re.escape(dags_folder)}$", dockerfile, re.M), "the DAGs are in the image"


def test_init_uses_the_image_entrypoint(compose):
    """No entrypoint override: the image's entrypoint waits for the DB, migrates and creates the
    admin user from _AIRFLOW_WWW_USER_* (the password never pasted into a file or JSON)."""
    init = compose["services"]["airflow-init"]
    assert "entrypoint" not in init and "entrypoint" not in compose["x-airflow-common"]
    assert _command(init)[:2] == ["bash", "-c"]
    env = init["environment"]
    assert env["_AIRFLOW_DB_MIGRATE"] == env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_PASSWORD"] == "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"
    script = _command(init)[-1]
    assert "ADMIN_PASSWORD" not in script.replace("password AIRFLOW_ADMIN_PASSWORD of .env", ""), \
        "the script never handles the password"
    assert "printf" not in script and "passwords.json" not in script


def test_compose_commands_are_the_ones_the_process_test_runs(compose):
    services = compose["services"]
    for name, cmd in stack_mod.SERVICES.items():
        assert cmd[0] == "airflow"
        assert _command(services[name]) == cmd[1:], name  # the image's entrypoint is `airflow`
    assert _init_steps(compose) == stack_mod.INIT_STEPS
    # the entrypoint's part of init, as the process stack runs it
    assert stack_mod.ENTRYPOINT_INIT_ENV <= set(services["airflow-init"]["environment"])


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
    assert required == REQUIRED_SECRETS
    assert not re.search(r"PASSWORD:-", COMPOSE.read_text()), "no default password in the compose file"


def test_dockerfile_matches_installed_airflow():
    from importlib.metadata import version

    dockerfile = (REPO / "Dockerfile").read_text()
    base = re.search(r"^FROM apache/airflow:([\w.]+)-python([\d.]+)", dockerfile, re.MULTILINE)
    assert base, "built on the official apache/airflow image"
    assert base.group(1) == version("apache-airflow") == "3.3.2"
    assert base.group(2) == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "requirements.lock" in dockerfile and "pip install" in dockerfile
    assert "apache-airflow==3.3.2" in (REPO / "requirements.txt").read_text()
    assert version("apache-airflow-providers-fab") in (REPO / "requirements.txt").read_text()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, pinned = line.split("==", 1)
            pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = pinned.strip()
    return pins


def test_runtime_image_has_no_test_tools():
    """The image installs requirements.txt (runtime) only; tests and lint are requirements-dev.txt."""
    runtime, dev = _pins(REPO / "requirements.txt"), _pins(REPO / "requirements-dev.txt")
    test_tools = {"pytest", "pytest-timeout", "hypothesis", "ruff", "import-linter", "moto", "flask-cors"}
    assert test_tools <= set(dev) and not test_tools & set(runtime)
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "requirements-dev" not in dockerfile and not re.search(r"^COPY .*\b(tests|bench)\b", dockerfile, re.M)
    # the library is installed as a package (not editable: its SQL is package data)
    assert re.search(r"pip install --no-cache-dir --no-deps /opt/newsdesk\b", dockerfile)
    assert "pip install --no-cache-dir --no-deps -e" not in dockerfile
    # every pin (runtime and dev) is in the lock at the same version
    lock = _pins(REPO / "requirements.lock")
    for name, pinned in {**runtime, **dev}.items():
        assert lock.get(name) == pinned, (name, pinned, lock.get(name))
    assert "requirements-dev.txt" in (REPO / "Makefile").read_text()


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


def test_standalone_moves_the_execution_api_with_the_api_port(monkeypatch):
    """`make airflow` with AIRFLOW__API__PORT: tasks must reach the Execution API on that port."""
    monkeypatch.delenv("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__API__PORT", raising=False)
    assert "AIRFLOW__CORE__EXECUTION_API_SERVER_URL" not in stack_mod.standalone_env()  # Airflow's default, 8080
    monkeypatch.setenv("AIRFLOW__API__PORT", "18793")
    env = stack_mod.standalone_env()
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:18793/execution/"
    assert env["AIRFLOW__API__PORT"] == "18793"
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "http://api.internal:9000/execution/")
    assert stack_mod.standalone_env()["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api.internal:9000/execution/"


def test_every_compose_newsdesk_variable_is_a_setting(compose):
    """The NEWSDESK_* variables the compose file passes are options of the settings definition."""
    from newsdesk.config import OPTIONS

    passed = {k for k in compose["x-airflow-common"]["environment"] if k.startswith("NEWSDESK_")}
    assert passed and passed <= set(OPTIONS.values()), passed - set(OPTIONS.values())


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
