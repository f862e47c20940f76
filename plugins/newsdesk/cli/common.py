"""What every ``newsdesk`` subcommand shares: settings, the warehouse engine, JSON output,
date arguments."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

from ..config import Settings
from ..storage import db, views
from ..times import parse_since


def settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database", None))


def engine(args: argparse.Namespace) -> Engine:
    return db.get_engine(settings(args).database_url)


def existing_engine(args: argparse.Namespace) -> Engine | None:
    """The warehouse as it is, not migrated; None for a SQLite file that does not exist yet
    (opening it would create it): for commands that must write nothing."""
    url = make_url(db.normalise_url(settings(args).database_url))
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
    warehouse = db.get_engine(settings(args).database_url, read_only=True)
    db.require_current(warehouse)
    with warehouse.connect() as conn:
        stale = views.outdated(conn)
    if stale:
        print(f"newsdesk: warning: views {', '.join(stale)} differ from this newsdesk's: "
              "run `newsdesk db upgrade`", file=sys.stderr)
    return warehouse


def print_json(data) -> None:
    print(json.dumps(data, indent=2, default=str, sort_keys=True))


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

    def _parse_optional(self, arg_string):
        if (self.dash_words and arg_string[:1] == "-" and arg_string[1:2] != "-" and len(arg_string) > 1
                and arg_string not in self._option_string_actions):
            return None  # a positional argument
        return super()._parse_optional(arg_string)
