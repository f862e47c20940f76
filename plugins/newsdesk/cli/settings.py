"""``newsdesk config``: the settings in effect (validated), or the table of every option."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit, urlunsplit

from ..config import FIELDS, markdown_table
from .common import add_parser, print_json, settings


def hide_password(url: str) -> str:
    """``scheme://user:***@host/...``: a URL as it may be shown."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def cmd_config(args: argparse.Namespace) -> int:
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    current = settings(args)
    values = {}
    for name, spec in FIELDS.items():
        value = getattr(current, name)
        values[spec.env] = hide_password(value) if spec.secret and isinstance(value, str) else value
    if args.json:
        print_json(values)
    else:
        for env, value in values.items():
            shown = "" if value is None else str(value).lower() if isinstance(value, bool) else value
            print(f"{env}={shown}")
    return 0


def add_commands(sub, common: argparse.ArgumentParser) -> None:
    p = add_parser(sub, "config", common,
                   help="the settings in effect (NEWSDESK_* variables, validated; passwords hidden)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true",
                   help="instead: the table of every option, as the README shows it (scripts/settings_table.py)")
    p.set_defaults(func=cmd_config)
