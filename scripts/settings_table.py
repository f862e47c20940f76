#!/usr/bin/env python3
"""Write the README's configuration table from the settings definition (``newsdesk.config.Settings``).

    .venv/bin/python scripts/settings_table.py           # rewrite the table in README.md
    .venv/bin/python scripts/settings_table.py --check   # exit 1 when README.md's table is stale

The table sits between two HTML comments in README.md; ``tests/test_settings.py`` fails when
it differs from what ``newsdesk config --markdown`` prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BEGIN = "<!-- settings table: generated from newsdesk.config.Settings by scripts/settings_table.py -->\n"
END = "<!-- end of settings table -->\n"


def table_in(text: str) -> str:
    """The generated block of ``text`` (between the markers)."""
    try:
        start = text.index(BEGIN) + len(BEGIN)
        return text[start:text.index(END, start)]
    except ValueError:
        raise SystemExit(f"{README}: no settings table markers ({BEGIN.strip()} ... {END.strip()})") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "plugins"))
    from newsdesk.config import markdown_table

    text = README.read_text(encoding="utf-8")
    current, wanted = table_in(text), markdown_table()
    if current == wanted:
        return 0
    if args.check:
        print(f"{README.name}: the settings table is stale; run scripts/settings_table.py", file=sys.stderr)
        return 1
    README.write_text(text.replace(BEGIN + current + END, BEGIN + wanted + END), encoding="utf-8")
    print(f"{README.name}: settings table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
