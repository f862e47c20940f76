"""Extraction quality on tests/data/extraction/eval: newsdesk vs plain trafilatura.

Each ``NAME.html`` has ``NAME.txt``, the expected main text. Scores are
token-level precision/recall/F1 over bags of words (lower-cased ``\\w+``
tokens, multiset intersection), as in the ScrapingHub article-extraction
benchmark; the figures are averaged over pages (macro) and an empty or failed
extraction scores 0 recall (precision counts as 1 on an empty output only when
the expected text is empty too). Speed is pages per second over a few passes.

    .venv/bin/python bench/extraction_quality.py [--passes 5] [--per-page]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

import trafilatura  # noqa: E402

from newsdesk.extract import ExtractionError, extract_article  # noqa: E402

EVAL_DIR = REPO / "tests" / "data" / "extraction" / "eval"
URL = "https://www.regionalpost.example/news/story"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter:
    return Counter(t.lower() for t in _TOKEN.findall(text or ""))


def prf(expected: str, got: str) -> tuple[float, float, float]:
    exp, out = tokens(expected), tokens(got)
    common = sum((exp & out).values())
    if not out:
        return (1.0 if not exp else 0.0), (1.0 if not exp else 0.0), (1.0 if not exp else 0.0)
    precision = common / sum(out.values())
    recall = common / sum(exp.values()) if exp else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run_newsdesk(body: bytes) -> str:
    try:
        return extract_article(body, URL, "text/html").text
    except ExtractionError:
        return ""


def run_trafilatura(body: bytes) -> str:
    return trafilatura.extract(body) or ""


SYSTEMS = {"newsdesk": run_newsdesk, "trafilatura": run_trafilatura}


def load_pages() -> list[tuple[str, bytes, str]]:
    pages = []
    for html in sorted(EVAL_DIR.glob("*.html")):
        expected = html.with_suffix(".txt").read_text(encoding="utf-8")
        pages.append((html.stem, html.read_bytes(), expected))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="timing passes over the whole set")
    parser.add_argument("--per-page", action="store_true", help="print F1 per page")
    args = parser.parse_args(argv)

    pages = load_pages()
    scores: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SYSTEMS}
    per_page: list[tuple[str, list[float]]] = []
    for name, body, expected in pages:
        row = []
        for system, fn in SYSTEMS.items():
            score = prf(expected, fn(body))
            scores[system].append(score)
            row.append(score[2])
        per_page.append((name, row))

    # Interleave the systems page by page so that load from other processes hits both alike.
    elapsed = {system: 0.0 for system in SYSTEMS}
    for fn in SYSTEMS.values():
        fn(pages[0][1])  # warm-up (imports, caches)
    for _ in range(args.passes):
        for _name, body, _exp in pages:
            for system, fn in SYSTEMS.items():
                start = time.perf_counter()
                fn(body)
                elapsed[system] += time.perf_counter() - start
    speed = {system: args.passes * len(pages) / elapsed[system] for system in SYSTEMS}

    if args.per_page:
        print(f"{'page':40} " + " ".join(f"{s:>12}" for s in SYSTEMS))
        for name, row in per_page:
            print(f"{name:40} " + " ".join(f"{f:12.3f}" for f in row))
        print()
    print(f"{len(pages)} pages in {EVAL_DIR.relative_to(REPO)}")
    print(f"{'system':12} {'precision':>9} {'recall':>9} {'F1':>9} {'pages/s':>9}")
    for system in SYSTEMS:
        p, r, f = (statistics.mean(s[i] for s in scores[system]) for i in range(3))
        print(f"{system:12} {p:9.3f} {r:9.3f} {f:9.3f} {speed[system]:9.1f}")
    ratio = speed["newsdesk"] / speed["trafilatura"]
    print(f"newsdesk speed = {ratio:.0%} of trafilatura")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
