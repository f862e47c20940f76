"""``newsdesk import | backfill | reextract``: archives, sitemaps and stored pages."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from ..archive import locate
from ..archive.sitemap import backfill_sitemap
from ..archive.warc import ImportOptions, domains_from_spec, import_warcs, registry_domains
from ..config import UserError
from ..reextract import reextract
from ..times import parse_since
from .common import add_parser, language_list, loading_engine, positive_int, print_json, ready_engine, settings

STORE_RAW_HELP = ("keep a compressed copy of every page in the warehouse (default: raw_pages points at the "
                  "record in the archive, which re-extraction reads back)")


def cmd_import(args: argparse.Namespace) -> int:
    warehouse = loading_engine(args)
    domains = ImportOptions.normalise_domains(args.domains.split(",")) if args.domains else None
    if args.registry_only:
        domains = (domains or set()) | registry_domains(warehouse)
    options = ImportOptions(domains=domains, languages=language_list(args.languages), reprocess=args.reprocess,
                            workers=args.workers, batch_size=args.batch_size, progress=not args.quiet,
                            store_raw=args.store_raw)
    files = locate.expand_folders(args.files)
    report = import_warcs(warehouse, settings(args), files, options=options, run_dedup=not args.no_dedup)
    print_json(report)
    # Records set aside (skipped, with their reasons in each file's counts) do not fail the
    # import; a file that could not be read to its end does (a re-run resumes it).
    missing = [f for f, s in report["files"].items() if any("no such file" in e for e in s["errors"])]
    return 1 if not files or (missing and len(missing) == len(files)) or report["failed_files"] else 0


def _since(value: str | None, option: str):
    try:
        return parse_since(value)
    except ValueError as exc:
        raise UserError(f"{option}: {exc}") from None


def cmd_backfill_sitemap(args: argparse.Namespace) -> int:
    since = _since(args.since, "--since")
    report = backfill_sitemap(loading_engine(args), settings(args), args.source, since,
                              include_undated=args.include_undated, limit=args.limit,
                              sitemaps=args.sitemap or None, run_dedup=not args.no_dedup)
    print_json(report)
    return 0 if report["sitemaps"] else 1


def cmd_backfill_archive(args: argparse.Namespace) -> int:
    start = _since(args.from_date, "--from")
    end = _since(args.to_date, "--to") + timedelta(days=1) if args.to_date else start + timedelta(days=1)
    warehouse = loading_engine(args)
    files = locate.files_for_interval(args.root, start, end)
    options = ImportOptions(domains=domains_from_spec(args.domains, warehouse), languages=language_list(args.languages),
                            reprocess=args.reprocess, workers=args.workers, progress=not args.quiet,
                            store_raw=args.store_raw)
    report = import_warcs(warehouse, settings(args), files, options=options)
    report["interval"] = [start.isoformat(), end.isoformat()]
    print_json(report)
    return 1 if report["failed_files"] else 0


def cmd_reextract(args: argparse.Namespace) -> int:
    try:
        stats = reextract(ready_engine(args), settings(args), source=args.source, since=args.since,
                          only_outdated=not args.all, limit=args.limit)
    except ValueError as exc:  # unknown source, unparseable date
        print(f"newsdesk reextract: {exc}", file=sys.stderr)
        return 1
    stats.pop("changed_article_ids", None)
    print_json(stats)
    return 0


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = add_parser(sub, "import", common, help="import WARC archives (every HTML response record)")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="WARC/ARC files (.gz, .zst or plain), or folders: every such file below them")
    p.add_argument("--domains", help="only these domains (comma-separated)")
    p.add_argument("--registry-only", action="store_true", help="only domains of registry sources")
    p.add_argument("--languages", help="only articles in these languages (comma-separated ISO 639-1 codes)")
    p.add_argument("--reprocess", action="store_true", help="re-import files already imported completely")
    p.add_argument("--workers", type=int, default=None,
                   help="extraction processes (default: one per CPU, $NEWSDESK_ARCHIVE_WORKERS; 0: in-process)")
    p.add_argument("--batch-size", type=positive_int, default=100, help="records per warehouse transaction")
    p.add_argument("--store-raw", action="store_true", help=STORE_RAW_HELP)
    p.add_argument("--no-dedup", action="store_true",
                   help="leave the articles pending for a later dedup run (newsdesk poll, the DAGs)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_import)

    p_backfill = add_parser(sub, "backfill", common, help="historical backfills (sitemaps, archive folders)")
    backfill_sub = p_backfill.add_subparsers(dest="backfill_command", required=True)
    p = add_parser(backfill_sub, "sitemap", common,
                   help="enqueue a source's (news) sitemap URLs since a date, then fetch, extract, dedup")
    p.add_argument("source", help="registry source name, domain or homepage URL")
    p.add_argument("--since", help="only URLs dated on/after this date (YYYY-MM-DD or ISO timestamp)")
    p.add_argument("--sitemap", action="append", help="sitemap URL to start from (default: robots.txt, then "
                                                      "/news-sitemap.xml and /sitemap.xml); repeatable")
    p.add_argument("--include-undated", action="store_true", help="also take undated entries of plain sitemaps")
    p.add_argument("--limit", type=positive_int, help="at most this many URLs")
    p.add_argument("--no-dedup", action="store_true", help="leave the articles pending for a later dedup run")
    p.set_defaults(func=cmd_backfill_sitemap)
    p = add_parser(backfill_sub, "archive", common,
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

    p = add_parser(sub, "reextract", common,
                   help="extract stored pages again with the current extractor (in place), then dedup")
    p.add_argument("--source", help="only this source (registry name or domain)")
    p.add_argument("--since", help="only pages fetched on/after this date (YYYY-MM-DD or ISO timestamp)")
    p.add_argument("--all", action="store_true",
                   help="every stored page (also failed extractions), not only those from older extractor versions")
    p.add_argument("--limit", type=positive_int, help="at most this many pages")
    p.set_defaults(func=cmd_reextract)
