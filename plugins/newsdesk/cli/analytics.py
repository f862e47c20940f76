"""``newsdesk search | export | report | rollup``: the analysts' subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..analytics.export import export
from ..analytics.report import write_report
from ..analytics.rollup import refresh_all
from ..analytics.search import format_stories, search
from .common import add_parser, check_text, date_argument, positive_int, reader_engine, ready_engine


def cmd_search(args: argparse.Namespace) -> int:
    check_text(query=args.query, source=args.source, language=args.language)
    stories = search(reader_engine(args), " ".join(args.query), since=args.since, source=args.source,
                     language=args.language, limit=args.limit)
    if args.json:
        print(json.dumps([s.as_dict() for s in stories], indent=2, ensure_ascii=False, default=str))
    else:
        print(format_stories(stories))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    to_stdout = args.out == "-"
    fmt = args.format or ("csv" if to_stdout else {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(
        Path(args.out).suffix.lower(), "parquet"))
    problem = None
    if to_stdout and fmt == "parquet":
        problem = "parquet needs a file or folder, not '-' (stdout takes csv or jsonl)"
    elif args.partition_by and (fmt != "parquet" or to_stdout):
        problem = "--partition-by writes a folder of parquet files"
    elif args.partition_by and Path(args.out).exists():
        problem = f"{args.out} exists: --partition-by writes a new folder"
    if problem:
        print(f"newsdesk export: {problem}", file=sys.stderr)
        return 2
    stats = export(reader_engine(args), args.out, fmt=fmt, since=args.since, until=args.until,
                   chunk_size=args.chunk_size, partition_by=args.partition_by)
    print(json.dumps(stats), file=sys.stderr if to_stdout else sys.stdout)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    print(json.dumps(write_report(reader_engine(args), args.out, since=args.since, title=args.title), indent=2))
    return 0


def cmd_rollup(args: argparse.Namespace) -> int:
    print(json.dumps(refresh_all(ready_engine(args), full=args.full), indent=2))
    return 0


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = add_parser(sub, "search", common, dash_words=True, help="full-text search: ranked stories, copies collapsed")
    p.add_argument("query", nargs="+", help='words (all must match), "a phrase", OR, -word or NOT word, prefix*')
    p.add_argument("--since", type=date_argument, metavar="DATE", help="published at or after (YYYY-MM-DD or ISO)")
    p.add_argument("--source", help="only articles of this source (its name, host or publisher)")
    p.add_argument("--language", help="only articles in this language (ISO 639-1, prefix match)")
    p.add_argument("--limit", type=positive_int, default=20, help="at most this many stories (default 20)")
    p.add_argument("--json", action="store_true", help="JSON output, with each story's copies")
    p.set_defaults(func=cmd_search)

    p = add_parser(sub, "export", common, help="export v_articles rows (streamed) to a file")
    p.add_argument("out", help="output file, or folder with --partition-by ('-': stdout, csv unless --format jsonl)")
    p.add_argument("--since", type=date_argument, metavar="DATE", help="published at or after")
    p.add_argument("--until", type=date_argument, metavar="DATE", help="published before")
    p.add_argument("--format", choices=["parquet", "csv", "jsonl"],
                   help="default: from OUT's suffix, else parquet (csv for '-')")
    p.add_argument("--partition-by", choices=["day"],
                   help="parquet: OUT is a folder with one file per UTC day (day=YYYY-MM-DD/), for large exports")
    p.add_argument("--chunk-size", type=positive_int, default=2000, help="rows per fetch and per write")
    p.set_defaults(func=cmd_export)

    p = add_parser(sub, "report", common, help="a self-contained HTML report with charts")
    p.add_argument("--since", type=date_argument, metavar="DATE", help="default: 30 days ago")
    p.add_argument("--out", default="report.html", type=Path)
    p.add_argument("--title")
    p.set_defaults(func=cmd_report)

    p = add_parser(sub, "rollup", common, help="refresh the aggregate tables (daily_volume)")
    p.add_argument("--full", action="store_true", help="rebuild everything, not only changed days")
    p.set_defaults(func=cmd_rollup)
