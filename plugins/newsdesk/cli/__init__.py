# PYTHON_ARGCOMPLETE_OK  (argcomplete's marker: `eval "$(register-python-argcomplete newsdesk)"`)
"""The ``newsdesk`` command: the same library functions the DAGs call."""

from __future__ import annotations

import argparse
import logging
import sys

import argcomplete
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from .. import __version__
from ..config import Settings, UserError
from . import analytics, backfill, ingest, settings
from .common import Parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="warehouse URL (default: $NEWSDESK_DATABASE_URL or sqlite:///$NEWSDESK_HOME/newsdesk.db, "
                             "NEWSDESK_HOME defaulting to ./var)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)

    parser = Parser(prog="newsdesk", parents=[common], description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest.add_commands(sub, common)
    backfill.add_commands(sub, common)
    analytics.add_commands(sub, common)
    settings.add_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argcomplete.autocomplete(parser)  # answers the shell's completion request and exits; no-op otherwise
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # every option is checked before any work: a typo fails here, naming its variable
        Settings.from_env(database_url=getattr(args, "database", None))
        return args.func(args)
    except UserError as exc:  # a bad setting, file or value; a warehouse missing, behind, or held by a view
        print(f"newsdesk: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except (sa_exc.NoSuchModuleError, sa_exc.ArgumentError) as exc:
        if verbose:
            raise
        print(f"newsdesk: database URL: {one_line(str(exc))} (-v for the traceback)", file=sys.stderr)
        return 2
    except sa_exc.OperationalError as exc:
        if verbose:
            raise
        # an unreachable or refusing warehouse: one clear line, not a driver traceback
        reason = " ".join(str(exc.orig or exc).split())
        url = getattr(args, "database", None) or Settings.from_env().database_url
        print(f"newsdesk: warehouse {make_url(url).render_as_string(hide_password=True)}: {reason}"
              " (-v for the traceback)", file=sys.stderr)
        return 2


def one_line(text: str, limit: int = 2000) -> str:
    """A message as one line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


if __name__ == "__main__":
    sys.exit(main())
