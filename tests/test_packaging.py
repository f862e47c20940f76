"""newsdesk as an installed package: the wheel holds the migrations and views, and an install
in a fresh virtual environment outside the repository migrates a warehouse and imports a WARC
from a directory that is not the repository.

The fresh environment has only the wheel; its dependencies come from the project's environment
through a .pth line (no download), which does not bring the project's editable install along
(.pth lines add a directory to sys.path without reading the .pth files in it).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import news_records, write_warc

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what it is made of (the build writes beside its sources)."""
    base = tmp_path_factory.mktemp("build")
    source = base / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    shutil.copy(REPO / "pyproject.toml", source)
    for folder in ("plugins", "sql"):
        shutil.copytree(REPO / folder, source / folder, symlinks=True, ignore=ignore)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", base / "dist", source], cwd=base)
    (found,) = (base / "dist").glob("newsdesk-*.whl")
    return found


def test_the_wheel_holds_the_migrations_and_views(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (REPO / "sql").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"newsdesk/sql/{path.relative_to(REPO / 'sql')}" in names, path
    assert not any(n.startswith(("tests/", "sql/", "plugins/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "newsdesk = newsdesk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_outside_the_repository_it_migrates_and_imports(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    (site / "newsdesk-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel], cwd=tmp_path)

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEWSDESK_", "PYTHON", "VIRTUAL_ENV", "AIRFLOW"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = json.loads(_run([python, "-c", (
        "import json, importlib.resources, newsdesk, newsdesk.storage.db as db;"
        "print(json.dumps([newsdesk.__file__, str(importlib.resources.files('newsdesk.sql')), str(db.SQL_DIR)]))")],
        cwd=work, env=env).stdout)
    assert all(path.startswith(str(site)) for path in where), f"the installed copy is used, not the repository: {where}"

    newsdesk = venv / "bin" / "newsdesk"
    assert _run([newsdesk, "--version"], cwd=work, env=env).stdout.strip() == "newsdesk 0.1.0"
    upgraded = _run([newsdesk, "db", "upgrade"], cwd=work, env=env)
    database = work / "var" / "newsdesk.db"
    assert str(database) in upgraded.stdout and database.is_file(), "the default warehouse is ./var of the work dir"
    with sqlite3.connect(database) as conn:
        views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert {"v_articles", "v_clusters", "v_feed_health"} <= views
    heads = sorted(p.name.split("_", 1)[0] for p in (REPO / "sql" / "migrations" / "versions").glob("0*.py"))
    assert revision == heads[-1]

    archive = work / "small.warc.gz"
    write_warc(archive, news_records(6, 81))
    imported = _run([newsdesk, "import", archive.name, "--workers", "0", "-q"], cwd=work, env=env)
    report = json.loads(imported.stdout)
    assert report["extracted"] == 6 and report["files"][archive.name]["status"] == "done", report
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM v_articles").fetchone() == (6,)
