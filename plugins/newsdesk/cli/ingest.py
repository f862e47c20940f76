"""``newsdesk db | feeds | poll | dedup | stats | run``: the warehouse and live ingestion."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import pipeline
from ..config import UserError
from ..dedup import reclean_learned, reset_cjk
from ..feeds import discover_feeds, enable_feed, feed_status, load_registry, registry_changes
from ..fetch import Fetcher, FetchError
from ..offline import run_offline
from ..storage import db
from .common import (
    add_parser,
    engine,
    existing_engine,
    loading_engine,
    positive_int,
    print_json,
    reader_engine,
    ready_engine,
    settings,
)


def _where(warehouse) -> str:
    return str(db.sqlite_path(warehouse) or warehouse.url.render_as_string(hide_password=True))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    warehouse = engine(args)
    done = db.upgrade(warehouse, args.revision, grant_reader=args.grant_reader)
    moved = f"from {done['from']} to {done['to']}" if done["from"] != done["to"] else f"already at {done['to']}"
    if done["from"] is None:
        moved = f"created at {done['to']}"
    print(f"warehouse {_where(warehouse)}: {moved}" + (" (newest)" if done["to"] == done["head"] else
                                                       f" (newest: {done['head']})"))
    if "note" in done:
        print(done["note"])
        return 0
    print(f"search index: {done['search_index']}")
    changed = {k: v for k, v in done["views"].items() if v and k not in ("unchanged", "blocked")}
    print("views: " + ("; ".join(f"{what} {', '.join(names)}" for what, names in changed.items()) or "unchanged"))
    if "reader" in done:
        print(f"role {done['reader']} may read every table and view (now and after later upgrades)")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    warehouse = engine(args)
    path = db.sqlite_path(warehouse)
    if path is not None and not path.exists():
        raise db.WarehouseNotReady(f"no SQLite warehouse at {path}")
    state = db.status(warehouse)
    if args.json:
        print_json(state)
        return 0
    print(f"revision {state['revision'] or 'none'}" + (" (newest)" if state["revision"] == state["head"] else
                                                        f"; this newsdesk's newest is {state['head']}"))
    if state["views_outdated"]:
        print(f"views to replace: {', '.join(state['views_outdated'])}")
    if not state["search_index_current"]:
        print("search index: to update (its definition changed)")
    if not state["current"]:
        print("run `newsdesk db upgrade`")
    return 0


def cmd_db_history(args: argparse.Namespace) -> int:
    path = db.sqlite_path(engine(args))
    rows = db.history(None if path is not None and not path.exists() else engine(args))
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        mark = "current" if row["current"] else "applied" if row["applied"] else "pending"
        print(f"{row['revision']}  {mark:<8} {row['title']}")
    return 0


def cmd_feeds_sync(args: argparse.Namespace) -> int:
    load_registry(args.file)  # a bad registry is refused before any warehouse is made
    if args.dry_run:
        print_json({"dry_run": True, **registry_changes(existing_engine(args), args.file)})
        return 0
    print_json(pipeline.sync_registry(loading_engine(args), args.file))
    return 0


def cmd_feeds_status(args: argparse.Namespace) -> int:
    rows = feed_status(reader_engine(args))
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
    refused: list[tuple[str, str]] = []
    with Fetcher(settings(args)) as fetcher:
        try:
            found = discover_feeds(args.url, fetcher, refused)
        except FetchError as exc:
            raise UserError(f"feeds discover: {exc}") from None
    for url in found:
        print(url)
    if refused and not found:
        raise UserError(f"feeds discover: {args.url} advertises only refused feeds: "
                        + "; ".join(f"{link}: {why}" for link, why in refused[:3]))
    for link, why in refused:
        print(f"newsdesk: skipped {link}: {why}", file=sys.stderr)
    return 0 if found else 1


def cmd_poll(args: argparse.Namespace) -> int:
    # with a registry to sync a new warehouse has work to do; without one a new path is a typo
    if args.registry:
        load_registry(args.registry)  # a bad registry is refused before any warehouse is made
    warehouse = loading_engine(args) if args.registry else ready_engine(args)
    print_json(pipeline.run_round(warehouse, settings(args), registry=args.registry))
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
    print_json(pipeline.warehouse_summary(reader_engine(args)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return run_offline(settings(args).database_url, use_airflow=not args.no_airflow)


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p_db = add_parser(sub, "db", common, help="warehouse migrations")
    db_sub = p_db.add_subparsers(dest="db_command", required=True)
    p = add_parser(db_sub, "upgrade", common,
                   help="apply migrations, then the search index and the views that changed (the only DDL)")
    p.add_argument("revision", nargs="?", default="head", help="stop at this revision (default: the newest)")
    p.add_argument("--grant-reader", metavar="ROLE",
                   help="PostgreSQL: let ROLE (created NOLOGIN if missing) SELECT every table and view, now and "
                        "later (sql/roles/reader.sql); e.g. newsdesk_reader")
    p.set_defaults(func=cmd_db_upgrade)
    p = add_parser(db_sub, "current", common, help="the warehouse's revision and what an upgrade would change")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_db_current)
    p = add_parser(db_sub, "history", common, help="every migration, newest first, and which the warehouse has")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_db_history)

    p_feeds = add_parser(sub, "feeds", common, help="the feed registry")
    feeds_sub = p_feeds.add_subparsers(dest="feeds_command", required=True)
    p = add_parser(feeds_sub, "sync", common, help="sync a registry YAML file into the warehouse")
    p.add_argument("file", type=Path)
    p.add_argument("--dry-run", action="store_true",
                   help="print the sources and feeds it would add, change, retire and deactivate; write nothing")
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
    p.add_argument("--limit", type=positive_int, help="at most this many articles")
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
