"""Archive import speed: `newsdesk import` against single-process trafilatura.extract.

    python bench/archive.py                # 20,000 records (the reference run)
    python bench/archive.py --records 2000 # a quick run

Generates (once, cached under var/bench/) a deterministic WARC of realistic news
pages (tests/data/warc_gen.py: five templates, mega-menus, inline config scripts,
related links, comments; 4-22 paragraphs), then, in the same run:

1. baseline: stream the same WARC and call ``trafilatura.extract`` on every HTML
   record in this one process;
2. ``newsdesk import FILE --database sqlite:///<tmp> --no-dedup`` as a subprocess
   (read, extract in worker processes, load), sampling the RSS of the process and
   all its children every 0.1 s for the peak;
3. ``dedup`` of a sample of the imported articles (reported separately: its cost
   belongs to the dedup stage, not to the archive path);
4. ``extract_article`` single-process on a sample, to show the parallel speed-up.

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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data"))

from warc_gen import news_records, write_warc  # noqa: E402


def generate(records: int, seed: int) -> Path:
    path = REPO / "var" / "bench" / f"archive-{records}-s{seed}.warc.gz"
    if not path.exists():
        t = time.perf_counter()
        tmp = path.with_suffix(".tmp")
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


def tree_sample(proc, cpu: dict[int, float]) -> int:
    """RSS of the process and all its descendants; records each one's CPU time in ``cpu``."""
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            with p.oneshot():
                total += p.memory_info().rss
                t = p.cpu_times()
                cpu[p.pid] = max(cpu.get(p.pid, 0.0), t.user + t.system)
        except psutil.NoSuchProcess:
            pass
    return total


def run_import(path: Path, db_url: str, workers: int | None) -> dict:
    import psutil

    cmd = [str(Path(sys.executable).with_name("newsdesk")), "import", str(path), "--database", db_url, "-q",
           "--no-dedup"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    out = tempfile.TemporaryFile()
    cpu_by_pid: dict[int, float] = {}
    t = time.perf_counter()
    popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
    proc = psutil.Process(popen.pid)
    peak = 0
    while popen.poll() is None:
        peak = max(peak, tree_sample(proc, cpu_by_pid))
        time.sleep(0.1)
    wall = time.perf_counter() - t
    cpu = sum(cpu_by_pid.values())  # the import, its forkserver and workers (sampled every 0.1 s)
    if popen.returncode != 0:
        raise SystemExit(f"newsdesk import failed ({popen.returncode}): {popen.stderr.read().decode()[-2000:]}")
    out.seek(0)
    report = json.loads(out.read())
    stats = report["files"][str(path)]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": peak / 1e6,
        "records": stats["records"],
        "articles": stats["articles"],
        "file_seconds": stats["seconds"],
        "skipped": stats["skipped"],
    }


def run_dedup(db_url: str, limit: int) -> tuple[dict, float]:
    from newsdesk import pipeline
    from newsdesk.config import Settings
    from newsdesk.storage import db

    settings = Settings.from_env(database_url=db_url)
    t = time.perf_counter()
    stats = pipeline.dedup(db.get_engine(db_url), settings, limit=limit)
    return stats, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    parser.add_argument("--sample", type=int, default=1000, help="records for the single-process extract_article rate")
    parser.add_argument("--dedup-sample", type=int, default=1000,
                        help="articles to dedup after the import, for the dedup rate (0: skip)")
    args = parser.parse_args(argv)

    path = generate(args.records, args.seed)
    load_before = os.getloadavg()
    print(f"load average before: {load_before} (other processes on the machine distort wall-clock rates)",
          file=sys.stderr)

    n_traf, t_traf, c_traf = baseline_trafilatura(path)
    traf_rate = n_traf / t_traf
    print(f"trafilatura.extract, 1 process: {n_traf} records in {t_traf:.1f}s (CPU {c_traf:.1f}s) = "
          f"{traf_rate:.1f}/s", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        db_url = f"sqlite:///{tmp}/warehouse.db"
        imp = run_import(path, db_url, args.workers)
        html = n_traf
        imp_rate = html / imp["wall_s"]
        print(f"newsdesk import: {imp['records']} records ({html} HTML, {imp['articles']} articles) in "
              f"{imp['wall_s']:.1f}s (CPU {imp['cpu_s']:.1f}s) = {imp_rate:.1f}/s, peak RSS "
              f"{imp['peak_rss_mb']:.0f} MB", file=sys.stderr)
        n_dedup = min(args.dedup_sample, imp["articles"])
        dedup_stats, t_dedup = run_dedup(db_url, n_dedup) if n_dedup else ({}, 0.0)
        if n_dedup:
            print(f"dedup of the first {n_dedup} articles: {t_dedup:.1f}s = {n_dedup / t_dedup:.1f}/s "
                  f"{dedup_stats}", file=sys.stderr)

    n_ea, t_ea = baseline_extract_article(path, min(args.sample, html))
    ea_rate = n_ea / t_ea

    result = {
        "records": args.records, "html_records": html, "cpus": os.cpu_count(),
        "trafilatura_1proc_per_s": round(traf_rate, 1),
        "extract_article_1proc_per_s": round(ea_rate, 1),
        "import_per_s": round(imp_rate, 1),
        "import_vs_trafilatura": round(imp_rate / traf_rate, 2),
        "import_vs_extract_article_1proc": round(imp_rate / ea_rate, 2),
        "import_wall_s": round(imp["wall_s"], 1),
        # CPU time is independent of other load on the machine: CPU-seconds per 1000 records
        "trafilatura_cpu_s_per_1k": round(1000 * c_traf / n_traf, 1),
        "import_cpu_s_per_1k_all_processes": round(1000 * imp["cpu_s"] / html, 1),
        # the rate the import would reach with its CPU time spread over every CPU, contention-free
        "import_cpu_bound_per_s": round(html / (imp["cpu_s"] / (os.cpu_count() or 1)), 1),
        "peak_rss_mb": round(imp["peak_rss_mb"]),
        "dedup_sample": n_dedup, "dedup_per_s": round(n_dedup / t_dedup, 1) if t_dedup else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print()
    print(f"{'measure':44s} {'value':>10s}")
    for key, value in result.items():
        print(f"{key:44s} {str(value):>10s}")
    print("target: import_vs_trafilatura >= 1.6 and peak_rss_mb < 1000:",
          "MET" if result["import_vs_trafilatura"] >= 1.6 and result["peak_rss_mb"] < 1000 else "NOT MET")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
