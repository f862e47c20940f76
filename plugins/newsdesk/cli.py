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


def cmd_feeds_status(args) -> int:
    from .feeds import feed_status

    rows = feed_status(_ready_engine(args))
    if args.json:
        _print(rows)
        return 0
    print(f"{'id':>4}  {'health':<9} {'last':>4} {'fails':>5} {'polls7d':>7} {'new7d':>6}  next poll                  url")
    for r in rows:
        nxt = r["next_poll_at"].strftime("%Y-%m-%d %H:%M") if r["next_poll_at"] else "due"
        print(f"{r['id']:>4}  {r['health']:<9} {r['last_status'] or '-':>4} {r['consecutive_failures']:>5} "
              f"{r['polls_7d']:>7} {r['new_entries_7d']:>6}  {nxt:<26} {r['url']}")
        if r["health"] in ("failing", "disabled") and (r["last_error"] or r["disabled_reason"]):
            print(f"{'':>6}{r['disabled_reason'] or r['last_error']}")
    return 0


def cmd_feeds_enable(args) -> int:
    from .feeds import enable_feed

    engine = _ready_engine(args)
    missing = [f for f in args.feeds if not enable_feed(engine, int(f) if f.isdigit() else f)]
    for feed in missing:
        print(f"no such feed: {feed}", file=sys.stderr)
    print(f"enabled {len(args.feeds) - len(missing)} feed(s); they are due now")
    return 1 if missing else 0


def cmd_feeds_discover(args) -> int:
    from .feeds import discover_feeds
    from .fetch import Fetcher

    with Fetcher(_settings(args)) as fetcher:
        found = discover_feeds(args.url, fetcher)
    for url in found:
        print(url)
    return 0 if found else 1


def cmd_poll(args) -> int:
    from . import pipeline

    engine = _ready_engine(args)
    stats = pipeline.run_round(engine, _settings(args), registry=args.registry)
    _print(stats)
    return 0


def cmd_import(args) -> int:
    from .archive.locate import expand_folders
    from .archive.warc import ImportOptions, import_warcs, registry_domains

    engine = _ready_engine(args)
    domains = ImportOptions.normalise_domains(args.domains.split(",")) if args.domains else None
    if args.registry_only:
        domains = (domains or set()) | registry_domains(engine)
    languages = {x.strip().lower() for x in args.languages.split(",") if x.strip()} if args.languages else None
    options = ImportOptions(domains=domains, languages=languages, reprocess=args.reprocess, workers=args.workers,
                            batch_size=args.batch_size, progress=not args.quiet, store_raw=args.store_raw)
    files = expand_folders(args.files)
    report = import_warcs(engine, _settings(args), files, options=options, run_dedup=not args.no_dedup)
    _print(report)
    missing = [f for f, s in report["files"].items() if any("no such file" in e for e in s["errors"])]
    return 1 if not files or (missing and len(missing) == len(files)) else 0


def cmd_backfill_sitemap(args) -> int:
    from .archive.sitemap import backfill_sitemap, parse_since

    report = backfill_sitemap(_ready_engine(args), _settings(args), args.source, parse_since(args.since),
                              include_undated=args.include_undated, limit=args.limit,
                              sitemaps=args.sitemap or None, run_dedup=not args.no_dedup)
    _print(report)
    return 0 if report["sitemaps"] else 1


def cmd_backfill_archive(args) -> int:
    from datetime import timedelta

    from .archive import locate
    from .archive.sitemap import parse_since
    from .archive.tasks import parse_domains
    from .archive.warc import ImportOptions, import_warcs

    engine = _ready_engine(args)
    start = parse_since(args.from_date)
    end = parse_since(args.to_date) + timedelta(days=1) if args.to_date else start + timedelta(days=1)
    files = locate.files_for_interval(args.root, start, end)
    languages = {x.strip().lower() for x in args.languages.split(",") if x.strip()} if args.languages else None
    options = ImportOptions(domains=parse_domains(args.domains, engine), languages=languages,
                            reprocess=args.reprocess, workers=args.workers, progress=not args.quiet,
                            store_raw=args.store_raw)
    report = import_warcs(engine, _settings(args), files, options=options)
    report["interval"] = [start.isoformat(), end.isoformat()]
    _print(report)
    return 1 if report["failed_files"] else 0


def cmd_reextract(args) -> int:
    from .extract.reextract import reextract

    try:
        stats = reextract(_ready_engine(args), _settings(args), source=args.source, since=args.since,
                          only_outdated=not args.all, limit=args.limit)
    except ValueError as exc:  # unknown source, unparseable date
        print(f"newsdesk reextract: {exc}", file=sys.stderr)
        return 1
    stats.pop("changed_article_ids", None)
    _print(stats)
    return 0


def cmd_dedup(args) -> int:
    from . import pipeline
    from .dedup import reclean_learned, reset_cjk

    engine = _ready_engine(args)
    if args.reclean:
        _print(reclean_learned(engine))
    elif args.redo_cjk:
        reset = reset_cjk(engine)
        _print({"reset": reset, **pipeline.dedup(engine, _settings(args), limit=args.limit)})
    else:
        _print(pipeline.dedup(engine, _settings(args), limit=args.limit))
    return 0


def cmd_stats(args) -> int:
    from . import pipeline

    _print(pipeline.warehouse_summary(_ready_engine(args)))
    return 0


def cmd_run(args) -> int:
    from .offline import run_offline

    return run_offline(_settings(args).database_url, use_airflow=not args.no_airflow)


STORE_RAW_HELP = ("keep a compressed copy of every page in the warehouse (default: raw_pages points at the "
                  "record in the archive, which re-extraction reads back)")


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

    p = feeds_sub.add_parser("status", parents=[common], help="health, schedule and failures of every feed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds_status)
    p = feeds_sub.add_parser("enable", parents=[common], help="re-enable feeds disabled after repeated failures")
    p.add_argument("feeds", nargs="+", metavar="ID_OR_URL")
    p.set_defaults(func=cmd_feeds_enable)
    p = feeds_sub.add_parser("discover", parents=[common], help="find the feeds a homepage advertises")
    p.add_argument("url")
    p.set_defaults(func=cmd_feeds_discover)

    p = sub.add_parser("poll", parents=[common], help="one round: poll due feeds, fetch, extract, dedup")
    p.add_argument("--registry", type=Path, help="sync this registry file first")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("import", parents=[common], help="import WARC archives (every HTML response record)")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="WARC/ARC files (.gz, .zst or plain), or folders: every such file below them")
    p.add_argument("--domains", help="only these domains (comma-separated)")
    p.add_argument("--registry-only", action="store_true", help="only domains of registry sources")
    p.add_argument("--languages", help="only articles in these languages (comma-separated ISO 639-1 codes)")
    p.add_argument("--reprocess", action="store_true", help="re-import files already imported completely")
    p.add_argument("--workers", type=int, default=None,
                   help="extraction processes (default: one per CPU, $NEWSDESK_ARCHIVE_WORKERS; 0: in-process)")
    p.add_argument("--batch-size", type=int, default=100, help="records per warehouse transaction")
    p.add_argument("--store-raw", action="store_true", help=STORE_RAW_HELP)
    p.add_argument("--no-dedup", action="store_true",
                   help="leave the articles pending for a later dedup run (newsdesk poll, the DAGs)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_import)

    p_backfill = sub.add_parser("backfill", parents=[common], help="historical backfills (sitemaps, archive folders)")
    backfill_sub = p_backfill.add_subparsers(dest="backfill_command", required=True)
    p = backfill_sub.add_parser("sitemap", parents=[common],
                                help="enqueue a source's (news) sitemap URLs since a date, then fetch, extract, dedup")
    p.add_argument("source", help="registry source name, domain or homepage URL")
    p.add_argument("--since", help="only URLs dated on/after this date (YYYY-MM-DD or ISO timestamp)")
    p.add_argument("--sitemap", action="append", help="sitemap URL to start from (default: robots.txt, then "
                                                      "/news-sitemap.xml and /sitemap.xml); repeatable")
    p.add_argument("--include-undated", action="store_true", help="also take undated entries of plain sitemaps")
    p.add_argument("--limit", type=int, help="at most this many URLs")
    p.add_argument("--no-dedup", action="store_true", help="leave the articles pending for a later dedup run")
    p.set_defaults(func=cmd_backfill_sitemap)
    p = backfill_sub.add_parser("archive", parents=[common],
                                help="import the WARC files of a date range from a folder or fsspec URL (CC-NEWS layout or flat)")
    p.add_argument("--root", required=True, help="folder or URL (s3://, gs://, https://); default layout CC-NEWS")
    p.add_argument("--from", dest="from_date", required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="to_date", help="last day, inclusive (default: the first day)")
    p.add_argument("--domains", default="all", help="registry | all (default) | comma-separated domains")
    p.add_argument("--languages", help="comma-separated ISO 639-1 codes")
    p.add_argument("--reprocess", action="store_true", help="re-import files already done")
    p.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    p.add_argument("--store-raw", action="store_true", help=STORE_RAW_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_backfill_archive)

    p = sub.add_parser("reextract", parents=[common],
                       help="extract stored pages again with the current extractor (in place), then dedup")
    p.add_argument("--source", help="only this source (registry name or domain)")
    p.add_argument("--since", help="only pages fetched on/after this date (YYYY-MM-DD or ISO timestamp)")
    p.add_argument("--all", action="store_true",
                   help="every stored page (also failed extractions), not only those from older extractor versions")
    p.add_argument("--limit", type=int, help="at most this many pages")
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser("dedup", parents=[common],
                       help="cluster the pending articles (after import --no-dedup, or beside the DAGs)")
    p.add_argument("--limit", type=int, help="at most this many articles")
    p.add_argument("--reclean", action="store_true",
                   help="instead: clean again the articles whose clean text kept a line their site has "
                        "learned as boilerplate since (warehouses deduplicated by earlier versions)")
    p.add_argument("--redo-cjk", action="store_true",
                   help="instead: deduplicate again every article with Chinese or Japanese text (warehouses "
                        "deduplicated before their characters became tokens, 2026-11-27)")
    p.set_defaults(func=cmd_dedup)

    p = sub.add_parser("stats", parents=[common], help="warehouse counts")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("run", parents=[common], help="run news_ingest over the offline snapshot and summarise")
    p.add_argument("--no-airflow", action="store_true", help="run the stages directly instead of dag.test()")
    p.set_defaults(func=cmd_run)

    from .analytics.cli import add_commands as add_analytics_commands  # search, export, report, rollup
    add_analytics_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except sa_exc.OperationalError as exc:
        if verbose:
            raise
        # an unreachable or refusing warehouse: one clear line, not a driver traceback
        reason = " ".join(str(exc.orig or exc).split())
        url = getattr(args, "database", None) or Settings.from_env().database_url
        print(f"newsdesk: warehouse {make_url(url).render_as_string(hide_password=True)}: {reason}"
              " (-v for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
