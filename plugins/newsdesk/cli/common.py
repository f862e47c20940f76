"""What every ``newsdesk`` subcommand shares: settings, the warehouse engine, JSON output,
date arguments."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from ..config import Settings, UserError
from ..storage import db, views
from ..times import parse_since

SQLITE_MAGIC = b"SQLite format 3\x00"
BACKENDS = ("sqlite", "postgresql")


def settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database", None))


def database_url(args: argparse.Namespace) -> str:
    """The warehouse URL, checked for what the user can get wrong before a driver sees it
    (``UserError``: one line): an unknown scheme, a SQLite path under a regular file, a file
    that is no SQLite database."""
    url = settings(args).database_url
    try:
        parsed = make_url(db.normalise_url(url))
    except sa_exc.ArgumentError:
        raise UserError("database URL is not a URL (sqlite:///path/to/file.db or postgresql://user@host/db)") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise UserError(f"database URL: unknown scheme {parsed.drivername!r} (sqlite:///path/to/file.db or "
                        "postgresql://user@host/db)")
    path = db.sqlite_path(url)
    if path is not None:
        above = next((p for p in path.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise UserError(f"database URL: {path} is under {above}, which is a file, not a folder")
        if path.is_dir():
            raise UserError(f"database URL: {path} is a folder, not a SQLite file")
        if path.is_file() and path.stat().st_size > 0:
            try:
                with path.open("rb") as handle:
                    magic = handle.read(len(SQLITE_MAGIC))
            except OSError as exc:
                raise UserError(f"database URL: cannot read {path}: {exc.strerror or exc}") from None
            if magic != SQLITE_MAGIC:
                raise UserError(f"database URL: {path} is not a SQLite database")
    return url


def engine(args: argparse.Namespace) -> Engine:
    return db.get_engine(database_url(args))


def existing_engine(args: argparse.Namespace) -> Engine | None:
    """The warehouse as it is, not migrated; None for a SQLite file that does not exist yet
    (opening it would create it): for commands that must write nothing."""
    url = make_url(db.normalise_url(database_url(args)))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        return None
    return db.get_engine(url.render_as_string(hide_password=False))


def ready_engine(args: argparse.Namespace) -> Engine:
    """The warehouse, checked to be at this newsdesk's revision (``db.WarehouseNotReady``
    otherwise: main prints its one line). Only ``newsdesk db upgrade`` changes the schema."""
    warehouse = engine(args)
    db.require_current(warehouse)
    return warehouse


def loading_engine(args: argparse.Namespace) -> Engine:
    """``ready_engine`` for the commands that load data (import, backfill, feeds sync, poll --registry):
    where there is no warehouse yet it is created first (``db.create_if_new``), so that
    ``newsdesk import FILE --database URL`` works on a new URL; an existing warehouse must be
    at this newsdesk's revision, as for every command."""
    warehouse = engine(args)
    db.create_if_new(warehouse)
    db.require_current(warehouse)
    return warehouse


def reader_engine(args: argparse.Namespace) -> Engine:
    """``ready_engine`` for commands that only read (search, export, report): SQLite opened
    read-only (a mistyped path is an error, not a new empty warehouse; a running load is not
    waited for), PostgreSQL in read-only transactions, so a SELECT-only role is enough."""
    warehouse = db.get_engine(database_url(args), read_only=True)
    db.require_current(warehouse)
    with warehouse.connect() as conn:
        stale = views.outdated(conn)
    if stale:
        print(f"newsdesk: warning: views {', '.join(stale)} differ from this newsdesk's: "
              "run `newsdesk db upgrade`", file=sys.stderr)
    return warehouse


def print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str, sort_keys=True))


def positive_int(value: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def check_text(**values) -> None:
    """``UserError`` naming the first argument holding bytes the terminal's encoding could not
    decode (Python keeps them as lone surrogates, which no database accepts)."""
    for name, value in values.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and any("\ud800" <= c <= "\udfff" for c in item):
                shown = item.encode("utf-8", "replace")[:200]
                raise UserError(f"{name}: not valid text: undecodable bytes in {shown!r}")


def date_argument(value: str) -> datetime:
    """argparse type: YYYY-MM-DD (midnight UTC) or an ISO timestamp."""
    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def language_list(value: str | None) -> set[str] | None:
    """``en,fr`` -> {"en", "fr"}; None or empty -> None (every language)."""
    return {x.strip().lower() for x in value.split(",") if x.strip()} if value else None


def add_parser(sub, name: str, common: argparse.ArgumentParser, **kwargs) -> argparse.ArgumentParser:
    """A subcommand parser that takes the shared options (``--database``, ``-v``) too."""
    return sub.add_parser(name, parents=[common], **kwargs)


class Parser(argparse.ArgumentParser):
    """argparse, where a parser made with ``dash_words=True`` (search) takes ``-word`` as an
    argument unless it is one of its options: ``newsdesk search -buffer`` needs no ``--``."""

    def __init__(self, *args, dash_words: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.dash_words = dash_words

    def error(self, message: str):
        """One line naming the problem (argparse prints its usage first; --help has it)."""
        self.exit(2, f"{self.prog}: {' '.join(message.split())} (--help for usage)\n")

    def _parse_optional(self, arg_string):
        if (self.dash_words and arg_string[:1] == "-" and arg_string[1:2] != "-" and len(arg_string) > 1
                and arg_string not in self._option_string_actions):
            return None  # a positional argument
        return super()._parse_optional(arg_string)
