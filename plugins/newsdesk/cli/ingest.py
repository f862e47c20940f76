"""``newsdesk db | feeds | poll | dedup | stats | run``: the warehouse and live ingestion."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import pipeline
from ..dedup import reclean_learned, reset_cjk
from ..feeds import discover_feeds, enable_feed, feed_status
from ..fetch import Fetcher
from ..offline import run_offline
from ..storage import db
from .common import add_parser, engine, print_json, ready_engine, settings


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    warehouse = engine(args)
    db.upgrade(warehouse, args.revision)
    print(f"warehouse at {warehouse.url.render_as_string(hide_password=True)} is at revision {args.revision}")
    return 0


def cmd_feeds_sync(args: argparse.Namespace) -> int:
    print_json(pipeline.sync_registry(ready_engine(args), args.file))
    return 0


def cmd_feeds_status(args: argparse.Namespace) -> int:
    rows = feed_status(ready_engine(args))
    if args.json:
        print_json(rows)
        return 0
    print(
        f"{'id':>4}  {'health':<9} {'last':>4} {'fails':>5} {'polls7d':>7} {'new7d':>6}  next poll                  url"
    )
    for r in rows:
        nxt = r["next_poll_at"].strftime("%Y-%m-%d %H:%M") if r["next_poll_at"] else "due"
        print(f"{r['id']:>4}  {r['health']:<9} {r['last_status'] or '-':>4} {r['consecutive_failures']:>5} "
              f"{r['polls_7d']:>7} {r['new_entries_7d']:>6}  {nxt:<26} {r['url']}")
        if r["health"] in ("failing", "disabled") and (r["last_error"] or r["disabled_reason"]):
            print(f"{'':>6}{r['disabled_reason'] or r['last_error']}")
    return 0


def cmd_feeds_enable(args: argparse.Namespace) -> int:
    warehouse = ready_engine(args)
    missing = [f for f in args.feeds if not enable_feed(warehouse, int(f) if f.isdigit() else f)]
    for feed in missing:
        print(f"no such feed: {feed}", file=sys.stderr)
    print(f"enabled {len(args.feeds) - len(missing)} feed(s); they are due now")
    return 1 if missing else 0


def cmd_feeds_discover(args: argparse.Namespace) -> int:
    with Fetcher(settings(args)) as fetcher:
        found = discover_feeds(args.url, fetcher)
    for url in found:
        print(url)
    return 0 if found else 1


def cmd_poll(args: argparse.Namespace) -> int:
    print_json(pipeline.run_round(ready_engine(args), settings(args), registry=args.registry))
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    warehouse = ready_engine(args)
    if args.reclean:
        print_json(reclean_learned(warehouse))
    elif args.redo_cjk:
        reset = reset_cjk(warehouse)
        print_json({"reset": reset, **pipeline.dedup(warehouse, settings(args), limit=args.limit)})
    else:
        print_json(pipeline.dedup(warehouse, settings(args), limit=args.limit))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    print_json(pipeline.warehouse_summary(ready_engine(args)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return run_offline(settings(args).database_url, use_airflow=not args.no_airflow)


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p_db = add_parser(sub, "db", common, help="warehouse migrations")
    db_sub = p_db.add_subparsers(dest="db_command", required=True)
    p = add_parser(db_sub, "upgrade", common, help="apply migrations and (re)create views")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_upgrade)

    p_feeds = add_parser(sub, "feeds", common, help="the feed registry")
    feeds_sub = p_feeds.add_subparsers(dest="feeds_command", required=True)
    p = add_parser(feeds_sub, "sync", common, help="sync a registry YAML file into the warehouse")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_feeds_sync)
    p = add_parser(feeds_sub, "status", common, help="health, schedule and failures of every feed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds_status)
    p = add_parser(feeds_sub, "enable", common, help="re-enable feeds disabled after repeated failures")
    p.add_argument("feeds", nargs="+", metavar="ID_OR_URL")
    p.set_defaults(func=cmd_feeds_enable)
    p = add_parser(feeds_sub, "discover", common, help="find the feeds a homepage advertises")
    p.add_argument("url")
    p.set_defaults(func=cmd_feeds_discover)

    p = add_parser(sub, "poll", common, help="one round: poll due feeds, fetch, extract, dedup")
    p.add_argument("--registry", type=Path, help="sync this registry file first")
    p.set_defaults(func=cmd_poll)

    p = add_parser(
        sub, "dedup", common, help="cluster the pending articles (after import --no-dedup, or beside the DAGs)"
    )
    p.add_argument("--limit", type=int, help="at most this many articles")
    p.add_argument("--reclean", action="store_true",
                   help="instead: clean again the articles whose clean text kept a line their site has "
                        "learned as boilerplate since (warehouses deduplicated by earlier versions)")
    p.add_argument("--redo-cjk", action="store_true",
                   help="instead: deduplicate again every article with Chinese or Japanese text (warehouses "
                        "deduplicated before their characters became tokens of their own)")
    p.set_defaults(func=cmd_dedup)

    p = add_parser(sub, "stats", common, help="warehouse counts")
    p.set_defaults(func=cmd_stats)

    p = add_parser(sub, "run", common, help="run news_ingest over the offline snapshot and summarise")
    p.add_argument("--no-airflow", action="store_true", help="run the stages directly instead of dag.test()")
    p.set_defaults(func=cmd_run)
