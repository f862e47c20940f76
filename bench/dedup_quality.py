"""Pairwise precision and recall of syndicated-copy detection, newsdesk beside a naive baseline.

    python bench/dedup_quality.py [--corpus realistic|generated|both] [--pg] [--shuffle]
                                  [--matrix] [--verify-only] [--diagnose] [--dev-set PATH]

Corpora:

* ``realistic`` (``bench/dedup_eval/realistic.py``): real article bodies (the extraction dev set,
  read at run time, and the offline snapshot) with hand-written rewrites, chains, spun copies,
  excerpts, undated copies and, as hard negatives, independent reports of the same events.
* ``generated`` (``bench/dedup_eval/generate.py``): the generator's template, attribution,
  footer, truncated, edited and reworded copies; same-event, same-site and brief negatives.

For each copy kind: ``pairs`` is the pairwise recall over every pair of one story's articles that
involves a copy of that kind (so a chain must also sit with the original and with the excerpt),
``to orig`` the share of such copies in their original's cluster. Precision is over every pair put
in one cluster; a ``same-event merge`` is a pair of different stories about one event in one
cluster. ``original right``: the share of clusters holding two or more articles of a story whose
original is the story's real original. The baseline links two articles when the containment of
their word 5-gram sets (|A∩B| / min(|A|, |B|)) is >= 0.5, clusters the links transitively and
takes the earliest-dated, then longest, member as the original.

``--matrix`` runs SQLite and PostgreSQL, in id order and shuffled; ``--verify-only`` decides every
pair of one event with the pure verifier (no warehouse) and reports how many true pairs would
become LSH candidates; ``--diagnose`` lists the copies that missed their original and why.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from bench.dedup_eval import realistic  # noqa: E402
from bench.dedup_eval.generate import build, kinds_of_copies  # noqa: E402
from bench.dedup_eval.load import insert_articles  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from newsdesk.dedup import dedup_pending  # noqa: E402
from newsdesk.storage import db  # noqa: E402
from newsdesk.storage.schema import articles, clusters  # noqa: E402

PG_ADMIN = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BASELINE_N, BASELINE_CONTAINMENT = 5, 0.5
_WORD = re.compile(r"\w+", re.UNICODE)


# ----------------------------------------------------------------------------- corpora

def load_corpus(name: str, args) -> tuple[list[dict], list[str]]:
    """Articles with ground truth (story, event, kind) and the copy kinds to report."""
    if name == "realistic":
        return realistic.assemble(args.dev_set), list(realistic.COPY_KINDS)
    arts = []
    for a in build(args.seed, args.bases):
        a = dict(a, event=a["story"].split("-")[0], item=a["url"])
        if a["kind"] == "base":
            a["kind"] = "original"
        arts.append(a)
    return arts, kinds_of_copies()


def ordered(arts: list[dict], shuffle: bool, seed: int) -> list[dict]:
    arts = list(arts)
    if shuffle:
        random.Random(seed).shuffle(arts)
    return arts


# ----------------------------------------------------------------------------- partitions

def _when(a: dict):
    return a.get("published_at") or a.get("fetched_at")


def baseline_partition(arts: list[dict]) -> tuple[dict[str, int], dict[int, str]]:
    """Naive near-duplicate detection: 5-gram containment >= 0.5, transitive clusters."""
    grams = []
    for a in arts:
        toks = [t.lower() for t in _WORD.findall(a["text"])]
        grams.append({" ".join(toks[i:i + BASELINE_N]) for i in range(max(1, len(toks) - BASELINE_N + 1))})
    parent = list(range(len(arts)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(arts)), 2):
        small = min(len(grams[i]), len(grams[j]))
        if small and len(grams[i] & grams[j]) / small >= BASELINE_CONTAINMENT:
            parent[find(i)] = find(j)
    cluster_of = {a["url"]: find(i) for i, a in enumerate(arts)}
    members = defaultdict(list)
    for a in arts:
        members[cluster_of[a["url"]]].append(a)
    far = _when(arts[0]) + timedelta(days=365 * 100) if arts and _when(arts[0]) else None
    originals = {c: min(ms, key=lambda a: (_when(a) or far, -len(a["text"]), a["url"]))["url"]
                 for c, ms in members.items()}
    return cluster_of, originals


def warehouse_partition(engine) -> tuple[dict[str, int], dict[int, str], dict[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.cluster_id, articles.c.relation)).all()
        originals = dict(conn.execute(select(clusters.c.id, articles.c.url).join(
            articles, articles.c.id == clusters.c.original_article_id)).all())
    return {r.url: r.cluster_id for r in rows}, originals, {r.url: r.relation for r in rows}


def run_newsdesk(arts: list[dict], pg: bool) -> dict:
    """Load ``arts`` in their order into a scratch warehouse and run dedup over them."""
    admin = name = None
    if pg:
        name = f"newsdesk_quality_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/quality.db"
    try:
        engine = db.get_engine(url)
        db.upgrade(engine)
        insert_articles(engine, arts)
        t0 = time.perf_counter()
        stats = dedup_pending(engine)
        seconds = time.perf_counter() - t0
        cluster_of, originals, relations = warehouse_partition(engine)
    finally:
        db.dispose_all()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return dict(cluster_of=cluster_of, originals=originals, relations=relations, seconds=seconds, stats=stats)


# ----------------------------------------------------------------------------- scoring

def evaluate(arts: list[dict], cluster_of: dict[str, int], originals: dict[int, str], copy_kinds) -> dict:
    by_story = defaultdict(list)
    for a in arts:
        by_story[a["story"]].append(a)
    true_original = {a["story"]: a["url"] for a in arts if a["kind"] == "original"}
    pairs, hits, to_orig, to_orig_hit = Counter(), Counter(), Counter(), Counter()
    for a in arts:
        k = a["kind"]
        if k not in copy_kinds:
            continue
        orig = true_original.get(a["story"])
        to_orig[k] += 1
        to_orig_hit[k] += orig is not None and cluster_of[a["url"]] == cluster_of[orig]
        for b in by_story[a["story"]]:
            if b is not a:
                pairs[k] += 1
                hits[k] += cluster_of[a["url"]] == cluster_of[b["url"]]
    all_true = sum(len(ms) * (len(ms) - 1) // 2 for ms in by_story.values())
    members = defaultdict(list)
    for a in arts:
        members[cluster_of[a["url"]]].append(a)
    predicted = tp = 0
    same_event_pairs, other_false = 0, Counter()
    same_event_clusters = set()
    for cid, ms in members.items():
        for a, b in itertools.combinations(ms, 2):
            predicted += 1
            if a["story"] == b["story"]:
                tp += 1
            elif a["event"] == b["event"]:
                same_event_pairs += 1
                same_event_clusters.add(cid)
            else:
                other_false[tuple(sorted((a["kind"], b["kind"])))] += 1
    right = judged = 0
    wrong = []
    url_story = {a["url"]: a["story"] for a in arts}
    for cid, ms in members.items():
        for story, count in Counter(a["story"] for a in ms).items():
            if count >= 2 and story in true_original:
                judged += 1
                if originals.get(cid) == true_original[story]:
                    right += 1
                else:
                    wrong.append((story, originals.get(cid), url_story.get(originals.get(cid))))
    return dict(pairs=pairs, hits=hits, to_orig=to_orig, to_orig_hit=to_orig_hit, predicted=predicted, tp=tp,
                precision=tp / predicted if predicted else 1.0, pair_recall=tp / all_true if all_true else 1.0,
                same_event_pairs=same_event_pairs, same_event_clusters=len(same_event_clusters),
                other_false=other_false, right=right, judged=judged, wrong=wrong)


def _ratio(hit, n) -> str:
    return f"{hit / n:6.3f} {hit:>4}/{n:<4}" if n else "     -          "


def print_side_by_side(title: str, mine: dict, base: dict, copy_kinds) -> None:
    print(title)
    print(f"  {'':<12} {'newsdesk pairs':>16} {'to orig':>16}   {'baseline pairs':>16} {'to orig':>16}")
    for k in copy_kinds:
        if not mine["to_orig"][k]:
            continue
        print(f"  {k:<12} {_ratio(mine['hits'][k], mine['pairs'][k])} "
              f"{_ratio(mine['to_orig_hit'][k], mine['to_orig'][k])}   {_ratio(base['hits'][k], base['pairs'][k])} "
              f"{_ratio(base['to_orig_hit'][k], base['to_orig'][k])}")
    for label, key in (("all pairs", "pair_recall"), ("precision", "precision")):
        print(f"  {label:<12} {mine[key]:6.3f}{'':>27}   {base[key]:6.3f}")
    print(f"  {'same-event':<12} {mine['same_event_pairs']:>6} pairs in {mine['same_event_clusters']} clusters"
          f"{'':>8}   {base['same_event_pairs']:>6} pairs in {base['same_event_clusters']} clusters")
    print(f"  {'orig right':<12} {_ratio(mine['right'], mine['judged'])}{'':>17}   "
          f"{_ratio(base['right'], base['judged'])}")
    if mine["other_false"]:
        print("  newsdesk other false pairs:", dict(mine["other_false"]))
    for story, got, of in mine["wrong"][:12]:
        print(f"  newsdesk original wrong: {story}: {got} ({of})")


def summary_row(label: str, res: dict, copy_kinds) -> str:
    kinds = [k for k in copy_kinds if res["pairs"][k]]
    worst = min(kinds, key=lambda k: res["hits"][k] / res["pairs"][k]) if kinds else None
    worst_txt = f"{res['hits'][worst] / res['pairs'][worst]:.3f} ({worst})" if worst else "-"
    right = f"{res['right'] / res['judged']:.3f}" if res["judged"] else "-"
    return (f"  {label:<26} {res['pair_recall']:>7.3f} {worst_txt:>24} {res['precision']:>9.4f} "
            f"{res['same_event_pairs']:>6} {right:>11}")


# ----------------------------------------------------------------------------- pure verification

def verify_only(arts: list[dict], copy_kinds) -> None:
    """Every pair of one event decided by the pure verifier, and whether it would be a candidate."""
    from newsdesk.dedup.claim import publication_day as _pub_day
    from newsdesk.dedup.clean import clean
    from newsdesk.dedup.signatures import index_buckets, signature
    from newsdesk.dedup.verify import Doc, compare

    docs, bands, days = {}, {}, {}
    t0 = time.perf_counter()
    for a in arts:
        cleaned = clean(a["text"], a["title"]).text
        docs[a["item"]] = Doc(cleaned)
        bands[a["item"]] = set(index_buckets(signature(cleaned), docs[a["item"]].feature_hashes))
        days[a["item"]] = _pub_day(a.get("published_at"), a.get("fetched_at"), a.get("fetched_at"),
                                     a.get("date_source"))
    by_event = defaultdict(list)
    for a in arts:
        by_event[a["event"]].append(a)
    kinds = Counter()
    found, cand1, cand2, window = Counter(), Counter(), Counter(), Counter()
    direct_n, direct_found = Counter(), Counter()
    neg = neg_hit = 0
    false_matches, linked = [], []
    compared = 0
    for ms in by_event.values():
        for a, b in itertools.combinations(ms, 2):
            v = compare(docs[a["item"]], docs[b["item"]])
            compared += 1
            if v.matched:
                linked.append((a["item"], b["item"]))
            shared = bands[a["item"]] & bands[b["item"]]
            in_window = abs(days[a["item"]] - days[b["item"]]) <= 14
            if a["story"] != b["story"]:
                neg += 1
                if v.matched:
                    neg_hit += 1
                    false_matches.append((a["item"], b["item"], v.relation, v.evidence))
                continue
            # a pair the pipeline must find by itself: a copy and what it was made from
            direct = "original" in (a["kind"], b["kind"]) or a.get("based_on") == b["item"] \
                or b.get("based_on") == a["item"]
            for k in {a["kind"], b["kind"]} & set(copy_kinds):
                kinds[k] += 1
                found[k] += v.matched
                direct_n[k] += direct
                direct_found[k] += direct and v.matched
                cand1[k] += len(shared) >= 1
                cand2[k] += len(shared) >= 2
                window[k] += len(shared) >= 1 and in_window
    seconds = time.perf_counter() - t0
    # The ceiling of the pipeline with this verifier: every pair of one event compared (as if
    # candidate generation found them all), verified pairs linked, clusters the connected components.
    parent = {a["item"]: a["item"] for a in arts}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in linked:
        parent[find(m[0])] = find(m[1])
    ceiling = evaluate(arts, {a["url"]: find(a["item"]) for a in arts},
                       {find(a["item"]): None for a in arts}, copy_kinds)
    print(f"pure verification: {compared} same-event pairs in {seconds:.1f}s (signatures and cleaning included)")
    print("  (every pair of one story with a copy of the kind; 'direct': with its original or its source)")
    print(f"  {'kind':<12} {'verified':>16} {'direct verified':>16} {'share a band':>16} {'2+ bands':>16} "
          f"{'band + window':>16}")
    for k in copy_kinds:
        if kinds[k]:
            print(f"  {k:<12} {_ratio(found[k], kinds[k])} {_ratio(direct_found[k], direct_n[k])} "
                  f"{_ratio(cand1[k], kinds[k])} {_ratio(cand2[k], kinds[k])} {_ratio(window[k], kinds[k])}")
    print(f"  hard negatives (different stories of one event) verified as copies: {neg_hit}/{neg}")
    print("  every same-event pair compared, verified pairs linked transitively (the pipeline's ceiling):")
    print("  " + "  ".join(f"{k} {ceiling['hits'][k] / ceiling['pairs'][k]:.3f}" for k in copy_kinds
                          if ceiling["pairs"][k])
          + f"  all {ceiling['pair_recall']:.3f}  precision {ceiling['precision']:.4f}"
          + f"  same-event pairs {ceiling['same_event_pairs']}")
    for a, b, relation, evidence in false_matches:
        print(f"  FALSE {a} ~ {b}: {relation} {evidence}")


def candidate_routes(arts: list[dict], copy_kinds) -> None:
    """Which LSH route would make each pair a candidate: today's (shingle, lexical) and the two
    containment-friendly ones of ``signatures`` (anchor, indexed; lexical-loose, not), on true pairs and on
    pairs that must stay apart (the verification each route would cost)."""
    from newsdesk.dedup.claim import publication_day as _pub_day
    from newsdesk.dedup.clean import clean
    from newsdesk.dedup.signatures import LEXICAL_SCHEME0, anchor_buckets, loose_lexical_buckets, signature
    from newsdesk.dedup.verify import Doc

    routes: dict[str, dict[str, set]] = defaultdict(dict)
    days = {}
    for a in arts:
        cleaned = clean(a["text"], a["title"]).text
        sig, doc = signature(cleaned), Doc(cleaned)
        buckets = sig.buckets
        routes["shingle"][a["item"]] = {b for b in buckets if b[0] < LEXICAL_SCHEME0}
        routes["lexical"][a["item"]] = {b for b in buckets if b[0] >= LEXICAL_SCHEME0}
        routes["anchor"][a["item"]] = set(anchor_buckets(*doc.feature_hashes))
        routes["loose"][a["item"]] = set(loose_lexical_buckets(sig.lexhash, len(sig.lexical)))
        days[a["item"]] = _pub_day(a.get("published_at"), a.get("fetched_at"), a.get("fetched_at"),
                                     a.get("date_source"))
    names = ["shingle", "lexical", "anchor", "loose"]
    combos = {"words (shingle|lexical)": ("shingle", "lexical"),
              "indexed (words|anchor)": ("shingle", "lexical", "anchor"),
              "words|loose": ("shingle", "lexical", "loose"), "all four": tuple(names)}
    true_pairs, same_event, other = Counter(), Counter(), Counter()
    n_true, in_window = Counter(), Counter()
    n_same = n_other = 0
    for a, b in itertools.combinations(arts, 2):
        hit = {r: len(routes[r][a["item"]] & routes[r][b["item"]]) for r in names}
        if a["story"] == b["story"]:
            if not ("original" in (a["kind"], b["kind"]) or a.get("based_on") == b["item"]
                    or b.get("based_on") == a["item"]):
                continue
            kind = b["kind"] if a["kind"] == "original" else a["kind"]
            n_true[kind] += 1
            for label, rs in combos.items():
                true_pairs[(kind, label)] += any(hit[r] for r in rs)
            in_window[kind] += (hit["shingle"] or hit["lexical"] or hit["anchor"]) and abs(
                days[a["item"]] - days[b["item"]]) <= 14
        else:
            bucket = same_event if a["event"] == b["event"] else other
            if a["event"] == b["event"]:
                n_same += 1
            else:
                n_other += 1
            for label, rs in combos.items():
                bucket[label] += any(hit[r] for r in rs)
    print("candidate routes on direct true pairs (a copy and its original or source), any shared band:")
    print(f"  {'kind':<12}" + "".join(f"{label:>26}" for label in combos))
    for k in copy_kinds:
        if n_true[k]:
            print(f"  {k:<12}" + "".join(f"{_ratio(true_pairs[(k, label)], n_true[k]):>26}" for label in combos))
    total = sum(n_true.values())
    print(f"  {'all':<12}" + "".join(f"{_ratio(sum(true_pairs[(k, label)] for k in n_true), total):>26}"
                                      for label in combos))
    print(f"  {'indexed, within the 14-day window':<40} {_ratio(sum(in_window.values()), total)}  "
          + " ".join(f"{k} {in_window[k]}/{n_true[k]}" for k in copy_kinds if n_true[k]))
    print(f"  {'same-event':<12}" + "".join(f"{_ratio(same_event[label], n_same):>26}" for label in combos)
          + "   (candidates that verification must reject)")
    print(f"  {'other pairs':<12}" + "".join(f"{_ratio(other[label], n_other):>26}" for label in combos)
          + "   (all dates; the window cuts most)")


# ----------------------------------------------------------------------------- diagnosis

def diagnose(arts: list[dict], run: dict) -> None:
    """For each copy not in its original's cluster: the verifier's verdict and candidate evidence."""
    from newsdesk.dedup.claim import publication_day as _pub_day
    from newsdesk.dedup.clean import clean
    from newsdesk.dedup.signatures import LEXICAL_SCHEME0, signature
    from newsdesk.dedup.verify import Doc, compare

    original = {a["story"]: a for a in arts if a["kind"] == "original"}
    cluster_of = run["cluster_of"]
    for a in arts:
        o = original.get(a["story"])
        if a["kind"] in ("original", "independent") or o is None or cluster_of[a["url"]] == cluster_of[o["url"]]:
            continue
        ca, co = clean(a["text"], a["title"]).text, clean(o["text"], o["title"]).text
        v = compare(Doc(ca), Doc(co))
        shared = set(signature(ca).buckets) & set(signature(co).buckets)
        lexical = sum(s >= LEXICAL_SCHEME0 for s, _ in shared)
        days = abs(_pub_day(a.get("published_at"), a.get("fetched_at"), None, a.get("date_source"))
                   - _pub_day(o.get("published_at"), o.get("fetched_at"), None, o.get("date_source")))
        e = v.evidence
        print(f"  miss {a['item']:<40} {a['kind']:<10} verdict={v.relation} bands={len(shared) - lexical}+{lexical}lex "
              f"days={days} cont={e.get('containment')} aligned={e.get('aligned_fraction')}/"
              f"{e.get('aligned_fraction_rev')} numbers={e.get('shared_numbers')} names={e.get('shared_names')}")


# ----------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", choices=("realistic", "generated", "both"), default="both")
    ap.add_argument("--pg", action="store_true", help="use a scratch PostgreSQL database")
    ap.add_argument("--shuffle", action="store_true", help="insert in random order")
    ap.add_argument("--matrix", action="store_true", help="SQLite and PostgreSQL, in id order and shuffled")
    ap.add_argument("--verify-only", action="store_true", help="pure verification of every same-event pair")
    ap.add_argument("--diagnose", action="store_true", help="why each missed copy missed its original")
    ap.add_argument("--counts", action="store_true", help="print the corpus counts per kind and language")
    ap.add_argument("--bases", type=int, default=48, help="generated corpus: stories")
    ap.add_argument("--seed", type=int, default=7, help="generated corpus and shuffling")
    ap.add_argument("--dev-set", default=None, help="the extraction dev set (default: found beside the checkout)")
    args = ap.parse_args(argv)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    corpora = ["realistic", "generated"] if args.corpus == "both" else [args.corpus]
    runs = [(pg, shuffle) for pg in (False, True) for shuffle in (False, True)] if args.matrix \
        else [(args.pg, args.shuffle)]
    for name in corpora:
        arts, copy_kinds = load_corpus(name, args)
        n_events = len({a["event"] for a in arts})
        print(f"\n=== {name} corpus: {len(arts)} articles, {n_events} events, "
              f"{sum(a['kind'] in copy_kinds for a in arts)} copies, "
              f"{sum(a['kind'] in ('independent', 'same_event') for a in arts)} independent reports")
        if args.counts and name == "realistic":
            table = realistic.counts(arts)
            langs = sorted({lang for _, lang in table})
            print(f"  {'kind':<12}" + "".join(f"{lang:>5}" for lang in langs) + "  total")
            for k in realistic.KINDS:
                row = [table.get((k, lang), 0) for lang in langs]
                print(f"  {k:<12}" + "".join(f"{n:>5}" for n in row) + f"  {sum(row):>5}")
        if args.verify_only:
            verify_only(arts, copy_kinds)
            candidate_routes(arts, copy_kinds)
            continue
        t0 = time.perf_counter()
        base = evaluate(arts, *baseline_partition(arts), copy_kinds)
        base_seconds = time.perf_counter() - t0
        rows = []
        for pg, shuffle in runs:
            order = ordered(arts, shuffle, args.seed)
            run = run_newsdesk(order, pg)
            res = evaluate(arts, run["cluster_of"], run["originals"], copy_kinds)
            label = f"{'postgresql' if pg else 'sqlite'}, {'shuffled' if shuffle else 'id order'}"
            print_side_by_side(f"\n{name}: {label}: newsdesk {run['seconds']:.1f}s {dict(run['stats'])}; "
                               f"baseline {base_seconds:.1f}s (order-independent)", res, base, copy_kinds)
            if args.diagnose:
                diagnose(arts, run)
            rows.append(summary_row(f"newsdesk {label}", res, copy_kinds))
        print(f"\n{name} summary:   {'run':<24} {'pairs':>7} {'worst kind recall':>24} {'precision':>9} "
              f"{'s-e':>6} {'orig right':>11}")
        for row in rows:
            print(row)
        print(summary_row("baseline (5-gram >= 0.5)", base, copy_kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
