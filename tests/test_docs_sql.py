"""Docs that run: every SQL example of docs/analysts.md is executed on SQLite and PostgreSQL
against the offline snapshot as `make run` loads it (conftest's ``snapshot_warehouse``), and
where the docs show its output, the rows must be those.

An example is a ```sql block; the plain ``` block right after it, if any, is its output
(`col | col`, a dashed line, then rows; NULL for NULL, 1/0 for booleans, UTC times as
`YYYY-MM-DD HH:MM:SS`; numbers are compared to 3 decimals). A block whose first line is
`-- PostgreSQL` or `-- SQLite` runs on that database only."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from newsdesk.times import as_utc

DOC = Path(__file__).resolve().parents[1] / "docs" / "analysts.md"
_EXAMPLE = re.compile(r"```sql\n(?P<sql>.*?)```(?:[ \t]*\n[ \t]*```\n(?P<out>.*?)```)?", re.S)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z)?$")

pytestmark = pytest.mark.slow


def examples() -> list[tuple[str, str, str | None]]:
    """(id, SQL, expected output or None), in the order of the docs."""
    found = []
    for match in _EXAMPLE.finditer(DOC.read_text(encoding="utf-8")):
        sql = match.group("sql").strip()
        heading = next((line for line in sql.splitlines() if line.startswith("-- ")), "")
        label = re.sub(r"\W+", "-", (heading[3:] or sql.split("FROM", 1)[-1].split()[0]).lower()).strip("-")
        found.append((f"{len(found) + 1}-{label[:40]}", sql, match.group("out")))
    return found


EXAMPLES = examples()


def test_the_docs_have_examples_with_outputs():
    assert len(EXAMPLES) >= 12 and sum(out is not None for _, _, out in EXAMPLES) >= 10


def _shown(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, float)):
        return repr(float(value))
    text_value = str(value)
    if _TIMESTAMP.match(text_value):  # SQLite keeps times as text
        return as_utc(datetime.fromisoformat(text_value.replace("Z", "+00:00"))).strftime("%Y-%m-%d %H:%M:%S")
    return text_value


def _same(shown: str, documented: str) -> bool:
    if shown == documented:
        return True
    try:
        return abs(float(shown) - float(documented)) < 5e-4
    except ValueError:
        return False


def _table(out: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in out.splitlines() if line.strip()]
    header = [c.strip() for c in lines[0].split("|")]
    assert set(lines[1].replace("|", "").strip()) <= {"-"}, "the second line of an output is dashes"
    return header, [[c.strip() for c in line.split("|")] for line in lines[2:]]


@pytest.mark.parametrize("sql, documented", [(sql, out) for _, sql, out in EXAMPLES],
                         ids=[name for name, _, _ in EXAMPLES])
def test_docs_sql_example(snapshot_warehouse, sql, documented):
    dialect = snapshot_warehouse.dialect.name
    only = sql.splitlines()[0].strip().lower()
    if only in ("-- postgresql", "-- sqlite") and only[3:] != ("postgresql" if dialect == "postgresql" else "sqlite"):
        pytest.skip(f"{only[3:]} only")
    with snapshot_warehouse.connect() as conn:
        result = conn.execute(text(sql))
        columns, rows = list(result.keys()), [[_shown(v) for v in row] for row in result]
    if documented is None:
        return
    header, expected = _table(documented)
    assert columns == header
    assert len(rows) == len(expected), f"{dialect}: got {rows}"
    for got, want in zip(rows, expected):
        assert all(_same(g, w) for g, w in zip(got, want)) and len(got) == len(want), f"{dialect}: {got} != {want}"
