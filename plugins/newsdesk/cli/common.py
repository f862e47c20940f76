"""What every ``newsdesk`` subcommand shares: settings, the warehouse engine, JSON output,
date arguments."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from sqlalchemy.engine import Engine

from ..config import Settings
from ..storage import db
from ..times import parse_since


def settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database", None))


def engine(args: argparse.Namespace) -> Engine:
    return db.get_engine(settings(args).database_url)


def ready_engine(args: argparse.Namespace) -> Engine:
    """The warehouse, migrated to the current schema first."""
    warehouse = engine(args)
    db.upgrade(warehouse)
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
