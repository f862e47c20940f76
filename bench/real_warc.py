"""A WARC of real news pages and their republications, for bench/archive.py.

Originals: the pages of the extraction dev set (``../shared/data/extraction-dev``: ~90
publishers, ~20 languages, with their crawl dates; read at run time, never copied into the
repository) and the HTML article pages of the offline snapshot (``seeds/snapshot``). Each
repetition ``r`` writes, for every original, under URLs of its own:

- ``repeat``: the page again on its own site (a new path), with a per-record nonce in a
  script, as real pages differ by ads and tokens: no two records have the same bytes;
- ``boilerplate``: republished on one of several sites, each adding its own promo
  paragraphs and a navigation block, with an attribution line;
- ``truncated``: the first 40-75 % of the article's paragraphs, then "Continue reading at";
- ``headline``: the headline repeated as the first paragraph and a "Source:" line.

Records are dated after the original's crawl (hours to days later), in a deterministic
shuffled order within each repetition. Variants are byte edits around ``<p>`` elements, so
the page's encoding is untouched.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEV_SET = REPO.parent.parent / "shared" / "data" / "extraction-dev"
if not DEV_SET.exists():  # the integration checkout: /work/main -> /work/shared
    DEV_SET = REPO.parent / "shared" / "data" / "extraction-dev"
SNAPSHOT = REPO / "seeds" / "snapshot"

VARIANTS = ("repeat", "boilerplate", "truncated", "headline")
REPUBLISHERS = [f"{name}.example" for name in (
    "metro-wire", "daily-digest", "global-reprint", "newsroom-hub", "coastal-courier", "the-aggregator", "citypaper")]
_PARAGRAPH = re.compile(rb"<p[\s>][^<]*(?:<(?!/p>)[^<]*)*</p>", re.I)
_TAG = re.compile(rb"<[^>]+>")


@dataclass
class Original:
    key: str
    url: str
    body: bytes
    date: datetime
    title: str


def _date(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def originals(dev_set: Path = DEV_SET, snapshot: Path = SNAPSHOT) -> list[Original]:
    out = []
    pages = json.loads((dev_set / "pages.json").read_text())
    for key in sorted(pages):
        meta = pages[key]
        body = gzip.decompress((dev_set / "html" / f"{key}.html.gz").read_bytes())
        crawled = _date(meta.get("crawl_date"), datetime(2025, 1, 1, tzinfo=timezone.utc))
        out.append(Original(key, meta["url"], body, crawled, meta.get("title") or ""))
    manifest = yaml.safe_load((snapshot / "manifest.yaml").read_text())
    for entry in manifest["urls"]:
        if entry.get("status", 200) != 200 or "html" not in entry.get("content_type", ""):
            continue
        body = (snapshot / entry["file"]).read_bytes()
        if len(_paragraphs(body)) < 2:  # index pages, error pages: not articles
            continue
        match = re.search(rb"<title>(.*?)</title>", body, re.S | re.I)
        title = match.group(1).decode("utf-8", "replace").strip() if match else ""
        out.append(Original(entry["url"], entry["url"], body, datetime(2025, 7, 24, 12, tzinfo=timezone.utc), title))
    return out


def _paragraphs(body: bytes) -> list[tuple[int, int]]:
    """Spans of the ``<p>`` elements with some text: the article's paragraphs, mostly."""
    return [m.span() for m in _PARAGRAPH.finditer(body) if len(_TAG.sub(b"", m.group()).strip()) >= 60]


def _host(url: str) -> str:
    return url.split("/")[2]


def _path(url: str) -> str:
    rest = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    return rest.split("?")[0].split("#")[0].strip("/")


def _nonce(body: bytes, text: str) -> bytes:
    tag = f"<script>window.__rid='{text}';</script>".encode()
    at = body.lower().find(b"</head>")
    return body[:at] + tag + body[at:] if at >= 0 else tag + body


def variant(orig: Original, kind: str, r: int, rng: random.Random) -> tuple[str, bytes]:
    """(url, body) of variant ``kind`` of ``orig`` in repetition ``r``."""
    body, spans = orig.body, _paragraphs(orig.body)
    host, path = _host(orig.url), _path(orig.url)[:150] or "index"
    if kind == "repeat":
        url = orig.url if r == 0 else f"https://{host}/{path}-r{r}"
        return url, (body if r == 0 else _nonce(body, f"{r}-{rng.getrandbits(32):x}"))
    site = REPUBLISHERS[(r + VARIANTS.index(kind)) % len(REPUBLISHERS)]
    url = f"https://{site}/{kind}/{r}/{path.replace('/', '-')[:120]}"
    body = _nonce(body, f"{r}-{rng.getrandbits(32):x}")
    spans = _paragraphs(body)
    if not spans:
        return url, body
    first, last = spans[0], spans[-1]
    if kind == "boilerplate":
        promo = (f"<p>Get the best of {site} in your inbox: subscribe to our free morning newsletter and never "
                 f"miss a story from our newsroom. Follow {site} on social media for updates.</p>"
                 f"<p>This article was originally published by {host} and is republished here with permission "
                 f"under a content-sharing agreement.</p>").encode()
        items = "".join(f"<li><a href=/{s}>{s.title()}</a></li>" for s in ("world", "business", "sport", "culture"))
        nav = f"<nav><ul>{items}</ul></nav>".encode()
        return url, body[:first[0]] + nav + body[first[0]:last[1]] + promo + body[last[1]:]
    if kind == "truncated":
        keep = max(1, int(len(spans) * rng.uniform(0.4, 0.75)))
        cut_from, cut_to = spans[keep - 1][1], last[1]
        more = f"<p>Continue reading at {host}: the full story is available on the original site.</p>".encode()
        return url, body[:cut_from] + more + body[cut_to:]
    # headline
    lead = f"<p>{orig.title}</p><p>Source: {host}</p>".encode()
    return url, body[:first[0]] + lead + body[first[0]:]


def records(count: int, seed: int = 2026) -> Iterator[tuple[str, bytes, datetime]]:
    """(url, body, capture date) of at least ``count`` records."""
    origs = originals()
    rng = random.Random(f"real-warc:{seed}")
    per_rep = len(origs) * len(VARIANTS)
    reps = max(1, -(-count // per_rep))
    for r in range(reps):
        groups = [list(VARIANTS)] if r else [["repeat"], [k for k in VARIANTS if k != "repeat"]]
        for kinds in groups:  # repetition 0: the originals first, then their republications
            jobs = [(o, k) for o in origs for k in kinds]
            rng.shuffle(jobs)
            for orig, kind in jobs:
                url, body = variant(orig, kind, r, rng)
                if r == 0 and kind == "repeat":
                    yield url, body, orig.date
                    continue
                delay = timedelta(hours=1 + 3 * r + VARIANTS.index(kind), minutes=rng.randrange(60))
                yield url, body, orig.date + delay


def write(path: Path, count: int, seed: int = 2026) -> int:
    import sys

    sys.path.insert(0, str(REPO / "tests" / "data"))
    from warc_gen import RecordSpec, write_warc

    specs = (RecordSpec(url=url, body=body, content_type="text/html", date=date)
             for url, body, date in records(count, seed))
    counts = write_warc(path, specs, seed=seed)
    return sum(counts.values())
