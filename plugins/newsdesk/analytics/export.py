"""``newsdesk export``: v_articles rows to Parquet, CSV or JSON Lines, streamed.

Rows come through a server-side cursor on PostgreSQL (``stream_results`` with
``yield_per``) and SQLite's lazy cursor, and are written ``chunk_size`` rows at a
time (a Parquet row group per chunk), so memory stays flat whatever the row count.
The columns are the ``v_articles`` contract, in its order, with fixed types.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import BigInteger, DateTime, Float, Integer, Text, bindparam, column, text
from sqlalchemy.engine import Engine

from ..times import as_utc

FORMATS = ("parquet", "csv", "jsonl")

# v_articles, in order: (column, SQLAlchemy type, pyarrow type name)
COLUMNS: list[tuple[str, Any, str]] = [
    ("article_id", BigInteger, "int64"),
    ("url", Text, "string"),
    ("canonical_url", Text, "string"),
    ("domain", Text, "string"),
    ("title", Text, "string"),
    ("text", Text, "string"),
    ("published_at", DateTime(timezone=True), "timestamp"),
    ("language", Text, "string"),
    ("cluster_id", BigInteger, "int64"),
    ("original_url", Text, "string"),
    ("relation", Text, "string"),
    ("similarity", Float, "float64"),
    ("source", Text, "string"),
    ("author", Text, "string"),
    ("sitename", Text, "string"),
    ("attribution", Text, "string"),
    ("word_count", Integer, "int32"),
    ("extracted_at", DateTime(timezone=True), "timestamp"),
    ("origin", Text, "string"),
]
NAMES = [c[0] for c in COLUMNS]




def iter_chunks(engine: Engine, since=None, until=None, chunk_size: int = 2000,
                where_sql: str | None = None) -> Iterator[list[tuple]]:
    """Lists of up to ``chunk_size`` v_articles rows (tuples in ``NAMES`` order).

    ``since``/``until`` bound the publication time (extraction time for undated articles).
    """
    clauses, params, binds = [], {}, []
    if since is not None:
        clauses.append("COALESCE(published_at, extracted_at) >= :since")
        params["since"] = as_utc(since)
        binds.append(bindparam("since", type_=DateTime(timezone=True)))
    if until is not None:
        clauses.append("COALESCE(published_at, extracted_at) < :until")
        params["until"] = as_utc(until)
        binds.append(bindparam("until", type_=DateTime(timezone=True)))
    if where_sql:
        clauses.append(f"({where_sql})")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    stmt = text(f"SELECT {', '.join(NAMES)} FROM v_articles{where} ORDER BY article_id")
    stmt = stmt.columns(*[column(n, t) for n, t, _ in COLUMNS])
    if binds:
        stmt = stmt.bindparams(*binds)
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True, yield_per=chunk_size)
        result = conn.execute(stmt, params)
        for part in result.partitions(chunk_size):
            yield [tuple(as_utc(v) if isinstance(v, datetime) else v for v in row) for row in part]


def arrow_schema():
    import pyarrow as pa

    types = {"int64": pa.int64(), "int32": pa.int32(), "float64": pa.float64(), "string": pa.string(),
             "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(n, types[t]) for n, _, t in COLUMNS])


class _Writer:
    def __init__(self, fmt: str, out: Path | None):
        self.fmt, self.out = fmt, out
        self._fh: IO | None = None
        self._pq = None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            if out is None:
                raise ValueError("parquet needs an output file")
            self.schema = arrow_schema()
            self._pq = pq.ParquetWriter(str(out), self.schema, compression="zstd")
        else:
            self._fh = (open(out, "w", encoding="utf-8", newline="") if out is not None
                        else io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True))
            if fmt == "csv":
                self._csv = csv.writer(self._fh)
                self._csv.writerow(NAMES)

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.fmt == "parquet":
            import pyarrow as pa

            cols = list(zip(*rows))
            arrays = [pa.array(list(col), type=field.type) for col, field in zip(cols, self.schema)]
            self._pq.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        elif self.fmt == "csv":
            self._csv.writerows([[("" if v is None else v.isoformat() if isinstance(v, datetime) else v)
                                  for v in row] for row in rows])
        else:
            self._fh.write("".join(
                json.dumps(dict(zip(NAMES, row)), ensure_ascii=False, default=_json_default) + "\n"
                for row in rows))

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            if self.out is not None:
                self._fh.close()
            else:
                self._fh.flush()
                self._fh.detach()


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def export(engine: Engine, out: str | Path | None, fmt: str = "parquet", since=None, until=None,
           chunk_size: int = 2000) -> dict:
    """Write v_articles rows to ``out`` (``None`` or ``-``: stdout, csv/jsonl only); returns counts."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = None if out in (None, "-") else Path(out)
    tmp = None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")  # a failed export never leaves a half file as OUT
    writer = _Writer(fmt, tmp)
    rows = chunks = 0
    try:
        for chunk in iter_chunks(engine, since=since, until=until, chunk_size=chunk_size):
            writer.write(chunk)
            rows += len(chunk)
            chunks += 1
    except BaseException:
        writer.close()
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    writer.close()
    if tmp is not None:
        tmp.replace(path)
    return {"rows": rows, "chunks": chunks, "format": fmt, "out": str(path) if path else "-",
            "bytes": path.stat().st_size if path else None}
