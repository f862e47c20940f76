"""Settings and the command line around them: validation at start (errors name the variable,
exit 2), strict booleans, the README's table generated from the definition, the default
warehouse under NEWSDESK_HOME, --version, shell completion, `feeds sync --dry-run`."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from newsdesk.config import FIELDS, OPTIONS, Settings, SettingsError, coerce_options, markdown_table, option_from_env

REPO = Path(__file__).resolve().parents[1]
NEWSDESK = Path(sys.executable).with_name("newsdesk")


def _clean_env(**more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(more)
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEWSDESK), *args], capture_output=True, text=True, timeout=timeout,
                          env=_clean_env(**env), cwd=cwd)


# --- validation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("variable, value, reason", [
    ("NEWSDESK_BATCH_SIZE", "abc", "not a whole number"),
    ("NEWSDESK_BATCH_SIZE", "2.5", "not a whole number"),
    ("NEWSDESK_BATCH_SIZE", "0", "must be at least 1"),
    ("NEWSDESK_RESPECT_ROBOTS", "flase", "not a boolean"),
    ("NEWSDESK_ALLOW_PRIVATE_ADDRESSES", "on", "not a boolean"),
    ("NEWSDESK_CONNECT_TIMEOUT", "soon", "not a number"),
    ("NEWSDESK_PER_HOST_DELAY", "-1", "must be at least 0"),
    ("NEWSDESK_EXTRACT_TIMEOUT", "nan", "not a finite number"),
    ("NEWSDESK_DATABASE_URL", "var/newsdesk.db", "not a database URL"),
])
def test_an_invalid_value_is_an_error_naming_its_variable(variable, value, reason):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(variable) and reason in message and "\n" not in message


def test_every_invalid_variable_is_named_at_once_and_secrets_are_not_echoed():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"NEWSDESK_BATCH_SIZE": "abc", "NEWSDESK_RESPECT_ROBOTS": "flase",
                           "NEWSDESK_DATABASE_URL": "hunter2-no-scheme"})
    message = str(caught.value)
    assert "NEWSDESK_BATCH_SIZE='abc'" in message and "NEWSDESK_RESPECT_ROBOTS='flase'" in message
    assert "NEWSDESK_DATABASE_URL" in message and "hunter2" not in message


@pytest.mark.parametrize("word, expected", [("true", True), ("TRUE", True), ("1", True), ("yes", True), (" Yes ", True),
                                            ("false", False), ("0", False), ("no", False), ("No", False)])
def test_booleans_take_only_true_false_1_0_yes_no(word, expected):
    assert Settings.from_env({"NEWSDESK_RESPECT_ROBOTS": word}).respect_robots is expected


def test_empty_means_unset_and_every_option_is_read_from_its_variable():
    defaults = Settings.from_env({name: "" for name in OPTIONS.values()})
    assert defaults.batch_size == 50 and defaults.respect_robots is True and defaults.archive_workers is None
    samples = {bool: ("yes", True), int: ("7", 7), float: ("2.5", 2.5), str: ("x://custom", "x://custom")}
    for name, spec in FIELDS.items():
        raw, expected = samples[spec.kind]
        if spec.kind is bool:
            raw, expected = ("no", False) if spec.default else ("yes", True)
        if name == "allow_networks":  # validated as a list of networks
            raw, expected = "10.20.0.0/16", "10.20.0.0/16"
        assert getattr(Settings.from_env({spec.env: raw}), name) == expected, spec.env
        assert option_from_env(name, {spec.env: raw}) == expected, spec.env


def test_the_airflow_variable_is_validated_too():
    """`newsdesk_settings` (JSON) keys by field or variable name; a bad value names its key."""
    assert coerce_options({"batch_size": 10, "NEWSDESK_RESPECT_ROBOTS": "no", "some_future_option": 1}) == {
        "batch_size": 10, "respect_robots": False}
    with pytest.raises(SettingsError, match="NEWSDESK_RESPECT_ROBOTS='flase'"):
        coerce_options({"NEWSDESK_RESPECT_ROBOTS": "flase"})
    with pytest.raises(SettingsError, match="batch_size='ten'"):
        coerce_options({"batch_size": "ten"})
    with pytest.raises(SettingsError, match="batch_size=.*not a whole number"):
        coerce_options({"batch_size": True})


def test_dag_files_read_their_options_validated(monkeypatch):
    monkeypatch.setenv("NEWSDESK_TASK_RETRIES", "many")
    spec = importlib.util.spec_from_file_location("news_ingest_settings_probe", REPO / "dags" / "news_ingest.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(SettingsError, match="NEWSDESK_TASK_RETRIES='many'"):
        spec.loader.exec_module(module)


@pytest.mark.parametrize("variable, value", [("NEWSDESK_BATCH_SIZE", "abc"), ("NEWSDESK_RESPECT_ROBOTS", "flase")])
@pytest.mark.slow
def test_the_cli_stops_at_start_with_one_line_and_exit_2(tmp_path, variable, value):
    database = tmp_path / "never.db"
    out = run_cli("stats", "--database", f"sqlite:///{database}", **{variable: value})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and repr(value) in lines[0], out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not database.exists(), "nothing ran before the settings were checked"


# --- one documented table ------------------------------------------------------------------------------

def test_the_readme_table_is_the_generated_one():
    spec = importlib.util.spec_from_file_location("settings_table", REPO / "scripts" / "settings_table.py")
    table_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table_script)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert table_script.table_in(readme) == markdown_table(), "run scripts/settings_table.py"
    rows = [line for line in markdown_table().splitlines()[2:]]
    assert [row.split("`")[1] for row in rows] == list(OPTIONS.values()), "one row per option, in order"
    assert all(spec.doc for spec in FIELDS.values()), "every option has its line"
    assert readme.count("| `NEWSDESK_BATCH_SIZE` |") == 1, "one table"
    deployment = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "| `NEWSDESK_BATCH_SIZE` |" not in deployment, "docs/deployment.md links to the README's table"


@pytest.mark.slow
def test_newsdesk_config_prints_the_table_and_the_settings_in_effect(tmp_path):
    table = run_cli("config", "--markdown")
    assert table.returncode == 0 and table.stdout == markdown_table()
    current = run_cli("config", "--json", NEWSDESK_DATABASE_URL="postgresql://news:s3cret@db.example/news",
                      NEWSDESK_BATCH_SIZE="7", NEWSDESK_HOME=str(tmp_path))
    assert current.returncode == 0, current.stderr
    values = json.loads(current.stdout)
    assert set(values) == set(OPTIONS.values())
    assert values["NEWSDESK_BATCH_SIZE"] == 7
    assert values["NEWSDESK_DATABASE_URL"] == "postgresql://news:***@db.example/news"
    assert "s3cret" not in current.stdout
    plain = run_cli("config", NEWSDESK_HOME=str(tmp_path))
    assert f"NEWSDESK_DATABASE_URL=sqlite:///{tmp_path / 'newsdesk.db'}" in plain.stdout.splitlines()


# --- NEWSDESK_HOME -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_default_warehouse_is_under_newsdesk_home_of_the_working_directory(tmp_path):
    """Not in the source tree: `./var` of where the command runs, or $NEWSDESK_HOME."""
    work = tmp_path / "somewhere"
    work.mkdir()
    out = run_cli("db", "upgrade", cwd=work, timeout=180)
    assert out.returncode == 0, out.stderr
    assert (work / "var" / "newsdesk.db").is_file()
    home = tmp_path / "elsewhere"
    out = run_cli("db", "upgrade", cwd=work, NEWSDESK_HOME=str(home), timeout=180)
    assert out.returncode == 0, out.stderr
    assert (home / "newsdesk.db").is_file()
    assert str(home / "newsdesk.db") in out.stdout
    with sqlite3.connect(home / "newsdesk.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'v_articles'").fetchone() == (1,)


# --- --version and completion ---------------------------------------------------------------------------

@pytest.mark.slow
def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"newsdesk {version('newsdesk')}"


def _complete(line: str, tmp_path: Path) -> list[str]:
    """What the shell gets for ``line`` (argcomplete's protocol, as its bash hook drives it)."""
    target = tmp_path / "completions"
    out = subprocess.run([str(NEWSDESK)], capture_output=True, text=True, timeout=120,
                         env=_clean_env(_ARGCOMPLETE="1", COMP_LINE=line, COMP_POINT=str(len(line)),
                                        _ARGCOMPLETE_STDOUT_FILENAME=str(target)))
    assert out.returncode == 0, out.stderr
    return [word.strip() for word in target.read_text().split("\013")]


@pytest.mark.slow
def test_shell_completion(tmp_path):
    assert {"feeds", "import", "config"} <= set(_complete("newsdesk ", tmp_path))
    assert _complete("newsdesk fe", tmp_path) == ["feeds"]
    assert {"--dry-run", "--database"} <= set(_complete("newsdesk feeds sync --d", tmp_path))
    # the bash hook checks the console script's module for argcomplete's marker
    check = subprocess.run([sys.executable, "-W", "ignore", "-m", "argcomplete._check_console_script", str(NEWSDESK)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    hook = subprocess.run([str(NEWSDESK.with_name("register-python-argcomplete")), "newsdesk"],
                          capture_output=True, text=True, timeout=60)
    assert hook.returncode == 0 and "complete " in hook.stdout


# --- feeds sync --dry-run ------------------------------------------------------------------------------

REGISTRY_A = """
sources:
  - name: Daily One
    homepage: https://one.example/
    language: en
    feeds: [https://one.example/rss, https://one.example/world.xml]
  - name: Two Times
    homepage: https://two.example/
    feeds: [https://two.example/feed]
"""
REGISTRY_B = """
sources:
  - name: Daily One
    homepage: https://www.one.example/
    language: en
    feeds:
      - https://one.example/rss
      - {url: https://one.example/world.xml, kind: sitemap, interval: 600}
  - name: Three Post
    homepage: https://three.example/
    feeds: [https://three.example/rss]
"""


def _dump(database: Path) -> list:
    with sqlite3.connect(database) as conn:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("sources", "feeds")]


@pytest.mark.slow
def test_feeds_sync_dry_run_prints_the_changes_and_writes_nothing(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(REGISTRY_A)
    b.write_text(REGISTRY_B)
    database = tmp_path / "w.db"
    url = f"sqlite:///{database}"

    first = run_cli("feeds", "sync", str(a), "--dry-run", "--database", url)
    assert first.returncode == 0, first.stderr
    plan = json.loads(first.stdout)
    assert plan["dry_run"] and plan["sources_added"] == ["Daily One", "Two Times"]
    assert len(plan["feeds_added"]) == 3
    assert not database.exists(), "a dry run creates no warehouse"

    assert run_cli("feeds", "sync", str(a), "--database", url).returncode == 0
    before = _dump(database)
    out = run_cli("feeds", "sync", str(b), "--dry-run", "--database", url)
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["sources_added"] == ["Three Post"]
    assert plan["sources_retired"] == ["Two Times"]
    assert plan["sources_changed"] == {"Daily One": {"homepage": ["https://one.example/", "https://www.one.example/"]}}
    assert plan["feeds_added"] == ["https://three.example/rss"]
    assert plan["feeds_deactivated"] == ["https://two.example/feed"]
    assert plan["feeds_changed"] == {"https://one.example/world.xml": {"kind": ["feed", "sitemap"],
                                                                      "interval": [None, 600]}}
    assert _dump(database) == before, "the dry run wrote nothing"

    done = run_cli("feeds", "sync", str(b), "--database", url)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert (counts["sources_added"], counts["sources_retired"], counts["feeds_added"], counts["feeds_deactivated"]) == (
        1, 1, 1, 1), "the sync did what the dry run said"
    again = json.loads(run_cli("feeds", "sync", str(b), "--dry-run", "--database", url).stdout)
    assert not any(again[k] for k in again if k != "dry_run"), "nothing left to change"
