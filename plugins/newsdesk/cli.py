"""The ``newsdesk`` command: the same library functions the DAGs call."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .config import Settings


def _settings(args) -> Settings:
    return Settings.from_env(database_url=getattr(args, "database", None))


def _engine(args):
    from .storage import db

    return db.get_engine(_settings(args).database_url)


def _print(data, as_json: bool = True) -> None:
    print(json.dumps(data, indent=2, default=str, sort_keys=True))


def cmd_db_upgrade(args) -> int:
    from .storage import db

    engine = _engine(args)
    db.upgrade(engine, args.revision)
    print(f"warehouse at {engine.url.render_as_string(hide_password=True)} is at revision {args.revision}")
    return 0


def _ready_engine(args):
    from .storage import db

    engine = _engine(args)
    db.upgrade(engine)
    return engine


def cmd_feeds_sync(args) -> int:
    from . import pipeline

    _print(pipeline.sync_registry(_ready_engine(args), args.file))
    return 0


def cmd_poll(args) -> int:
    from . import pipeline

    engine = _ready_engine(args)
    stats = pipeline.run_round(engine, _settings(args), registry=args.registry)
    _print(stats)
    return 0


def cmd_import(args) -> int:
    from .archive.warc import import_warcs

    engine = _ready_engine(args)
    domains = args.domains.split(",") if args.domains else None
    if args.registry_only:
        from sqlalchemy import select
        from .storage import schema

        with engine.connect() as conn:
            domains = list(conn.execute(select(schema.sources.c.domain).where(schema.sources.c.in_registry.is_(True))).scalars())
    report = import_warcs(engine, _settings(args), args.files, domains=domains)
    _print(report)
    missing = [f for f, s in report["files"].items() if any("no such file" in e for e in s["errors"])]
    return 1 if missing and len(missing) == len(args.files) else 0


def cmd_stats(args) -> int:
    from . import pipeline

    _print(pipeline.warehouse_summary(_ready_engine(args)))
    return 0


def cmd_run(args) -> int:
    from .offline import run_offline

    return run_offline(_settings(args).database_url, use_airflow=not args.no_airflow)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="warehouse URL (default: $NEWSDESK_DATABASE_URL or sqlite:///var/newsdesk.db)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)

    parser = argparse.ArgumentParser(prog="newsdesk", parents=[common], description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_db = sub.add_parser("db", parents=[common], help="warehouse migrations")
    db_sub = p_db.add_subparsers(dest="db_command", required=True)
    p = db_sub.add_parser("upgrade", parents=[common], help="apply migrations and (re)create views")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_upgrade)

    p_feeds = sub.add_parser("feeds", parents=[common], help="the feed registry")
    feeds_sub = p_feeds.add_subparsers(dest="feeds_command", required=True)
    p = feeds_sub.add_parser("sync", parents=[common], help="sync a registry YAML file into the warehouse")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_feeds_sync)

    p = sub.add_parser("poll", parents=[common], help="one round: poll due feeds, fetch, extract, dedup")
    p.add_argument("--registry", type=Path, help="sync this registry file first")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("import", parents=[common], help="import WARC archives (every HTML response record)")
    p.add_argument("files", nargs="+")
    p.add_argument("--domains", help="only these domains (comma-separated)")
    p.add_argument("--registry-only", action="store_true", help="only domains of registry sources")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", parents=[common], help="warehouse counts")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("run", parents=[common], help="run news_ingest over the offline snapshot and summarise")
    p.add_argument("--no-airflow", action="store_true", help="run the stages directly instead of dag.test()")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
