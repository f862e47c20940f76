"""Where the warehouse's SQL lives: migrations, views and roles ship in the package as
``newsdesk.sql`` (the repository's ``sql/``, linked in), so a wheel install migrates like a
checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _sql_dir() -> Path:
    location = resources.files("newsdesk.sql")
    if not isinstance(location, Path):  # Alembic needs a real directory
        raise RuntimeError(f"newsdesk.sql is not a directory on disk ({location}): install newsdesk unzipped")
    return location


SQL_DIR = _sql_dir()
