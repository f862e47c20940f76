"""Archive import speed: the whole ``newsdesk import`` against single-process trafilatura.extract.

    python bench/archive.py                      # >= 5,000 real-page records, SQLite and PostgreSQL
    python bench/archive.py --records 1000 --databases sqlite   # a quick run
    python bench/archive.py --generated --records 20000         # the generated pages (tests/data/warc_gen.py)

The WARC (built once, cached under var/bench/) holds real news pages and their
republications (bench/real_warc.py: the extraction dev set's pages, read at run time from
../shared/data/extraction-dev, and the snapshot's article pages; copies with site
boilerplate, truncated, with the headline and an attribution line; repeated under distinct
URLs). In the same run:

1. baseline: stream the same WARC and call ``trafilatura.extract`` on every HTML record in
   this one process, before and after the imports (the mean is the reference rate);
2. for each database (SQLite file, a fresh PostgreSQL database on 127.0.0.1:5432):
   ``newsdesk import FILE --database URL -q`` as a subprocess, as a user runs it: extraction,
   search index, load AND deduplication. Sampled every 0.1 s: RSS and CPU of every process
   (parent, forkserver, workers, dedup processes); every second: articles loaded and
   deduplicated (the rates over the run). The import's own report adds the dedup thread's
   CPU, the workers' busy time and when extraction and dedup finished;
3. ``--dump DIR``: each import's cluster assignments (url -> original's url, relation) for
   comparing dedup decisions between versions.

Prints a table and a JSON line. Targets: import >= 1.6x the trafilatura rate, peak
memory < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data"))
sys.path.insert(0, str(REPO / "bench"))

from warc_gen import news_records, write_warc  # noqa: E402

import real_warc  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def generate(records: int, seed: int, real: bool = True) -> Path:
    kind = "real" if real else "archive"
    path = REPO / "var" / "bench" / f"{kind}-{records}-s{seed}.warc.gz"
    if not path.exists():
        t = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        if real:
            real_warc.write(tmp, records, seed)
        else:
            write_warc(tmp, news_records(records, seed), seed=seed)
        tmp.rename(path)
        print(f"generated {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s",
              file=sys.stderr)
    return path


def html_records(path: Path):
    from newsdesk.fetch.archived import open_archive, scan_archive

    with open_archive(str(path)) as stream:
        for item in scan_archive(stream):
            if item.page is not None:
                yield item.page


def baseline_trafilatura(path: Path) -> tuple[int, float, float]:
    import trafilatura

    n, t, c = 0, time.perf_counter(), time.process_time()
    for page in html_records(path):
        trafilatura.extract(page.body, url=page.url)
        n += 1
    return n, time.perf_counter() - t, time.process_time() - c


def _html_count(path: Path) -> int:
    return sum(1 for _ in html_records(path))


def baseline_extract_article(path: Path, limit: int) -> tuple[int, float]:
    from newsdesk.extract import ExtractionError, extract_article

    n, t = 0, time.perf_counter()
    for page in html_records(path):
        try:
            extract_article(page.body, page.url, page.content_type)
        except ExtractionError:
            pass
        n += 1
        if n >= limit:
            break
    return n, time.perf_counter() - t


def tree_pss(proc) -> int:
    """Proportional set size of the process and its descendants: shared pages (the forkserver's
    modules in every worker) counted once, split among the processes that share them."""
    import psutil

    total = 0
    try:
        tree = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    for p in tree:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
            pass
    return total


def tree_sample(proc, procs: dict[int, dict]) -> int:
    """RSS of the process and all its descendants; records each one's role and CPU time."""
    import psutil

    total = 0
    try:
        tree = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    for p in tree:
        try:
            with p.oneshot():
                rss = p.memory_info().rss
                total += rss
                t = p.cpu_times()
                info = procs.setdefault(p.pid, {"role": _role(proc, p), "cpu": 0.0, "rss": 0})
                info["cpu"] = max(info["cpu"], t.user + t.system)
                info["rss"] = max(info["rss"], rss)
        except psutil.NoSuchProcess:
            pass
    return total


def server_sample(database: str, procs: dict[int, dict]) -> None:
    """PostgreSQL: the CPU of the server's backends serving the import (its triggers compute
    the search index's tsvectors there): part of the import's cost on this machine."""
    import psutil

    for p in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(p.info["cmdline"] or [])
        if cmdline.startswith("postgres: ") and f" {database} " in f"{cmdline} ":
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            info = procs.setdefault(p.pid, {"role": "postgres_server", "cpu": 0.0, "rss": 0})
            info["cpu"] = max(info["cpu"], t.user + t.system)


def _role(root, p) -> str:
    if p.pid == root.pid:
        return "parent"
    cmdline = " ".join(p.cmdline())
    if "forkserver" in cmdline and p.ppid() == root.pid:
        return "forkserver"
    if "forkserver" in cmdline:
        return "worker"
    if "spawn_main" in cmdline:
        return "dedup"  # spawned dedup processes (PostgreSQL, NEWSDESK_DEDUP_WORKERS > 1)
    return "other"  # multiprocessing's resource tracker


def _counts(engine) -> tuple[int, int]:
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT count(*), count(*) FILTER (WHERE dedup_state = 'done') FROM articles")).one()
            return int(row[0]), int(row[1])
    except Exception:  # not created yet, or locked
        return -1, -1


def run_import(path: Path, db_url: str, workers: int | None, extra: list[str], env: dict) -> dict:
    import psutil
    from sqlalchemy import create_engine

    cmd = [str(Path(sys.executable).with_name("newsdesk")), "import", str(path), "--database", db_url, "-q", *extra]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    out = tempfile.TemporaryFile()
    procs: dict[int, dict] = {}
    watcher = create_engine(db_url, poolclass=__import__("sqlalchemy.pool", fromlist=["NullPool"]).NullPool)
    timeline: list[tuple[float, int, int]] = []
    t = time.perf_counter()
    popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env={**os.environ, **env})
    proc = psutil.Process(popen.pid)
    peak, peak_pss, next_count = 0, 0, t + 1.0
    database = db_url.rsplit("/", 1)[-1]
    while popen.poll() is None:
        peak = max(peak, tree_sample(proc, procs))
        if db_url.startswith("postgresql"):
            server_sample(database, procs)
        if time.perf_counter() >= next_count:
            next_count += 1.0
            peak_pss = max(peak_pss, tree_pss(proc))
            timeline.append((time.perf_counter() - t, *_counts(watcher)))
        time.sleep(0.1)
    wall = time.perf_counter() - t
    watcher.dispose()
    if popen.returncode != 0:
        raise SystemExit(f"newsdesk import failed ({popen.returncode}): {popen.stderr.read().decode()[-2000:]}")
    out.seek(0)
    report = json.loads(out.read())
    stats = report["files"][str(path)]
    cpu, rss = {}, {}
    for info in procs.values():
        cpu[info["role"]] = cpu.get(info["role"], 0.0) + info["cpu"]
        rss[info["role"]] = max(rss.get(info["role"], 0), round(info["rss"] / 1e6))
    return {
        "wall_s": wall, "cpu_by_role": cpu, "cpu_s": sum(cpu.values()), "peak_rss_mb": peak / 1e6,
        "peak_rss_mb_by_role": rss,
        "peak_pss_mb": peak_pss / 1e6,
        "records": stats["records"], "articles": stats["articles"], "skipped": stats["skipped"],
        "dedup": report.get("dedup"), "timings": report.get("timings", {}), "timeline": timeline,
    }


def dump_clusters(db_url: str, out: Path) -> None:
    """url -> (relation, the url of its cluster's original): dedup's decisions, comparable across runs."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.url, a.relation, o.url FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id "
            "LEFT JOIN articles o ON o.id = c.original_article_id ORDER BY a.url")).all()
    engine.dispose()
    out.write_text("".join(f"{u}\t{r}\t{o}\n" for u, r, o in rows))


def pg_database() -> tuple[str, str]:
    import psycopg

    name = f"bench_archive_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{PG_SERVER}/{name}"


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rates_over_run(timeline: list[tuple[float, int, int]], wall: float) -> dict:
    """Articles/s loaded and deduplicated in each fifth of the run (counts sampled each second)."""
    out = {}
    for key, col in (("loaded_per_s_by_fifth", 1), ("deduplicated_per_s_by_fifth", 2)):
        points = [(r[0], r[col]) for r in timeline if r[col] >= 0]
        if not points:
            continue
        fifths, prev_t, prev_n = [], 0.0, 0
        for i in range(1, 6):
            edge = wall * i / 5
            seen = [p for p in points if p[0] <= edge]
            t_i, n_i = seen[-1] if seen else (prev_t, prev_n)
            fifths.append(round((n_i - prev_n) / (t_i - prev_t), 1) if t_i > prev_t else 0.0)
            prev_t, prev_n = t_i, n_i
        out[key] = fifths
    return out


def describe(label: str, imp: dict, html: int, traf_rate: float, traf_cpu_ms: float) -> dict:
    rate = html / imp["wall_s"]
    cpu = imp["cpu_by_role"]
    t = imp["timings"]
    busy, alive = t.get("worker_busy_s"), t.get("worker_alive_s")
    dedup_thread = t.get("dedup_cpu_s") or 0.0
    row = {
        "database": label, "per_s": round(rate, 1), "vs_trafilatura": round(rate / traf_rate, 2),
        "wall_s": round(imp["wall_s"], 1), "articles": imp["articles"],
        "cpu_ms_per_record_all": round(1000 * imp["cpu_s"] / html, 2),
        # load-independent: the import's CPU spread over every core, against trafilatura's CPU
        "cpu_bound_vs_trafilatura": round((os.cpu_count() or 1) * traf_cpu_ms / (1000 * imp["cpu_s"] / html), 2)
        if traf_cpu_ms else None,
        "cpu_s_parent_without_dedup": round(cpu.get("parent", 0) - dedup_thread, 1),
        "cpu_s_dedup": round(dedup_thread + cpu.get("dedup", 0), 1),
        "cpu_s_workers": round(cpu.get("worker", 0), 1),
        "cpu_s_forkserver": round(cpu.get("forkserver", 0), 1),
        "cpu_s_postgres_server": round(cpu["postgres_server"], 1) if "postgres_server" in cpu else None,
        "worker_busy_s": busy, "worker_idle_s": round(alive - busy, 1) if busy is not None and alive else None,
        "extraction_done_s": t.get("extraction_s"), "dedup_after_extraction_s": t.get("dedup_tail_s"),
        "peak_rss_mb": round(imp["peak_rss_mb"]), "peak_pss_mb": round(imp["peak_pss_mb"]),
        "peak_rss_mb_one_process_by_role": imp["peak_rss_mb_by_role"],
        **rates_over_run(imp["timeline"], imp["wall_s"]),
        "dedup": imp["dedup"],
    }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--generated", action="store_true", help="generated pages (tests/data/warc_gen.py)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    parser.add_argument("--dedup-workers", type=int, default=None, help="PostgreSQL: NEWSDESK_DEDUP_WORKERS")
    parser.add_argument("--import-args", default="", help="extra arguments to newsdesk import (e.g. --no-dedup)")
    parser.add_argument("--baseline-after", action="store_true",
                        help="trafilatura again after the imports (the reference is then the mean of both)")
    parser.add_argument("--no-baseline", action="store_true", help="skip trafilatura (while working on the import)")
    parser.add_argument("--dump", type=Path, help="write each import's cluster assignments to DIR/<database>.tsv")
    args = parser.parse_args(argv)

    path = generate(args.records, args.seed, real=not args.generated)
    load_before = os.getloadavg()
    print(f"load average before: {load_before}", file=sys.stderr)

    n1, t1, c1 = baseline_trafilatura(path) if not args.no_baseline else (_html_count(path), 1e9, 0.0)
    print(f"trafilatura.extract, 1 process: {n1} records in {t1:.1f}s (CPU {c1:.1f}s) = {n1 / t1:.1f}/s",
          file=sys.stderr)
    rows = []
    env = {} if args.dedup_workers is None else {"NEWSDESK_DEDUP_WORKERS": str(args.dedup_workers)}
    for database in args.databases.split(","):
        pg_name = None
        with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
            if database == "sqlite":
                db_url = f"sqlite:///{tmp}/warehouse.db"
            else:
                pg_name, db_url = pg_database()
            try:
                imp = run_import(path, db_url, args.workers, args.import_args.split(), env)
                if args.dump:
                    args.dump.mkdir(parents=True, exist_ok=True)
                    dump_clusters(db_url, args.dump / f"{database}.tsv")
            finally:
                if pg_name:
                    drop_pg_database(pg_name)
        rows.append((database, imp))
        print(f"newsdesk import ({database}): {imp['records']} records, {imp['articles']} articles in "
              f"{imp['wall_s']:.1f}s, CPU {imp['cpu_by_role']}, timings {imp['timings']}", file=sys.stderr)
    n2, t2, c2 = 0, 0.0, 0.0
    if args.baseline_after and not args.no_baseline:
        n2, t2, c2 = baseline_trafilatura(path)
        print(f"trafilatura.extract, 1 process, again: {n2 / t2:.1f}/s", file=sys.stderr)
    traf_rate = (n1 + n2) / (t1 + t2)
    html = n1
    load_after = os.getloadavg()

    result = {
        "warc": path.name, "html_records": html, "cpus": os.cpu_count(),
        "trafilatura_1proc_per_s": round(traf_rate, 1),
        "trafilatura_before_after_per_s": [round(n1 / t1, 1)] + ([round(n2 / t2, 1)] if t2 else []),
        "trafilatura_cpu_ms_per_record": round(1000 * (c1 + c2) / (n1 + n2), 2),
        "cpu_budget_ms_per_record_for_1_6x": round(1000 * (c1 + c2) / (n1 + n2) * (os.cpu_count() or 1) / 1.6, 2),
        "imports": [describe(db, imp, html, traf_rate, 1000 * (c1 + c2) / (n1 + n2)) for db, imp in rows],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
    print()
    for key, value in result.items():
        if key != "imports":
            print(f"{key:44s} {value}")
    for row in result["imports"]:
        print(f"-- newsdesk import, {row['database']}")
        for key, value in row.items():
            print(f"   {key:41s} {value}")
        met = row["vs_trafilatura"] >= 1.6 and row["peak_rss_mb"] < 1000
        print(f"   target >= 1.6x trafilatura and peak RSS < 1 GB: {'MET' if met else 'NOT MET'}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
