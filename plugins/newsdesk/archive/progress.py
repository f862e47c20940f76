"""Per-file import progress in the warehouse (``archive_files``) and on the terminal."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..storage import loads, schema
from ..storage.values import fit_row

T = schema.archive_files


@dataclass
class FileProgress:
    """Counters of one archive file, as saved in ``archive_files`` (cumulative over attempts)."""

    path: str
    size: int | None = None
    next_offset: int = 0
    records: int = 0
    pages: int = 0
    articles: int = 0
    already_present: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    attempts: int = 0
    status: str = "running"
    id: int | None = None

    def restart_pass(self) -> None:
        """Read the file again from its start (a whole-file gzip stream cannot be resumed in the
        middle): the counters then describe that pass, in which what earlier attempts wrote is
        ``already_present``; errors and attempts are kept."""
        self.next_offset = self.records = self.pages = self.articles = self.already_present = 0
        self.skipped = Counter()

    def as_dict(self) -> dict:
        return {
            "status": self.status, "records": self.records, "pages": self.pages, "articles": self.articles,
            "already_present": self.already_present, "skipped": dict(sorted(self.skipped.items())),
            "errors": list(self.errors), "next_offset": self.next_offset, "size": self.size,
            "seconds": round(self.seconds, 3), "attempts": self.attempts,
            "records_per_s": round(self.records / self.seconds, 1) if self.seconds else None,
        }

    def values(self) -> dict:
        return dict(size=self.size, status=self.status, next_offset=self.next_offset, records=self.records,
                    pages=self.pages, articles=self.articles, already_present=self.already_present,
                    skipped=dict(self.skipped), errors=self.errors[-50:], seconds=self.seconds,
                    attempts=self.attempts)


def load(engine: Engine, path: str) -> FileProgress | None:
    with engine.connect() as conn:
        row = conn.execute(select(T).where(T.c.path == path)).first()
    if row is None:
        return None
    return FileProgress(path=row.path, size=row.size, next_offset=row.next_offset or 0, records=row.records or 0,
                        pages=row.pages or 0, articles=row.articles or 0, already_present=row.already_present or 0,
                        skipped=Counter(row.skipped or {}), errors=list(row.errors or []), seconds=row.seconds or 0.0,
                        attempts=row.attempts or 0, status=row.status, id=row.id)


def start(engine: Engine, prog: FileProgress, run_key: str | None) -> None:
    now = loads.utcnow()
    prog.status = "running"
    prog.attempts += 1
    with engine.begin() as conn:
        values = prog.values() | dict(run_key=run_key, updated_at=now, finished_at=None)
        if prog.id is None:
            loads.insert_ignore(conn, T, [dict(values, path=prog.path, started_at=now)], ["path"])
            prog.id = conn.execute(select(T.c.id).where(T.c.path == prog.path)).scalar_one()
        conn.execute(update(T).where(T.c.id == prog.id).values(**fit_row(T, dict(values, started_at=now))))


def save(conn: Connection, prog: FileProgress, finished: bool = False) -> None:
    """Save counters and the resume offset; call inside the transaction that wrote the batch."""
    now = loads.utcnow()
    extra = {"finished_at": now} if finished else {}
    # errors quote what records held (a NUL in a target URI): stored as both databases accept
    conn.execute(update(T).where(T.c.id == prog.id).values(**fit_row(T, dict(prog.values(), updated_at=now,
                                                                             **extra))))


class Reporter:
    """Records, rate and ETA on stderr, at most every ``interval`` seconds."""

    def __init__(self, enabled: bool, stream: TextIO | None = None, interval: float = 2.0):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0

    def update(self, label: str, records: int, pages: int, started: float, offset: int, first_offset: int,
               size: int | None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - started, 1e-6)
        rate = records / elapsed
        eta = ""
        if size and offset > first_offset:
            done = (offset - first_offset) / max(size - first_offset, 1)
            if 0 < done < 1:
                eta = f", {done:5.1%} of file, ETA {_duration(elapsed / done - elapsed)}"
            elif done >= 1:
                eta = ", 100% of file"
        print(f"[newsdesk import] {label}: {records} records, {pages} pages, {rate:.1f} records/s{eta}",
              file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"
