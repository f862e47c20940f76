"""Extraction quality on real news pages: newsdesk against plain trafilatura, in one run.

    .venv/bin/python bench/extraction_quality.py                  # the real dev set (the headline)
    .venv/bin/python bench/extraction_quality.py --dev-set DIR    # another set of the same format
    .venv/bin/python bench/extraction_quality.py --self           # our 21 written pages (regression)
    .venv/bin/python bench/extraction_quality.py --per-page       # every page's scores

The dev set (``pages.json`` + ``html/KEY.html.gz``, see its README) is read where it lies:
``--dev-set``, else ``$NEWSDESK_EXTRACTION_DEV``, else the first ``shared/data/extraction-dev``
found beside the repository or one of its parents. Nothing of it is copied.

Systems, each on every page: newsdesk ``extract_article(html, url, captured_at=crawl_date)``
(the crawl date passed as the importer passes a WARC-Date), ``trafilatura.extract`` with its
defaults, and ``trafilatura.extract(favor_precision=True)``; trafilatura's title, author and
date come from the same call with ``with_metadata=True`` (JSON output).

Scores (per page, then averaged over pages):

- body: the ScrapingHub article-extraction-benchmark's measure. Tokens are ``\\w+`` runs
  (case kept; a CJK clause is one token, as there); shingles are 4 consecutive tokens (a text
  shorter than 4 tokens is one shingle); true positives count the multiset intersection of
  expected and extracted shingles, false positives the extracted surplus, false negatives
  the expected surplus; the three are divided by their sum so that every page weighs the
  same. One addition: soft hyphens and zero-width characters are removed first (they are
  invisible, and the expected texts keep some that split words). Precision is averaged over
  pages with output, recall over pages with expected text (an empty or failed extraction:
  recall 0), F1 = 2PR / (P + R) of the two averages. ``F1/pg`` is the mean of per-page F1 (an
  empty output: 0), a stricter reading.
- title: exact match after normalisation (Unicode NFKC, case folded, soft hyphens and
  zero-width characters removed, every quotation mark made ``"`` and every dash ``-``,
  whitespace collapsed, trimmed). No similarity threshold: a site name left in is a miss.
- date: the publication date within 24 hours of the expected one (a value without offset
  is read as UTC; a date without a time as midnight UTC). Pages without an expected date
  are not counted.
- authors: the set of names equal to the expected set after normalisation (NFKC, case
  folded, accents removed, a leading "by"/"von"/"por"/"par" dropped, punctuation and
  whitespace collapsed). A page expecting no author is right when none is returned.

Also printed: pages newsdesk refused (``no_text`` and other errors), a row per language of
the expected text (identified with py3langid), the two halves of the set split by a hash of
each page's key (for held-out checks), the worst pages, and CPU time per page (process time,
the minimum over ``--passes`` interleaved passes) with the machine's load average.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

import trafilatura  # noqa: E402

from newsdesk.extract import ExtractionError, extract_article  # noqa: E402

EVAL_DIR = REPO / "tests" / "data" / "extraction" / "eval"
SELF_URL = "https://www.regionalpost.example/news/story"
SHINGLE = 4
DATE_TOLERANCE = timedelta(hours=24)


# --- the dev set ---------------------------------------------------------------------------

@dataclass
class Page:
    key: str
    url: str
    html: bytes
    body: str
    title: str | None = None
    authors: list[str] | None = None
    published: datetime | None = None
    captured: datetime | None = None
    language: str = "?"

    @property
    def half(self) -> str:
        """A or B: a fixed split by the key's hash, for checks on a held-out half."""
        return "A" if hashlib.sha1(self.key.encode()).digest()[0] % 2 == 0 else "B"


def find_dev_set(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("NEWSDESK_EXTRACTION_DEV"):
        return Path(os.environ["NEWSDESK_EXTRACTION_DEV"])
    for parent in REPO.parents:
        candidate = parent / "shared" / "data" / "extraction-dev"
        if (candidate / "pages.json").exists():
            return candidate
    raise SystemExit("dev set not found: pass --dev-set DIR or set NEWSDESK_EXTRACTION_DEV")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def language_of(text: str) -> str:
    import py3langid

    return py3langid.classify(text[:3000])[0]


def load_dev_set(directory: Path, only: list[str] | None) -> list[Page]:
    truth = json.loads((directory / "pages.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        if only and key not in only:
            continue
        html = gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes())
        pages.append(Page(
            key=key, url=item["url"], html=html, body=item["body"], title=item.get("title"),
            authors=item.get("authors") or [], published=parse_time(item.get("publishing_date")),
            captured=parse_time(item.get("crawl_date")),
            language=language_of(f"{item.get('title') or ''}\n{item['body']}"),
        ))
    return pages


def load_self_set() -> list[Page]:
    return [Page(key=html.stem, url=SELF_URL, html=html.read_bytes(),
                 body=html.with_suffix(".txt").read_text(encoding="utf-8"), language="self")
            for html in sorted(EVAL_DIR.glob("*.html"))]


# --- the systems ---------------------------------------------------------------------------

@dataclass
class Output:
    text: str = ""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    error: str | None = None   # newsdesk's ExtractionError kind


def run_newsdesk(page: Page) -> Output:
    try:
        art = extract_article(page.html, page.url, "text/html", captured_at=page.captured)
    except ExtractionError as exc:
        return Output(error=exc.kind)
    return Output(art.text, art.title, art.authors, art.published_at)


def _trafilatura(favor_precision: bool) -> Callable[[Page], Output]:
    def run(page: Page) -> Output:
        raw = trafilatura.extract(page.html, url=page.url, output_format="json", with_metadata=True,
                                  favor_precision=favor_precision)
        if not raw:
            return Output(error="none")
        doc = json.loads(raw)
        authors = [a.strip() for a in (doc.get("author") or "").split(";") if a.strip()]
        return Output(doc.get("text") or "", doc.get("title"), authors, parse_time(doc.get("date")))
    return run


SYSTEMS: dict[str, Callable[[Page], Output]] = {
    "newsdesk": run_newsdesk,
    "trafilatura": _trafilatura(False),
    "traf-precision": _trafilatura(True),
}
# What is timed: extract_article against the plain calls the issue compares it with.
TIMED: dict[str, Callable[[Page], object]] = {
    "newsdesk": run_newsdesk,
    "trafilatura.extract": lambda page: trafilatura.extract(page.html),
    "trafilatura.extract+metadata": lambda page: trafilatura.extract(page.html, url=page.url, with_metadata=True),
}


# --- scores --------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


# Soft hyphens and zero-width characters are invisible: "Brenn\u00adpunkt" reads "Brennpunkt".
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)


def shingles(text: str) -> Counter:
    tokens = _TOKEN.findall((text or "").translate(_INVISIBLE))
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))
                   if tokens[i:i + SHINGLE])


def body_counts(expected: str, got: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over 4-token shingles, normalised to sum to 1 (ScrapingHub's benchmark)."""
    exp, out = shingles(expected), shingles(got)
    tp = sum((exp & out).values())
    fp = sum((out - exp).values())
    fn = sum((exp - out).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)


def page_f1(counts: tuple[float, float, float]) -> float:
    p, r = precision(*counts), recall(*counts)
    return 2 * p * r / (p + r) if p + r else 0.0


_QUOTES = dict.fromkeys(map(ord, "'\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a"
                                 "\u2032\u2033\u300c\u300d\uff02"), '"')
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
def norm_title(title: str | None) -> str:
    text = unicodedata.normalize("NFKC", title or "").translate(_INVISIBLE).translate(_QUOTES).translate(_DASHES)
    return " ".join(text.casefold().split())


_BY = re.compile(r"^(?:by|von|por|par|di|door|av|af)\s+", re.I)


def norm_author(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _BY.sub("", text.strip())
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def title_hit(page: Page, out: Output) -> bool:
    return bool(out.title) and norm_title(out.title) == norm_title(page.title)


def date_hit(page: Page, out: Output) -> bool | None:
    if page.published is None:
        return None
    return out.published is not None and abs(out.published - page.published) <= DATE_TOLERANCE


def authors_hit(page: Page, out: Output) -> bool:
    expected = {norm_author(a) for a in page.authors or []} - {""}
    return expected == {norm_author(a) for a in out.authors} - {""}


@dataclass
class Score:
    counts: tuple[float, float, float]
    title: bool
    date: bool | None
    authors: bool
    error: str | None


def score(page: Page, out: Output) -> Score:
    return Score(body_counts(page.body, out.text), title_hit(page, out), date_hit(page, out),
                 authors_hit(page, out), out.error)


def summary(scores: list[Score]) -> dict[str, float]:
    with_output = [precision(*s.counts) for s in scores if s.counts[0] + s.counts[1] > 0]
    with_truth = [recall(*s.counts) for s in scores if s.counts[0] + s.counts[2] > 0]
    p = statistics.mean(with_output) if with_output else 0.0
    r = statistics.mean(with_truth) if with_truth else 0.0
    dates = [s.date for s in scores if s.date is not None]
    return {
        "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "f1_page": statistics.mean(page_f1(s.counts) for s in scores),
        "title": statistics.mean(s.title for s in scores),
        "date": statistics.mean(dates) if dates else float("nan"),
        "authors": statistics.mean(s.authors for s in scores),
        "failed": sum(1 for s in scores if s.error),
    }


# --- timing --------------------------------------------------------------------------------

def cpu_per_page(pages: list[Page], passes: int) -> dict[str, float]:
    """Mean over pages of each system's least process time in ``passes`` passes, systems
    interleaved page by page so that other load hits them alike."""
    for run in TIMED.values():
        run(pages[0])  # imports, caches, the language model
    best: dict[str, list[float]] = {name: [float("inf")] * len(pages) for name in TIMED}
    for _ in range(passes):
        for index, page in enumerate(pages):
            for name, run in TIMED.items():
                start = time.process_time()
                run(page)
                best[name][index] = min(best[name][index], time.process_time() - start)
    return {name: statistics.mean(times) for name, times in best.items()}


# --- report --------------------------------------------------------------------------------

def print_table(title: str, groups: dict[str, list[int]], results: dict[str, list[Score]], metadata: bool) -> None:
    print(f"\n{title}")
    columns = "   P      R      F1    F1/pg" + ("  title  date  authors" if metadata else "") + "  failed"
    print(f"{'':22} {'system':15} {columns}")
    for group, indices in groups.items():
        for system, scores in results.items():
            s = summary([scores[i] for i in indices])
            line = f"{s['precision']:.3f}  {s['recall']:.3f}  {s['f1']:.3f}  {s['f1_page']:.3f}"
            if metadata:
                line += f"  {s['title']:.3f}  {s['date']:.3f}  {s['authors']:.3f}  "
            print(f"{group:22} {system:15} {line}  {s['failed']:4d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-set", help="directory with pages.json and html/ (default: see above)")
    parser.add_argument("--self", dest="self_set", action="store_true",
                        help="our written pages in tests/data/extraction/eval (body only): a regression check")
    parser.add_argument("--passes", type=int, default=3, help="timing passes (0: no timing)")
    parser.add_argument("--worst", type=int, default=10, help="how many of newsdesk's worst pages to list")
    parser.add_argument("--per-page", action="store_true", help="every page's scores")
    parser.add_argument("--only", nargs="*", help="just these page keys")
    parser.add_argument("--half", choices=("A", "B"), help="just one half of the set")
    args = parser.parse_args(argv)

    if args.self_set:
        pages, where, metadata = load_self_set(), str(EVAL_DIR.relative_to(REPO)), False
    else:
        directory = find_dev_set(args.dev_set)
        pages, where, metadata = load_dev_set(directory, args.only), str(directory), True
    if args.half:
        pages = [p for p in pages if p.half == args.half]
    if not pages:
        raise SystemExit("no pages")
    results: dict[str, list[Score]] = {name: [] for name in SYSTEMS}
    for page in pages:
        for name, run in SYSTEMS.items():
            results[name].append(score(page, run(page)))

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{len(pages)} pages from {where}; trafilatura {trafilatura.__version__}")
    groups = {"all": list(range(len(pages)))}
    if not args.self_set:
        for half in ("A", "B"):
            groups[f"half {half}"] = [i for i, p in enumerate(pages) if p.half == half]
    print_table("Summary", {k: v for k, v in groups.items() if v}, results, metadata)
    if not args.self_set:
        languages = Counter(p.language for p in pages)
        by_language = {f"{lang} ({n})": [i for i, p in enumerate(pages) if p.language == lang]
                       for lang, n in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))}
        print_table("By language of the expected text (py3langid)", by_language, {"newsdesk": results["newsdesk"],
                    "trafilatura": results["trafilatura"]}, metadata)

    def page_line(i: int) -> str:
        cells = []
        for system in SYSTEMS:
            s = results[system][i]
            cells.append(f"{precision(*s.counts):.2f}/{recall(*s.counts):.2f}/{page_f1(s.counts):.2f}")
        nd = results["newsdesk"][i]
        flags = "".join(("t" if nd.title else "-", "d" if nd.date in (True, None) else "-", "a" if nd.authors else "-"))
        return f"{pages[i].key:28} {pages[i].half} " + "  ".join(f"{c:14}" for c in cells) + \
            (f"  {flags:4}" if metadata else "") + f" {nd.error or ''}"

    header = f"{'page':28} h " + "  ".join(f"{s + ' P/R/F1':14}" for s in SYSTEMS) + \
        ("  newsdesk t/d/a" if metadata else "")
    if args.worst:
        order = sorted(range(len(pages)), key=lambda i: page_f1(results["newsdesk"][i].counts))[:args.worst]
        print(f"\nnewsdesk's {len(order)} worst pages (body F1)\n{header}")
        for i in order:
            print(page_line(i))
    if args.per_page:
        print(f"\nEvery page\n{header}")
        for i in range(len(pages)):
            print(page_line(i))
    if metadata:
        misses = [(pages[i].key, s.error) for i, s in enumerate(results["newsdesk"]) if s.error]
        print(f"\nnewsdesk refused {len(misses)} page(s)" + (": " + ", ".join(f"{k} ({e})" for k, e in misses)
                                                              if misses else ""))

    if args.passes > 0:
        cpu = cpu_per_page(pages, args.passes)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        print(f"\nCPU per page (process time, least of {args.passes} passes, mean over pages); "
              f"load average {' '.join(load_before)} before, {' '.join(load_after)} after, "
              f"{os.cpu_count()} CPUs")
        for name, seconds in cpu.items():
            print(f"  {name:30} {seconds * 1000:7.2f} ms")
        for name in list(TIMED)[1:]:
            print(f"  newsdesk / {name}: {cpu['newsdesk'] / cpu[name]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
