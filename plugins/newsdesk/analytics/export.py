"""``newsdesk export``: v_articles rows to Parquet, CSV or JSON Lines, streamed.

The columns are the view's, in its order, read from the database at run time: a column
appended to ``v_articles`` is exported without a change here. Their types come from the
view too (reflection; on SQLite a column computed by an expression has none, and takes
the type of its first value). Rows come through a server-side cursor on PostgreSQL
(``stream_results`` with ``yield_per``) and SQLite's lazy cursor, and are written
``chunk_size`` rows at a time (a Parquet row group per chunk), so memory stays flat
whatever the row count. ``partition_by="day"`` writes a folder of Parquet files, one
folder per UTC day of publication (extraction for undated articles): ``day=2025-07-24/``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import DateTime, bindparam, inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Engine

from ..times import as_utc

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow is imported where Parquet is written: CSV/JSON exports and every other command
# run without it (it is the slowest import of the CLI).

FORMATS = ("parquet", "csv", "jsonl")
PARTITIONS = ("day",)
VIEW = "v_articles"


def view_columns(engine: Engine) -> list[tuple[str, Any]]:
    """(name, SQLAlchemy type) of every column of ``v_articles``, in the view's order."""
    return [(c["name"], c["type"]) for c in inspect(engine).get_columns(VIEW)]


def _arrow_type(sql_type) -> pa.DataType | None:
    """The Parquet type of a reflected column; None: not known (an expression on SQLite)."""
    import pyarrow as pa

    if isinstance(sql_type, sqltypes.NullType):
        return None
    if isinstance(sql_type, sqltypes.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sqltypes.Integer):
        return pa.int64()
    if isinstance(sql_type, (sqltypes.Float, sqltypes.Numeric)):
        return pa.float64()
    if isinstance(sql_type, sqltypes.DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(sql_type, sqltypes.Date):
        return pa.date32()
    return pa.string()


def _arrow_type_of(values: list) -> pa.DataType:
    import pyarrow as pa

    first = next((v for v in values if v is not None), None)
    if isinstance(first, bool):
        return pa.bool_()
    if isinstance(first, int):
        return pa.int64()
    if isinstance(first, (float, Decimal)):
        return pa.float64()
    if isinstance(first, datetime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(first, date):
        return pa.date32()
    return pa.string()


def _cell(value):
    """A value as the writers take it: datetimes in UTC, decimals as floats."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def iter_chunks(engine: Engine, columns: list[tuple[str, Any]], since=None, until=None, chunk_size: int = 2000,
                where_sql: str | None = None, by_day: bool = False) -> Iterator[list[tuple]]:
    """Lists of up to ``chunk_size`` v_articles rows (tuples in ``columns`` order).

    ``since``/``until`` bound the publication time (extraction time for undated articles);
    ``by_day``: ordered by that time's day, then id (else by id).
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
    order = "COALESCE(published_at, extracted_at), article_id" if by_day else "article_id"
    stmt = text(f"SELECT {', '.join(name for name, _ in columns)} FROM {VIEW}{where} ORDER BY {order}")
    # typed columns get their result processing (SQLite's timestamps and booleans are text and 0/1)
    stmt = stmt.columns(**{name: kind for name, kind in columns if not isinstance(kind, sqltypes.NullType)})
    if binds:
        stmt = stmt.bindparams(*binds)
    # only columns that may hold datetimes or decimals need a look at each value
    convert = [i for i, (_, kind) in enumerate(columns)
               if isinstance(kind, (sqltypes.DateTime, sqltypes.Numeric, sqltypes.NullType))
               and not isinstance(kind, sqltypes.Float)]
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True, yield_per=chunk_size)
        result = conn.execute(stmt, params)
        for part in result.partitions(chunk_size):
            rows = []
            for row in part:
                row = list(row)
                for i in convert:
                    row[i] = _cell(row[i])
                rows.append(tuple(row))
            yield rows


class _Writer:
    """One output: a Parquet file, a CSV or JSON Lines file, or stdout."""

    def __init__(self, fmt: str, out: Path | None, columns: list[tuple[str, Any]]):
        self.fmt, self.out = fmt, out
        self.names = [name for name, _ in columns]
        self.types = [_arrow_type(kind) for _, kind in columns] if fmt == "parquet" else []
        self.schema: pa.Schema | None = None
        self._fh: IO | None = None
        self._pq = None
        if fmt == "parquet":
            if out is None:
                raise ValueError("parquet needs an output file")
        else:
            self._fh = (open(out, "w", encoding="utf-8", newline="") if out is not None
                        else io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True))
            if fmt == "csv":
                self._csv = csv.writer(self._fh)
                self._csv.writerow(self.names)

    def arrow_schema(self, first_rows: list[tuple]) -> pa.Schema:
        """The reflected types, completed from the first rows where reflection had none."""
        import pyarrow as pa

        if self.schema is None:
            columns = list(zip(*first_rows)) if first_rows else [[] for _ in self.names]
            self.schema = pa.schema([pa.field(name, kind or _arrow_type_of(list(values)))
                                     for name, kind, values in zip(self.names, self.types, columns)])
        return self.schema

    def table(self, rows: list[tuple]) -> pa.Table:
        import pyarrow as pa

        schema = self.arrow_schema(rows)
        arrays = []
        for values, column, reflected in zip(zip(*rows) if rows else [[] for _ in self.names], schema, self.types):
            if reflected is None and pa.types.is_string(column.type):  # typed from its first value only
                values = [v if v is None or isinstance(v, str) else _text(v) for v in values]
            arrays.append(pa.array(list(values), type=column.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def write(self, rows: list[tuple]) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self._pq is None:
                self._pq = pq.ParquetWriter(str(self.out), self.arrow_schema(rows), compression="zstd")
            if rows:
                self._pq.write_table(self.table(rows))
        elif not rows:
            return
        elif self.fmt == "csv":
            self._csv.writerows([["" if v is None else v.isoformat() if isinstance(v, (datetime, date)) else v
                                  for v in row] for row in rows])
        else:
            self._fh.write("".join(
                json.dumps(dict(zip(self.names, row)), ensure_ascii=False, default=_json_default) + "\n"
                for row in rows))

    def close(self) -> None:
        if self.fmt == "parquet" and self._pq is None and self.out is not None:
            self.write([])  # no rows: still a file with the view's columns
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            if self.out is not None:
                self._fh.close()
            else:
                self._fh.flush()
                self._fh.detach()


def _text(value) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _day_of(row: tuple, published: int, extracted: int) -> str | None:
    when = row[published] or row[extracted]
    if isinstance(when, datetime):
        return when.astimezone(timezone.utc).date().isoformat()
    return str(when)[:10] if when else None


def _export_partitioned(engine: Engine, path: Path, columns, since, until, chunk_size: int) -> dict:
    """Parquet files under ``path/day=YYYY-MM-DD/``, written by pyarrow's dataset writer from
    the row stream (ordered by day, so one day's file is finished before the next starts)."""
    import pyarrow as pa
    import pyarrow.dataset as pa_dataset

    if path.exists():
        raise FileExistsError(f"{path} exists: --partition-by writes a new folder")
    tmp = path.with_name(path.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    names = [name for name, _ in columns]
    published, extracted = names.index("published_at"), names.index("extracted_at")
    writer = _Writer("parquet", tmp, columns)  # for the schema and the arrays; writes nothing itself
    counts = {"rows": 0, "chunks": 0}
    chunks = iter_chunks(engine, columns, since=since, until=until, chunk_size=chunk_size, by_day=True)
    first = next(chunks, [])
    schema = writer.arrow_schema(first).append(pa.field("day", pa.string()))

    def batches():
        for rows in [first, *chunks] if first else []:
            counts["rows"] += len(rows)
            counts["chunks"] += 1
            table = writer.table(rows).append_column("day", pa.array(
                [_day_of(row, published, extracted) for row in rows], type=pa.string()))
            yield from table.to_batches()

    try:
        pa_dataset.write_dataset(
            batches(), tmp, schema=schema, format="parquet", partitioning=["day"], partitioning_flavor="hive",
            file_options=pa_dataset.ParquetFileFormat().make_write_options(compression="zstd"),
            max_partitions=1_000_000, existing_data_behavior="overwrite_or_ignore", use_threads=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.mkdir(parents=True, exist_ok=True)  # no rows: an empty folder
    tmp.replace(path)
    files = sorted(path.rglob("*.parquet"))
    return {"rows": counts["rows"], "chunks": counts["chunks"], "format": "parquet", "out": str(path),
            "partitions": len({f.parent for f in files}), "bytes": sum(f.stat().st_size for f in files)}


def export(engine: Engine, out: str | Path | None, fmt: str = "parquet", since=None, until=None,
           chunk_size: int = 2000, partition_by: str | None = None) -> dict:
    """Write v_articles rows to ``out`` (``None`` or ``-``: stdout, csv/jsonl only); returns
    counts and the columns written (the view's, in its order)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if partition_by is not None and (partition_by not in PARTITIONS or fmt != "parquet" or out in (None, "-")):
        raise ValueError("partition_by='day' writes a folder of parquet files")
    columns = view_columns(engine)
    if partition_by:
        return dict(_export_partitioned(engine, Path(out), columns, since, until, chunk_size),
                    columns=[name for name, _ in columns])
    path = None if out in (None, "-") else Path(out)
    tmp = None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")  # a failed export never leaves a half file as OUT
    writer = _Writer(fmt, tmp, columns)
    rows = chunks = 0
    try:
        for chunk in iter_chunks(engine, columns, since=since, until=until, chunk_size=chunk_size):
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
            "bytes": path.stat().st_size if path else None, "columns": [name for name, _ in columns]}
