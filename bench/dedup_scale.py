"""Throughput and memory of dedup_pending as the warehouse index grows.

    python bench/dedup_scale.py [--sizes 10000,100000,1000000] [--sqlite] [--pg] [--step 10000]
                                [--workers N] [--keep-index] [--prewarm] [--profile] [--repeat N]
                                [--through-dedup] [--batch 2000] [--time-budget SECONDS]

For each size, the warehouse is brought to that many indexed articles, then ``--step``
new articles (bases, copies and hard negatives from the evaluation generator, ~14 per
event, dates spread over 60 days) are inserted and ``dedup_pending`` runs on them in a
fresh process. Printed per size: articles/s of that step, CPU per article (of the busiest
dedup process, and of the whole machine: dedup, database server and kernel — on a machine
whose cores the step saturates, the figure that decides throughput), the step's wall time
with its fixed costs (processes starting, a core left idle at the end), PostgreSQL's WAL per
article and the checkpoints during the step, the dedup process's peak RSS (flat memory: it
must not grow with the index), the step's pairwise precision and recall against the
generator's stories, how many step articles joined a cluster of the index (each step story
is new: every one is a false merge), a hash of the step's decisions (equal hashes: two code
versions decided alike on the same step), the index's row counts, and the machine's speed
during the step (``reference``: CPU ms of a fixed workload, see ``SpeedSampler``).

How the index is reached:

* default: the preindexer (``bench/dedup_eval/preindex.py``) writes what dedup would have
  written — clean texts, signatures, bands of originals, clusters, links, learned
  boilerplate — computed by the library's functions, in two processes, into every backend
  from one computation. A million articles take minutes instead of hours;
* ``--through-dedup``: every article goes through ``dedup_pending`` in ``--batch`` steps
  (the index is exactly dedup's own; the printed rate is then the whole climb's average).

``--profile``: the measured step runs under cProfile, with the wall time of each SQL statement.

``--repeat N`` (with ``--keep-index``): the same step measured N times, each on a fresh copy of
the index dropped after it, then the lowest, median and highest rate: this machine's speed
moves by more between runs than most changes do.

``--workers N``: the measured step runs in N dedup processes at once (as several Airflow
workers would; PostgreSQL). CPU and RSS are then those of the busiest process.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

import numpy as np  # noqa: E402
from bench.dedup_eval.load import insert_articles  # noqa: E402
from bench.dedup_eval.preindex import Preindexer, index_seed, learned_boilerplate, seed_articles  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from newsdesk.dedup import dedup_pending  # noqa: E402
from newsdesk.storage import db  # noqa: E402

PG_ADMIN = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: a spawned child's ru_maxrss starts at
    its parent's RSS at fork time (Linux keeps the maximum across exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dedup_worker(url: str, profile: bool = False) -> tuple[int, float, float, float, float]:
    """One dedup process: (articles processed, CPU seconds, peak RSS MB, and when its dedup
    started and ended on the machine's monotonic clock)."""
    engine = db.get_engine(url)
    started = time.perf_counter()
    if profile:
        return *_profiled(engine), started, time.perf_counter()
    c0 = time.process_time()
    stats = dedup_pending(engine)
    out = stats["processed"], time.process_time() - c0, rss_mb(), started, time.perf_counter()
    db.dispose_all()
    return out


def _profiled(engine) -> tuple[int, float, float]:
    """``--profile``: the step under cProfile, with wall time per SQL statement (the server's
    share of the step), printed to stderr. cProfile slows the Python side, so read the report
    as proportions, not as the step's rate."""
    import cProfile
    import pstats

    from sqlalchemy import event

    spent, calls, rows = Counter(), Counter(), Counter()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        key = " ".join(statement.split())[:110]
        spent[key] += time.perf_counter() - conn.info["bench_t0"].pop()
        calls[key] += 1
        rows[key] += max(cursor.rowcount, 0)

    prof = cProfile.Profile()
    c0, t0 = time.process_time(), time.perf_counter()
    prof.enable()
    stats = dedup_pending(engine)
    prof.disable()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    n = max(stats["processed"], 1)
    out = sys.stderr
    print(f"profile: {stats['processed']} articles, wall {wall:.1f} s, process CPU {cpu:.1f} s, SQL wall "
          f"{sum(spent.values()):.1f} s ({1000 * sum(spent.values()) / n:.2f} ms/article); {dict(stats)}", file=out)
    for key, t in spent.most_common(15):
        print(f"  sql {1000 * t / n:6.3f} ms/article  calls={calls[key]:>6} rows={rows[key]:>9}  {key}", file=out)
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
    db.dispose_all()
    return stats["processed"], cpu, rss_mb()


_REFERENCE_WORDS = [f"w{(i * 7919) % 6007}" for i in range(20_000)]


def _reference_work() -> float:
    """CPU seconds of this thread for a fixed workload (~5 ms here): counting, sorting and
    joining strings, blake2b, and a MinHash-shaped numpy product, none of it newsdesk's code."""
    t0 = time.thread_time()
    counted = Counter(_REFERENCE_WORDS)
    joined = " ".join(sorted(counted, key=lambda w: (-counted[w], w)))
    for i in range(0, len(joined), 64):
        hashlib.blake2b(joined[i:i + 64].encode(), digest_size=8).digest()
    a = (np.arange(1, 241, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    x = np.arange(300, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
    for _ in range(4):
        (a[:, None] * x[None, :]).min(axis=1)
    return time.thread_time() - t0


class SpeedSampler:
    """The machine's speed while a step runs: every ``every`` seconds a thread of the parent
    (idle meanwhile, waiting for the workers) times ``_reference_work`` in CPU time, so waiting
    for a core does not count and a slower core does (its 6-13 ms a second are in the machine's
    CPU figure, ~0.5 % of it). On the VM these figures come from, the same code and step ran 2x
    slower in one hour than in another, and this workload alone varied 2x within seconds on
    an idle machine: a rate is comparable with another only next to this figure
    (``reference``: median ms, lower is faster)."""

    def __init__(self, every: float = 1.0):
        self.every, self.samples, self._stop = every, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(_reference_work())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.samples) if self.samples else float("nan")


def server_settings(admin) -> str:
    """The PostgreSQL settings the figures depend on most: a rate means little without them."""
    names = ("server_version", "shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression")
    with admin.connect() as c:
        got = dict(c.execute(text("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(:n)"),
                             {"n": list(names)}).all())
    return " ".join(f"{n}={got.get(n, '?')}" for n in names)


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat: the dedup
    processes, the PostgreSQL server (backends, WAL writer, checkpointer) and the kernel."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def dedup_step(url: str, workers: int, profile: bool = False) -> tuple[int, float, float, float, float, float,
                                                                       float, float]:
    """dedup_pending over everything pending, in ``workers`` fresh processes: (processed, wall
    seconds, CPU seconds and peak RSS of the busiest process, busy and steal CPU seconds of the
    machine meanwhile, seconds until the last process began deduplicating (interpreter start,
    imports), seconds between the first and the last process finishing (a core idle at the
    end: no batch left to claim))."""
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        busy0, steal0 = machine_cpu()
        t0 = time.perf_counter()
        results = pool.starmap(_dedup_worker, [(url, profile)] * workers)
        wall = time.perf_counter() - t0
        busy1, steal1 = machine_cpu()
    return (sum(r[0] for r in results), wall, max(r[1] for r in results), max(r[2] for r in results),
            busy1 - busy0, steal1 - steal0, max(r[3] for r in results) - t0,
            max(r[4] for r in results) - min(r[4] for r in results))


LEARNING_SEEDS = 30
STEP_SEED0 = 10_000_000  # measured steps use seeds far past any preindexed ones


class Source:
    """Generator seeds: the index of size S holds the whole seeds 0, 1, ... that reach S (a seed's
    copies are indexed with their base); measured steps draw from seeds past STEP_SEED0."""

    def __init__(self):
        # 30 seeds (5,100 articles, fewer than the default smallest size) hold every repeated edge
        # line the generator makes at least MIN_ARTICLES times: what dedup learns early in its climb.
        self.learned = learned_boilerplate(range(LEARNING_SEEDS))
        self.per_seed = len(seed_articles(0))
        self.step_seed = STEP_SEED0

    def seeds_for(self, size: int) -> int:
        return -(-size // self.per_seed)

    def step_articles(self, count: int) -> list[dict]:
        out: list[dict] = []
        while len(out) < count:
            out.extend(seed_articles(self.step_seed)[:count - len(out)])
            self.step_seed += 1
        return out

    def preindex(self, writers: list[Preindexer], seeds: range, processes: int = 2) -> None:
        """The given seeds' articles, indexed into every writer, computed once. The processes
        compute the next group of seeds while this one writes the current group (two groups in
        memory at most)."""
        groups = [list(seeds[i:i + 30]) for i in range(0, len(seeds), 30)]
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            pending = pool.map_async(_index_job, [(seed, self.learned) for seed in groups[0]]) if groups else None
            for nxt in groups[1:] + [None]:
                rows = [r for seed_rows in pending.get() for r in seed_rows]
                if nxt is not None:
                    pending = pool.map_async(_index_job, [(seed, self.learned) for seed in nxt])
                for w in writers:
                    w.write(rows)
        for w in writers:
            w.finish()


def _index_job(job):
    seed, learned = job
    return index_seed(seed, learned)


def step_quality(engine, arts: list[dict]) -> tuple[float, float, int, str]:
    """Pairwise precision and recall of the step's clusters against the generator's stories,
    how many step articles joined a cluster of the index (each story is new: none should), and
    a hash of every step article's decision (its cluster's original, relation, similarity):
    two code versions measured on the same step decided alike when their hashes agree."""
    urls = {a["url"]: a["story"] for a in arts}
    with engine.connect() as conn:
        rows = [r for r in conn.execute(text(
            "SELECT a.url, a.cluster_id, a.dedup_state, a.relation, a.similarity, o.url AS original "
            "FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id "
            "LEFT JOIN articles o ON o.id = c.original_article_id")) if r.url in urls]
    digest = hashlib.sha256(repr(sorted((r.url, r.original or "", r.relation or "", round(r.similarity or 0.0, 4))
                                        for r in rows)).encode()).hexdigest()[:10]
    done = [r for r in rows if r.dedup_state == "done" and r.original is not None]
    joined_index = [r.url for r in done if r.original not in urls]
    if joined_index and os.environ.get("NEWSDESK_BENCH_VERBOSE"):
        print("joined an indexed cluster:", joined_index[:5], file=sys.stderr)
    by_cluster: dict[int, list[str]] = {}
    for r in done:
        by_cluster.setdefault(r.cluster_id, []).append(r.url)
    by_story: dict[str, list[str]] = {}
    for u, s in urls.items():
        by_story.setdefault(s, []).append(u)
    predicted = {frozenset(p) for g in by_cluster.values() for p in combinations(sorted(g), 2)}
    truth = {frozenset(p) for g in by_story.values() for p in combinations(sorted(g), 2)}
    precision = len(predicted & truth) / len(predicted) if predicted else 1.0
    recall = len(predicted & truth) / len(truth) if truth else 1.0
    return precision, recall, len(joined_index), digest


def counts(engine) -> Counter:
    with engine.connect() as conn:
        return Counter({t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                        for t in ("articles", "lsh_buckets", "site_paragraphs")})


def _server_version(conn) -> int:
    """PostgreSQL's version number (150000 for 15.0)."""
    return int(conn.execute(text("SHOW server_version_num")).scalar_one())


def server_wal(engine) -> tuple[int, int] | None:
    """PostgreSQL: (WAL bytes written so far, checkpoints so far) of the whole server."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        # PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer
        checkpoints = ("SELECT num_timed + num_requested FROM pg_stat_checkpointer" if _server_version(conn) >= 170000
                       else "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        return (int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one()),
                int(conn.execute(text(checkpoints)).scalar_one()))


def measure(label: str, url: str, engine, src_arts: list[dict], workers: int, profile: bool = False
            ) -> tuple[float, float]:
    insert_articles(engine, src_arts)
    before = counts(engine)
    wal0 = server_wal(engine)
    with SpeedSampler() as speed:
        processed, wall, cpu, peak, busy, steal, startup, tail = dedup_step(url, workers, profile)
    wal1 = server_wal(engine)
    precision, recall, joined, digest = step_quality(engine, src_arts)
    n = max(processed, 1)
    # WAL per article and checkpoints during the step: a checkpoint makes the next change of
    # every index page write the whole page to WAL again, a large share of the server's work.
    wal = "" if wal0 is None else (f" wal={(wal1[0] - wal0[0]) / n / 1024:5.1f} kB/article "
                                   f"checkpoints={wal1[1] - wal0[1]}")
    print(f"{label:<10} workers={workers} indexed={before['articles'] - len(src_arts):>8} step={processed:>6} "
          f"dedup={processed / wall:7.1f} articles/s (cpu {1000 * cpu / n:5.2f} ms/article, "
          f"busiest process; machine {1000 * busy / n:5.2f} ms/article, steal {1000 * steal / n:4.2f}; "
          f"wall {wall:.1f} s, of which startup {startup:.2f} s, tail {tail:.2f} s){wal} "
          f"peak_rss={peak:6.1f} MB precision={precision:.3f} recall={recall:.3f} "
          f"joined_index={joined} decisions={digest} lsh_rows={before['lsh_buckets']} "
          f"site_paragraphs={before['site_paragraphs']} reference={speed.median_ms:.2f} ms",
          flush=True)
    return processed / wall, 1000 * busy / n


def _fingerprint(learned) -> str:
    """Identity of what the preindexer writes: a hash of the rows it computes for two probe
    seeds (clean texts, signatures, bands, features, verdicts) and of the learned boilerplate.
    A cached index is reused only while the library computes the same rows; migrations are
    not part of it (a cached warehouse is upgraded before it is measured)."""
    h = hashlib.sha256(repr(sorted((d, sorted(hs)) for d, hs in learned.items())).encode())
    for seed in (0, 1):
        for r in index_seed(seed, learned):
            h.update(repr([r[k] for k in ("url", "clean_text", "attribution", "key", "minhash", "lexhash", "buckets",
                                          "token_count", "numbers", "names", "pub_day", "edges")]).encode())
            h.update(repr(r["verdict"][:2] if r["verdict"] else None).encode())
    return h.hexdigest()[:10]


class Warehouses:
    """Index states kept between runs (``--keep-index``): a PostgreSQL template database and a
    SQLite file per (backend, size, code fingerprint); every measurement runs on a copy."""

    def __init__(self, admin, keep: bool, learned, prewarm: bool = False):
        self.admin, self.keep, self.prewarm = admin, keep, prewarm
        self.tag = _fingerprint(learned)
        self.made: list[tuple[str, str]] = []
        self.cache_dir = Path(tempfile.gettempdir()) / "newsdesk_dedup_scale"
        self.cache_dir.mkdir(exist_ok=True)

    def _pg_url(self, name: str) -> str:
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name

    def cached(self, backend: str, size: int) -> str | None:
        if not self.keep:
            return None
        if backend == "postgresql":
            name = f"ndscale_{self.tag}_{size}"
            with self.admin.connect() as c:
                found = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            return name if found else None
        path = self.cache_dir / f"{self.tag}_{size}.db"
        return str(path) if path.exists() else None

    def fresh(self, backend: str, template: str | None) -> str:
        """A new working warehouse (a copy of ``template`` when given); returns its URL."""
        db.dispose_all()
        if backend == "postgresql":
            name = f"ndscale_work_{uuid.uuid4().hex[:8]}"
            with self.admin.connect() as c:
                # FILE_COPY (PostgreSQL 15+, where WAL_LOG became the default): the copy is
                # checkpointed files, not ~11 GB of WAL whose checkpoint would still be writing
                # while the step is measured.
                file_copy = _server_version(c) >= 150000
                c.execute(text(f'CREATE DATABASE "{name}"' + (
                    f' TEMPLATE "{template}"' + (" STRATEGY FILE_COPY" if file_copy else "") if template else "")))
            self.made.append(("postgresql", name))
            url = self._pg_url(name)
            if template and self.prewarm:
                self._evict_template(template)
                self._prewarm(url)
            return url
        path = Path(tempfile.mkdtemp()) / "scale.db"
        if template:
            shutil.copyfile(template, path)
        self.made.append(("sqlite", str(path)))
        return f"sqlite:///{path}"

    def _evict_template(self, template: str) -> None:
        """The template's files dropped from the OS page cache (``posix_fadvise`` DONTNEED), where
        the server's files are readable (a local server, run as root or as its owner).

        Copying the 12 GB template reads it all, and it stays cached beside the 12 GB copy: on a
        24 GB machine the prewarmed copy then did not fit: the first half of the step read
        30–100 MB/s from disk with up to 19 % iowait. A production server holds no such template."""
        with self.admin.connect() as c:
            data_dir = c.execute(text("SHOW data_directory")).scalar_one()
            oid = c.execute(text("SELECT oid FROM pg_database WHERE datname = :n"), {"n": template}).scalar_one()
        folder = Path(data_dir) / "base" / str(oid)
        try:
            files = [f for f in folder.iterdir() if f.is_file()]
        except OSError:
            return  # a remote server, or its files not readable here: measured as it is
        for f in files:
            try:
                fd = os.open(f, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)

    @staticmethod
    def _prewarm(url: str) -> None:
        """Every relation of the copy read into the OS page cache (pg_prewarm 'read'), as on a
        server that has been deduplicating into it: the step then measures the steady state,
        not first reads of a freshly copied database. A server given the memory keeps what dedup
        reads at random in ``shared_buffers``: the bucket index first (every probe and insert lands
        on it), then the other indexes, then the candidates' signatures, are loaded into them
        (pg_prewarm 'buffer') while they fit in half of it (none at the default 128 MB)."""
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as c:
                c.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
                c.execute(text("SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
                               "JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE c.relkind IN ('r', 'i', 't') AND n.nspname IN ('public', 'pg_toast')"))
                room = c.execute(text("SELECT pg_size_bytes(current_setting('shared_buffers')) / 2")).scalar_one()
                hot = c.execute(text(
                    "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND (c.relkind = 'i' "
                    "OR c.relname = 'dedup_signatures') ORDER BY c.relname <> 'pk_lsh_buckets', "
                    "c.relkind <> 'i', c.relname")).all()
                for name, size in hot:
                    if size > room:
                        break
                    room -= size
                    c.execute(text("SELECT pg_prewarm(CAST(:r AS regclass), 'buffer')"), {"r": name})
        finally:
            engine.dispose()

    def save(self, backend: str, url: str, size: int) -> None:
        if not self.keep:
            return
        db.dispose_all()
        if backend == "postgresql":
            with self.admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "ndscale_{self.tag}_{size}" TEMPLATE "{url.rsplit("/", 1)[1]}"'))
        else:
            src = url.removeprefix("sqlite:///")
            with sqlite3.connect(src) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(src, self.cache_dir / f"{self.tag}_{size}.db")

    def drop(self, backend: str, url: str) -> None:
        """One working warehouse dropped now (a 1M copy is 12 GB)."""
        name = url.rsplit("/", 1)[1] if backend == "postgresql" else url.removeprefix("sqlite:///")
        self._drop([(backend, name)])
        self.made.remove((backend, name))

    def drop_working(self) -> None:
        self._drop(self.made)

    def _drop(self, made) -> None:
        db.dispose_all()
        for backend, name in made:
            if backend == "postgresql":
                with self.admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                shutil.rmtree(Path(name).parent, ignore_errors=True)


def run_bulk(backends: list[str], sizes: list[int], step: int, workers: int, store: Warehouses,
             profile: bool = False, repeat: int = 1) -> None:
    """Each size reached by the preindexer (every backend from one computation, starting from
    the largest state already built), then a measured step on a copy of it (``repeat`` times,
    each on its own copy, when the index is kept)."""
    src = Source()
    state: dict[str, str] = {}  # backend -> url of the working warehouse holding `have` seeds
    have = 0
    for size in sizes:
        seeds = src.seeds_for(size)
        cached = {b: store.cached(b, seeds * src.per_seed) for b in backends}
        if all(cached.values()):
            have = seeds
            state = {}
        else:
            for b in backends:
                if b not in state:
                    state[b] = store.fresh(b, store.cached(b, have * src.per_seed) if have else None)
                    db.upgrade(db.get_engine(state[b]))
            t0 = time.perf_counter()
            writers = [Preindexer(db.get_engine(state[b]), src.learned) for b in backends]
            src.preindex(writers, range(have, seeds))
            print(f"preindexed {(seeds - have) * src.per_seed} articles (seeds {have}-{seeds - 1}) into "
                  f"{', '.join(backends)} in {time.perf_counter() - t0:.0f} s ({dict(writers[0].stats)})", flush=True)
            have = seeds
            for b in backends:
                store.save(b, state[b], seeds * src.per_seed)
        arts = src.step_articles(step)
        for b in backends:
            template = store.cached(b, seeds * src.per_seed)
            runs = []
            for _ in range(repeat if template else 1):
                # not keeping: the step's articles join the working index, measured once
                url = store.fresh(b, template) if template else state[b]
                engine = db.get_engine(url)
                db.upgrade(engine)
                runs.append(measure(b, url, engine, arts, workers if b == "postgresql" else 1, profile))
                if template:
                    store.drop(b, url)
            if len(runs) > 1:
                rates, machine = sorted(r for r, _ in runs), sorted(m for _, m in runs)
                print(f"{b:<10} {repeat} runs: dedup={rates[0]:.1f} / {statistics.median(rates):.1f} / "
                      f"{rates[-1]:.1f} articles/s (lowest / median / highest); machine "
                      f"{machine[0]:.2f}–{machine[-1]:.2f} ms/article", flush=True)
    db.dispose_all()


def run_through_dedup(label: str, url: str, sizes: list[int], batch: int, budget: float | None,
                      workers: int) -> None:
    """The index built by dedup itself, step after step; prints each climb's average rate."""
    engine = db.get_engine(url)
    db.upgrade(engine)
    src = Source()
    have = 0
    started = time.perf_counter()
    for size in sizes:
        t_dedup = c_dedup = peak = 0.0
        done = 0
        partial = False
        while have < size:
            if budget is not None and time.perf_counter() - started > budget:
                partial = True
                break
            n = min(batch, size - have)
            insert_articles(engine, src.articles(n))
            processed, wall, cpu, rss, *_ = dedup_step(url, workers)
            t_dedup += wall
            c_dedup += cpu
            peak = max(peak, rss)
            done += processed
            have += n
        if done:
            c = counts(engine)
            print(f"{label:<10} workers={workers} indexed={have:>8} climb={done:>7} "
                  f"dedup={done / t_dedup:7.1f} articles/s (cpu {1000 * c_dedup / done:5.2f} ms/article) "
                  f"peak_rss={peak:6.1f} MB lsh_rows={c['lsh_buckets']}"
                  f"{' partial (time budget)' if partial else ''}", flush=True)
        if partial:
            break
    db.dispose_all()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--step", type=int, default=10000, help="articles deduplicated and timed at each size")
    ap.add_argument("--workers", type=int, default=1, help="dedup processes at once (PostgreSQL)")
    ap.add_argument("--through-dedup", action="store_true", help="build the index through dedup_pending")
    ap.add_argument("--batch", type=int, default=2000, help="--through-dedup: articles per climb step")
    ap.add_argument("--time-budget", type=float, default=None, help="--through-dedup: seconds per backend")
    ap.add_argument("--keep-index", action="store_true",
                    help="keep each size's index (PostgreSQL template databases ndscale_*, SQLite files under "
                         "$TMPDIR/newsdesk_dedup_scale) and reuse them while the indexing code is unchanged")
    ap.add_argument("--prewarm", action="store_true",
                    help="PostgreSQL, with --keep-index: read the copied warehouse into the OS page cache "
                         "before the step (pg_prewarm; the template's files dropped from it first), and into "
                         "shared_buffers what dedup reads at random, as far as half of them holds, as on a "
                         "server in steady state")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --keep-index: measure each step this many times, each on a fresh copy of the index")
    ap.add_argument("--profile", action="store_true",
                    help="print a cProfile of each measured step and its time per SQL statement (stderr)")
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not (args.sqlite or args.pg):
        args.sqlite = args.pg = True
    backends = (["sqlite"] if args.sqlite else []) + (["postgresql"] if args.pg else [])
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    if args.pg:
        print(f"postgresql server: {server_settings(admin)}", flush=True)
    store = Warehouses(admin, args.keep_index, Source().learned, args.prewarm)
    try:
        if args.through_dedup:
            for b in backends:
                run_through_dedup(b, store.fresh(b, None), sizes, args.batch, args.time_budget,
                                  args.workers if b == "postgresql" else 1)
        else:
            run_bulk(backends, sizes, args.step, args.workers, store, args.profile, max(1, args.repeat))
    finally:
        store.drop_working()
    return 0


if __name__ == "__main__":
    sys.exit(main())
