"""Which archive files belong to a time interval, under a local folder or any fsspec URL.

Layouts understood (both may be mixed under one root):
- CC-NEWS: ``ROOT/crawl-data/CC-NEWS/YYYY/MM/CC-NEWS-YYYYMMDDHHMMSS-NNNNN.warc.gz`` (also ``ROOT/YYYY/MM/...``)
- flat: ``ROOT/<anything>-YYYYMMDDHHMMSS[-NNNNN].warc[.gz]``

A file belongs to the interval ``[start, end)`` by the UTC timestamp in its name
(CC-NEWS names a file after the time its crawl segment started).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import fsspec

_SUFFIX = r"\.(?:warc|arc)(?:\.gz|\.zst)?$"
NAME = re.compile(r"(?<!\d)(\d{14})(?:-\d+)?" + _SUFFIX, re.I)
ARCHIVE_SUFFIX = re.compile(_SUFFIX, re.I)


def expand_folders(paths: list[str]) -> list[str]:
    """``paths`` with each folder (local or fsspec URL) replaced by the archive files
    (``.warc``, ``.warc.gz``, ``.warc.zst``, ``.arc``, ``.arc.gz``) anywhere below it, in name
    order; files and paths that do not exist are kept as given (the import reports them)."""
    out: list[str] = []
    for path in map(str, paths):
        try:
            fs, base = fsspec.core.url_to_fs(path)
            folder = fs.isdir(base)
        except (OSError, ValueError):
            folder = False
        if not folder:
            out.append(path)
            continue
        remote = "://" in path and not path.startswith("file://")
        found = [fs.unstrip_protocol(f) if remote else f for f in fs.find(base) if ARCHIVE_SUFFIX.search(f)]
        out.extend(sorted(found))
    return out


def timestamp_of(name: str) -> datetime | None:
    match = NAME.search(name.rsplit("/", 1)[-1])
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _months(start: datetime, end: datetime):
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def files_for_interval(root: str, start: datetime, end: datetime) -> list[str]:
    """Archive files under ``root`` whose name timestamp is in ``[start, end)``, sorted by time."""
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    root = str(root).rstrip("/")
    fs, base = fsspec.core.url_to_fs(root)
    remote = "://" in root and not root.startswith("file://")
    dirs = [base]
    for y, m in _months(start, end):
        dirs += [f"{base}/crawl-data/CC-NEWS/{y}/{m:02d}", f"{base}/CC-NEWS/{y}/{m:02d}", f"{base}/{y}/{m:02d}"]
    found: dict[str, datetime] = {}
    for d in dirs:
        try:
            if not fs.isdir(d):
                continue
            entries = fs.ls(d, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            ts = timestamp_of(entry)
            if ts is None or not (start <= ts < end):
                continue
            path = fs.unstrip_protocol(entry) if remote else entry
            found[path] = ts
    return sorted(found, key=lambda p: (found[p], p))
