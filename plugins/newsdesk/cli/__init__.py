"""The ``newsdesk`` command: the same library functions the DAGs call."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from ..config import Settings
from . import analytics, backfill, ingest


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="warehouse URL (default: $NEWSDESK_DATABASE_URL or sqlite:///var/newsdesk.db)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)

    parser = argparse.ArgumentParser(prog="newsdesk", parents=[common], description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ingest.add_commands(sub, common)
    backfill.add_commands(sub, common)
    analytics.add_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
