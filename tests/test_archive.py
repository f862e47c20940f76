"""WARC backfill: bad records, resume after a crash or SIGKILL, filters, fsspec roots, the CLI contract."""

from __future__ import annotations

import io
import json
import os
import platform
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from newsdesk import pipeline
from newsdesk.archive import locate, warc
from newsdesk.archive.parallel import ExtractorPool
from newsdesk.archive.warc import ImportOptions, import_warcs
from newsdesk.fetch.archived import read_body
from newsdesk.storage import loads, schema

sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import RecordSpec, bad_records, news_page, news_records, write_warc

NEWSDESK = Path(sys.executable).with_name("newsdesk")
MAX_BODY = 100_000  # "oversized" records of warc_gen are above this


class ImportKilled(BaseException):
    """The import's process dying (a BaseException, like SystemExit: the importer cannot catch it)."""


@contextmanager
def import_dies_after(records: int):
    """Imports inside the block die right after the batch that brings their committed records
    to ``records``: the block expects ``ImportKilled``."""
    commit = warc._Importer._commit

    def commit_then_die(self, batch, prog):
        commit(self, batch, prog)
        if prog.records >= records:
            raise ImportKilled(f"killed after {prog.records} records")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warc._Importer, "_commit", commit_then_die)
        with pytest.raises(ImportKilled):
            yield


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("pages", "raw_pages", "articles")}


def progress_row(engine, path):
    with engine.connect() as conn:
        return conn.execute(select(schema.archive_files).where(schema.archive_files.c.path == str(path))).first()


@pytest.fixture
def small_settings(settings):
    return settings.with_(max_body_bytes=MAX_BODY)


@pytest.fixture(scope="module")
def pool():
    with ExtractorPool(2) as p:
        p.warm_up()
        yield p


def mixed_specs(n: int = 40, seed: int = 3):
    yield from news_records(n // 2, seed)
    yield from bad_records(seed)
    yield from news_records(n - n // 2, seed, start=n)


EXPECTED_SKIPS = {"request": 1, "revisit": 1, "metadata": 1, "warcinfo": 1, "not_html": 1, "too_large": 1,
                  "undecodable": 1, "http_404": 1}


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_import_skips_every_bad_record_kind_and_goes_on(engine, small_settings, tmp_path, gz, pool):
    path = tmp_path / ("mixed.warc.gz" if gz else "mixed.warc")
    # a damaged gzip member in the middle (gzip) and a cut download at the end (both)
    written = write_warc(path, mixed_specs(40), gzip=gz, damage_member=5 if gz else None, truncate_after=46)
    report = import_warcs(engine, small_settings, [path], options=ImportOptions(batch_size=7), pool=pool)
    stats = report["files"][str(path)]
    assert stats["status"] == "done"
    skipped = stats["skipped"]
    for reason, n in EXPECTED_SKIPS.items():
        assert skipped.get(reason) == n, (reason, skipped)
    assert skipped["damaged"] == (2 if gz else 1), skipped
    assert stats["errors"], "damage is reported"
    good = written["response"]  # intact HTML responses, bad_charset counted separately
    assert stats["articles"] == good == counts(engine)["articles"]
    assert stats["records"] == sum(written.values()) + 1  # + warcinfo
    assert report["extracted"] == good
    with engine.connect() as conn:
        origins = set(conn.execute(select(schema.pages.c.origin)).scalars())
        states = set(conn.execute(select(schema.pages.c.state)).scalars())
        assert conn.execute(text("SELECT COUNT(*) FROM articles WHERE text = ''")).scalar_one() == 0
    assert origins == {"warc"} and states == {"extracted"}


@pytest.mark.slow
def test_rerun_is_noop_and_reprocess_refreshes_without_doubling(sqlite_engine, small_settings, tmp_path):
    path = tmp_path / "a.warc.gz"
    write_warc(path, news_records(25, 5))
    opts = dict(workers=0, batch_size=10)
    first = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))
    assert first["files"][str(path)]["articles"] == 25
    before = counts(sqlite_engine)
    again = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))
    assert again["files"][str(path)]["status"] == "already_done"
    assert again["extracted"] == 0
    again = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(reprocess=True, **opts))
    stats = again["files"][str(path)]
    assert stats["status"] == "done" and stats["articles"] == 25 and stats["records"] == 26
    assert counts(sqlite_engine) == before
    assert progress_row(sqlite_engine, path).attempts == 2


@pytest.mark.slow
def test_an_import_killed_midway_resumes_without_doubling(engine, small_settings, tmp_path, pool):
    path = tmp_path / "crash.warc.gz"
    write_warc(path, mixed_specs(60, seed=9))
    with import_dies_after(30):
        import_warcs(engine, small_settings, [path], pool=pool, options=ImportOptions(batch_size=10))
    row = progress_row(engine, path)
    assert row.status == "running" and 0 < row.next_offset < row.size
    assert row.records >= 30
    partial = counts(engine)["articles"]
    assert 0 < partial < 60
    report = import_warcs(engine, small_settings, [path], pool=pool, options=ImportOptions(batch_size=10))
    stats = report["files"][str(path)]
    assert stats["status"] == "done" and stats["attempts"] == 2
    assert stats["records"] == 60 + 7 + 1, "records before the resume point are not counted twice"
    assert stats["articles"] == 60 == counts(engine)["articles"]
    assert stats["already_present"] == 0, "resume starts after the last written record"
    assert counts(engine) == {"pages": 60, "raw_pages": 60, "articles": 60}


@pytest.mark.slow
def test_sigkill_midway_then_resume(sqlite_url, sqlite_engine, small_settings, tmp_path):
    """A real `newsdesk import` process killed with SIGKILL; a second run finishes the file."""
    path = tmp_path / "kill.warc.gz"
    total = 400
    write_warc(path, news_records(total, 11))
    env = dict(os.environ, NEWSDESK_MAX_BODY_BYTES=str(MAX_BODY))
    proc = subprocess.Popen([str(NEWSDESK), "import", str(path), "--database", sqlite_url, "--batch-size", "10",
                             "--workers", "2", "-q"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = progress_row(sqlite_engine, path)
            if row is not None and row.records >= 60:
                break
            assert proc.poll() is None, "the import ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and its extraction workers
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    row = progress_row(sqlite_engine, path)
    assert row.status == "running" and row.records < total
    killed_at = counts(sqlite_engine)["articles"]
    assert 0 < killed_at < total
    report = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=2, batch_size=50))
    stats = report["files"][str(path)]
    assert stats["status"] == "done"
    assert stats["records"] == total + 1
    assert counts(sqlite_engine) == {"pages": total, "raw_pages": total, "articles": total}
    with sqlite_engine.connect() as conn:
        dupes = conn.execute(text("SELECT COUNT(*) FROM (SELECT url FROM pages GROUP BY url HAVING COUNT(*) > 1) d"))
        assert dupes.scalar_one() == 0


@pytest.mark.slow
def test_cli_import_contract(tmp_path):
    """`newsdesk import FILE... --database URL` on a new URL: the warehouse is created, every HTML
    response imported, exit 0, a JSON report; a second import into it needs no `db upgrade`."""
    sqlite_url = f"sqlite:///{tmp_path / 'new' / 'warehouse.db'}"
    a, b = tmp_path / "a.warc", tmp_path / "b.warc.gz"
    write_warc(a, news_records(6, 21), gzip=False)
    write_warc(b, list(news_records(5, 22)) + bad_records(22))
    out = subprocess.run([str(NEWSDESK), "import", str(a), str(b), "--database", sqlite_url],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["files"]) == {str(a), str(b)}
    assert report["files"][str(a)]["pages"] == 6
    # 5 pages + the "oversized" one, which is below the default 15 MB limit
    assert report["files"][str(b)]["pages"] == 6
    assert report["extracted"] == 12
    assert report["files"][str(b)]["skipped"]["undecodable"] == 1
    assert {"records", "pages", "already_present", "skipped", "errors"} <= set(report["files"][str(a)])
    assert "dedup" in report
    assert "records/s" in out.stderr, "progress goes to stderr"
    again = subprocess.run([str(NEWSDESK), "import", str(a), "--database", sqlite_url, "-q"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout)["files"][str(a)]["status"] == "already_done"
    missing = subprocess.run([str(NEWSDESK), "import", str(tmp_path / "nope.warc"), "--database", sqlite_url],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1


def test_domain_and_language_filters(sqlite_engine, small_settings, tmp_path):
    path = tmp_path / "mixed-lang.warc.gz"
    specs = list(news_records(12, 31, domain="dailyherald.example"))
    specs += list(news_records(6, 31, start=100, domain="www.worldwire.example"))
    specs += list(news_records(6, 31, start=200, domain="news.lemonde-test.example", language="fr"))
    write_warc(path, specs)
    opts = ImportOptions(
        workers=0, domains=ImportOptions.normalise_domains(["worldwire.example", "lemonde-test.example"])
    )
    stats = import_warcs(sqlite_engine, small_settings, [path], options=opts)["files"][str(path)]
    assert stats["skipped"]["domain_filtered"] == 12
    assert stats["articles"] == 12
    with sqlite_engine.connect() as conn:
        domains = set(conn.execute(select(schema.articles.c.domain)).scalars())
    assert domains == {"worldwire.example", "news.lemonde-test.example"}

    path2 = tmp_path / "lang2.warc.gz"
    write_warc(path2, list(news_records(10, 32, domain="dailyherald.example"))
               + list(news_records(5, 32, start=300, domain="news.lemonde-test.example", language="fr")))
    opts = ImportOptions(workers=0, languages={"fr"})
    stats = import_warcs(sqlite_engine, small_settings, [path2], options=opts)["files"][str(path2)]
    assert stats["skipped"]["language_filtered"] == 10
    assert stats["articles"] == 5
    with sqlite_engine.connect() as conn:
        fr = conn.execute(text("SELECT COUNT(*) FROM articles WHERE language = 'fr'")).scalar_one()
    assert fr == 6 + 5


def test_import_from_fsspec_url_and_interval_listing(sqlite_engine, small_settings, tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"memory://archive-{os.getpid()}-{time.monotonic_ns()}"
    day = tmp_path / "day.warc.gz"
    write_warc(day, news_records(8, 41))
    base = root.removeprefix("memory://")
    fs.pipe(f"/{base}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260302000000-00001.warc.gz", day.read_bytes())
    fs.pipe(f"/{base}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260303000000-00002.warc.gz", day.read_bytes())
    fs.pipe(f"/{base}/flat-20260302120000.warc.gz", day.read_bytes())
    files = locate.files_for_interval(root, datetime(2026, 3, 2, tzinfo=timezone.utc),
                                      datetime(2026, 3, 3, tzinfo=timezone.utc))
    assert [f.rsplit("/", 1)[-1] for f in files] == [
        "CC-NEWS-20260302000000-00001.warc.gz",
        "flat-20260302120000.warc.gz",
    ]
    # a resumed remote file seeks to its saved offset
    with import_dies_after(4):
        import_warcs(sqlite_engine, small_settings, files[:1], options=ImportOptions(workers=0, batch_size=3))
    report = import_warcs(sqlite_engine, small_settings, files, options=ImportOptions(workers=0, batch_size=3))
    assert report["files"][files[0]]["status"] == "done"
    assert report["files"][files[0]]["records"] == 9
    assert report["files"][files[1]]["already_present"] == 8, "same pages in another file are not doubled"
    assert counts(sqlite_engine)["articles"] == 8


def test_archive_original_becomes_original_of_live_copy(engine, small_settings, tmp_path):
    """A syndicated copy ingested live first; its original arrives from an archive later."""
    original_url = "https://dailyherald.example/world/2026/000777-storm-hits-coast"
    published = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
    _, base = news_page(777, 51, domain="dailyherald.example")
    import re

    paragraphs = re.findall(r"<p>([^<]{200,})</p>", base.decode())
    assert len(paragraphs) >= 4
    title = "Storm hits the coast as thousands are evacuated"
    _, original_html = news_page(777, 51, domain="dailyherald.example", paragraphs=paragraphs, title=title,
                                 published=published, canonical=original_url)
    copy_url = "https://worldwire.example/world/2026/syndicated-storm-hits-coast"
    _, copy_html = news_page(778, 51, domain="worldwire.example", paragraphs=paragraphs, title=title,
                             published=published + timedelta(hours=5), canonical=original_url)

    # live: the copy arrives through a feed, is fetched, extracted and deduped
    with engine.begin() as conn:
        sid = loads.source_for_domain(conn, "worldwire.example")
        [page_id] = loads.enqueue_pages(conn, [loads.NewPage(url=copy_url, origin="feed", source_id=sid)])
        loads.store_raw(conn, page_id, copy_html, {"content-type": "text/html; charset=utf-8"})
        loads.mark_page(conn, page_id, "fetched", http_status=200, final_url=copy_url)
    assert pipeline.extract_pages(engine, small_settings, [page_id])["extracted"] == 1
    pipeline.dedup(engine, small_settings)
    with engine.connect() as conn:
        copy = conn.execute(select(schema.articles).where(schema.articles.c.page_id == page_id)).one()
    assert copy.relation in (None, "original") or copy.cluster_id is not None

    # backfill: the original, from an archive
    path = tmp_path / "orig.warc.gz"
    write_warc(path, [RecordSpec(url=original_url, body=original_html)] + list(news_records(3, 52)))
    report = import_warcs(engine, small_settings, [path], options=ImportOptions(workers=0))
    assert report["files"][str(path)]["articles"] == 4
    with engine.connect() as conn:
        a = schema.articles
        orig = conn.execute(select(a).where(a.c.url == original_url)).one()
        copy = conn.execute(select(a).where(a.c.page_id == page_id)).one()
        cluster_original = conn.execute(select(schema.clusters.c.original_article_id)
                                        .where(schema.clusters.c.id == copy.cluster_id)).scalar_one()
    assert orig.cluster_id == copy.cluster_id, "the live copy and the archived original share one cluster"
    assert cluster_original == orig.id, "the archived original becomes the cluster's original"
    assert copy.relation in ("exact", "near", "paraphrase")


@pytest.mark.slow
def test_a_dead_extraction_worker_is_replaced(sqlite_engine, small_settings, tmp_path):
    """A worker killed mid-import (segfault, OOM killer): its pages are re-extracted, nothing is lost."""
    import threading

    path = tmp_path / "workers.warc.gz"
    write_warc(path, news_records(200, 81))
    killed: list[int] = []
    with ExtractorPool(2) as own_pool:
        own_pool.warm_up()

        def killer():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = progress_row(sqlite_engine, path)
                if row is not None and row.records >= 20:
                    pid = own_pool.child_pids()[0]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=killer)
        thread.start()
        report = import_warcs(sqlite_engine, small_settings, [path], pool=own_pool, run_dedup=False,
                              options=ImportOptions(batch_size=10))
        thread.join()
    stats = report["files"][str(path)]
    assert killed, "the import finished before a worker could be killed"
    assert stats["status"] == "done"
    assert stats["articles"] == 200 == counts(sqlite_engine)["articles"]


def test_a_page_that_stalls_a_worker_in_c_code_is_skipped_and_the_rest_imported(sqlite_engine, settings, tmp_path):
    """libxml2 parses 50,000 attributes on one element for seconds, where no alarm reaches: the
    worker's watchdog ends it past the hard limit, the other pages are extracted again."""
    attributes = " ".join(f"data-a{i}='v'" for i in range(50_000))
    hostile = f"<html><body><div {attributes}><p>x</p></div></body></html>".encode()
    records = list(news_records(6, 83))
    records.insert(3, RecordSpec(url="https://dailyherald.example/hostile", body=hostile))
    path = tmp_path / "stall.warc.gz"
    write_warc(path, records)
    started = time.monotonic()
    with ExtractorPool(2, time_limit=0.2) as own_pool:  # hard limit 0.6 s
        report = import_warcs(sqlite_engine, settings, [path], pool=own_pool, run_dedup=False)
    stats = report["files"][str(path)]
    assert stats["status"] == "done"
    assert stats["skipped"].get("worker_died") == 1, stats
    assert stats["articles"] == 6 == counts(sqlite_engine)["articles"]
    assert time.monotonic() - started < 30


def test_a_worker_killed_while_idle_is_replaced_and_the_next_chunk_extracted():
    with ExtractorPool(1) as pool:
        pool.warm_up()
        first = pool.child_pids()[0]
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while pool.replaced == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pool.replaced == 1 and pool.child_pids()[0] != first
        url, body = news_page(1, 79)
        assert pool.submit([(url, body, "text/html")]).result(60)[0][0] == "ok"


def test_a_worker_killed_while_extracting_fails_only_its_chunk():
    big = news_page(1, 77)[1] * 200
    with ExtractorPool(2, time_limit=None) as pool:
        pool.warm_up()
        doomed = pool.submit([(f"https://x.example/{i}", big, "text/html") for i in range(3)])
        healthy = [pool.submit([(*news_page(i, 78), "text/html")]) for i in range(4)]
        _kill_the_worker_of(pool, doomed, after=0.05)
        with pytest.raises(BrokenProcessPool):
            doomed.result(60)
        assert [f.result(60)[0][0] for f in healthy] == ["ok"] * 4
        assert pool.replaced == 1


@pytest.mark.parametrize("after", [0.0, 0.01, 0.03])
def test_a_worker_killed_while_sending_its_result_never_hangs_the_pool(after):
    """A worker killed halfway through sending a 64 MB result leaves half a message in its pipe.
    With one queue shared by every worker (ProcessPoolExecutor) the parent then waited for the
    rest of the message forever; here that pipe ends, the chunk fails, the others go on."""
    with ExtractorPool(2, time_limit=None) as pool:
        pool.warm_up()
        doomed = pool._submit(bytes, (64 * 1024 * 1024,))
        healthy = [pool.submit([(*news_page(i, 80), "text/html")]) for i in range(4)]
        _kill_the_worker_of(pool, doomed, after=after)
        try:
            assert len(doomed.result(60)) == 64 * 1024 * 1024  # the kill came after the whole message
        except BrokenProcessPool:
            pass
        assert [f.result(60)[0][0] for f in healthy] == ["ok"] * 4


def test_workers_that_die_as_they_start_break_the_pool_instead_of_respawning_forever():
    with ExtractorPool(1, time_limit=None) as pool:
        for _ in range(10):
            with pytest.raises(BrokenProcessPool):
                pool._submit(os._exit, (3,)).result(60)
        url, body = news_page(1, 81)
        with pytest.raises(BrokenProcessPool, match="died as they started"):
            pool.submit([(url, body, "text/html")]).result(5)


def _kill_the_worker_of(pool, future, after: float) -> None:
    deadline = time.monotonic() + 60
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.001)
    pid = next(w.process.pid for w in pool._pool if w.job is not None and w.job[0] is future)
    time.sleep(after)
    os.kill(pid, signal.SIGKILL)


def test_isal_inflate_reads_the_same_records_as_warcio(tmp_path, monkeypatch):
    """The importer inflates gzip members with ISA-L; records, bodies and offsets must be
    exactly what warcio's own zlib reader gives, damaged members included."""
    from warcio.archiveiterator import ArchiveIterator

    from newsdesk.fetch import archived as reader

    intact, damaged = tmp_path / "intact.warc.gz", tmp_path / "damaged.warc.gz"
    write_warc(intact, list(mixed_specs(12, 5)))
    write_warc(damaged, list(mixed_specs(12, 5)), damage_member=5)

    def records(make_iterator):
        with open(intact, "rb") as stream:
            iterator = make_iterator(stream)
            return [(iterator.offset, r.rec_type, r.content_stream().read()) for r in iterator]

    def scanned():
        with open(damaged, "rb") as stream:
            return [(i.offset, i.skip, i.page and (i.page.url, i.page.body)) for i in reader.scan_archive(stream)]

    with open(intact, "rb") as stream:
        assert type(reader._archive_iterator(stream).reader).__name__ == "IsalReader"
    assert records(reader._archive_iterator) == records(ArchiveIterator)
    with_isal = scanned()
    monkeypatch.setattr(reader, "_isal_reader", lambda: None)  # warcio's zlib reader
    with open(intact, "rb") as stream:
        assert type(reader._archive_iterator(stream).reader).__name__ != "IsalReader"
    assert with_isal == scanned()
    assert any(skip == "damaged" for _, skip, _ in with_isal)


def test_pool_replaces_its_workers_without_hanging():
    """CPython's ``ProcessPoolExecutor(max_tasks_per_child=)`` can stop replacing workers and
    leave queued tasks waiting forever (gh-115634: one worker, limit 2, ten tasks hangs after
    two). The pool's own replacement must run every task, on fresh workers."""
    pages = [news_page(i, 41) for i in range(10)]
    with ExtractorPool(1, max_tasks_per_child=2) as pool:
        futures = [pool.submit([(url, body, "text/html")]) for url, body in pages]
        pids, results = set(pool.child_pids()), []
        for future in futures:
            results.append(future.result(timeout=120))
            pids.update(pool.child_pids())
    assert [r[0][0] for r in results] == ["ok"] * 10
    assert len(pids) >= 4, pids  # a new worker every two tasks


def test_raw_pages_point_into_the_archive_unless_a_copy_is_asked_for(sqlite_engine, small_settings, tmp_path):
    """By default raw_pages holds (archive, offset), not a second copy of the archive; re-extraction
    reads each record back, byte for byte. ``store_raw`` keeps a compressed copy instead."""
    import fsspec

    from newsdesk.reextract import reextract_pages

    specs = list(news_records(6, 23))
    local = tmp_path / "ref.warc.gz"
    write_warc(local, specs)
    remote = f"memory://ref-{os.getpid()}-{time.monotonic_ns()}/copy.warc"
    write_warc(tmp_path / "plain.warc", list(news_records(4, 29)), gzip=False)
    fsspec.filesystem("memory").pipe(remote.removeprefix("memory:/"), (tmp_path / "plain.warc").read_bytes())
    import_warcs(sqlite_engine, small_settings, [local, remote], options=ImportOptions(workers=0, batch_size=4))

    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(schema.raw_pages.c.page_id, schema.raw_pages.c.compression, schema.raw_pages.c.body,
                                   schema.raw_pages.c.sha256, schema.pages.c.url)
                            .join(schema.pages, schema.pages.c.id == schema.raw_pages.c.page_id)).all()
        assert len(rows) == 10 and {r.compression for r in rows} == {loads.RAW_IN_ARCHIVE}
        assert all(r.body == b"" for r in rows), "no copy of the archive in the warehouse"
        import hashlib

        for r in rows:
            body, headers = loads.load_raw(conn, r.page_id, read_body)
            assert hashlib.sha256(body).hexdigest() == r.sha256, f"{r.url}: the record read back is the one imported"
            assert headers["content-type"].startswith("text/html") and loads.ARCHIVE_REF not in headers

    ids = [r.page_id for r in rows]
    stats = reextract_pages(sqlite_engine, ids, only_outdated=False)
    assert stats["missing_raw"] == 0 and stats["failed"] == 0 and stats["unchanged"] + stats["updated"] == 10

    # the archive moved away: its pages have no raw body any more (recorded, not a crash)
    local.rename(tmp_path / "moved.warc.gz")
    stats = reextract_pages(sqlite_engine, ids, only_outdated=False)
    assert stats["missing_raw"] == 6

    # a copy when asked for
    kept = tmp_path / "kept.warc.gz"
    write_warc(kept, list(news_records(3, 31)))
    import_warcs(sqlite_engine, small_settings, [kept], options=ImportOptions(workers=0, store_raw=True))
    with sqlite_engine.connect() as conn:
        stored = conn.execute(select(schema.raw_pages.c.page_id, schema.raw_pages.c.compression)
                              .where(schema.raw_pages.c.page_id.not_in(ids))).all()
        assert len(stored) == 3 and {c for _, c in stored} == {"zlib"}
        assert all(
            loads.load_raw(conn, pid, read_body)[0].lstrip().lower().startswith(b"<!doctype") for pid, _ in stored
        )


@pytest.mark.slow
def test_bulk_import_keeps_the_sqlite_search_index_exact(sqlite_engine, small_settings, tmp_path):
    """The importer indexes each batch in one FTS statement: afterwards the index holds every
    article exactly once, passes FTS5's integrity check, and the insert trigger is back."""
    path = tmp_path / "fts.warc.gz"
    write_warc(path, news_records(30, 17))
    import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=0, batch_size=7))
    import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=0, batch_size=7, reprocess=True))
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"))
        assert conn.execute(text("SELECT COUNT(*) FROM articles_fts_docsize")).scalar_one() == 30
        assert conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_fts_ai'")).first()
        title, aid = conn.execute(text("SELECT title, id FROM articles ORDER BY id LIMIT 1")).one()
        word = max(title.split(), key=len).strip(".,:;'\"")
        hits = conn.execute(text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"),
                            {"q": f'"{word}"'}).scalars().all()
        assert aid in hits


def _gzip_whole(plain: Path, out: Path) -> None:
    """``gzip file.warc``: one gzip stream for the whole file, not one member per record."""
    import gzip

    out.write_bytes(gzip.compress(plain.read_bytes()))


@pytest.mark.slow
def test_whole_file_gzip_stream_is_imported_with_copies_of_its_pages(sqlite_engine, small_settings, tmp_path):
    from newsdesk.reextract import reextract_pages

    plain = tmp_path / "plain.warc"
    written = write_warc(plain, mixed_specs(20, seed=41), gzip=False)
    path = tmp_path / "whole.warc.gz"
    _gzip_whole(plain, path)
    stats = import_warcs(sqlite_engine, small_settings, [path],
                         options=ImportOptions(workers=0, batch_size=6))["files"][str(path)]
    assert stats["status"] == "done" and stats["errors"] == [] and "damaged" not in stats["skipped"]
    assert stats["records"] == sum(written.values()) + 1  # + warcinfo
    for reason, n in EXPECTED_SKIPS.items():
        assert stats["skipped"].get(reason) == n, (reason, stats["skipped"])
    assert stats["articles"] == written["response"] == counts(sqlite_engine)["articles"]
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(schema.raw_pages.c.page_id, schema.raw_pages.c.compression)).all()
    # no record of a single stream can be seeked to: the warehouse keeps a copy of each page
    assert {c for _, c in rows} == {"zlib"}
    stats = reextract_pages(sqlite_engine, [pid for pid, _ in rows], only_outdated=False)
    assert stats["missing_raw"] == 0 and stats["failed"] == 0


@pytest.mark.slow
def test_whole_file_gzip_stream_resumes_from_its_start_without_doubling(sqlite_engine, small_settings, tmp_path):
    plain = tmp_path / "plain.warc"
    write_warc(plain, news_records(30, 43), gzip=False)
    path = tmp_path / "whole.warc.gz"
    _gzip_whole(plain, path)
    opts = dict(workers=0, batch_size=5)
    with import_dies_after(12):
        import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))
    partial = counts(sqlite_engine)["articles"]
    assert 0 < partial < 30
    stats = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))["files"][str(path)]
    assert stats["status"] == "done" and stats["attempts"] == 2
    assert stats["records"] == 31, "the pass that finished counts each record once"
    assert stats["already_present"] == partial and stats["articles"] == 30 - partial
    assert counts(sqlite_engine) == {"pages": 30, "raw_pages": 30, "articles": 30}


def test_cut_whole_file_gzip_stream_keeps_what_came_before_the_cut(sqlite_engine, small_settings, tmp_path):
    plain = tmp_path / "plain.warc"
    write_warc(plain, news_records(20, 47), gzip=False)
    whole = tmp_path / "whole.warc.gz"
    _gzip_whole(plain, whole)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    stats = import_warcs(sqlite_engine, small_settings, [cut], options=ImportOptions(workers=0))["files"][str(cut)]
    assert stats["status"] == "done" and stats["skipped"].get("damaged") == 1 and stats["errors"]
    assert 5 < stats["articles"] == counts(sqlite_engine)["articles"] < 20


@pytest.mark.slow
def test_brotli_encoded_responses_are_decoded_and_a_brotli_bomb_is_bounded(sqlite_engine, small_settings, tmp_path):
    import brotli
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from newsdesk.fetch import archived as reader

    _, html = news_page(1, 53)
    bomb = brotli.compress(b"<p>" + b"\0" * (1 << 27), quality=5)  # 128 MiB in ~100 bytes
    path = tmp_path / "br.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, body in (("https://br.example.com/story", brotli.compress(html)),
                          ("https://br.example.com/bomb", bomb)):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Encoding", "br")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    stats = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=0))["files"][str(path)]
    assert stats["articles"] == 1 and stats["skipped"] == {"too_large": 1}, stats
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT url FROM articles")).scalar_one() == "https://br.example.com/story"
    # the bomb's first block stops at the per-block limit instead of inflating 128 MiB
    decompressor = reader._BoundedBrotli()
    first = decompressor.decompress(bomb)
    assert reader.BROTLI_MAX_OUTPUT_PER_BLOCK <= len(first) < 2 * reader.BROTLI_MAX_OUTPUT_PER_BLOCK
    assert decompressor.decompress(b"") == b""


@pytest.mark.postgres
def test_cli_import_creates_a_missing_postgresql_database_and_reports_an_unreachable_one(tmp_path):
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from services import PG_ADMIN_URL
    from services import pg_reachable as _pg_reachable

    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    path = tmp_path / "a.warc.gz"
    write_warc(path, news_records(4, 59))
    name = f"newsdesk_test_new_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        # a new URL: the import creates the database and its warehouse (the outside contract)
        out = subprocess.run([str(NEWSDESK), "import", str(path), "--database", url, "-q"],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert "created the warehouse database" in out.stderr and "created a new warehouse" in out.stderr
        created = create_engine(url)
        with created.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM v_articles")).scalar_one() == 4
        created.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    # a role that may not create databases: the server's own answer, in one line
    role = f"newsdesk_test_nocreate_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOCREATEDB'))
    try:
        denied = make_url(PG_ADMIN_URL).set(username=role, password=None, database=name).render_as_string(False)
        for command in (["db", "upgrade"], ["import", str(path), "-q"]):
            out = subprocess.run([str(NEWSDESK), *command, "--database", denied],
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 2 and "Traceback" not in out.stderr and "does not exist" in out.stderr, out.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
    # nothing listens on port 1: one line naming the warehouse (password hidden), exit 2
    out = subprocess.run(
        [str(NEWSDESK), "import", str(path), "--database", "postgresql://newsdesk:s3cret@127.0.0.1:1/warehouse"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "warehouse postgresql://newsdesk:***@127.0.0.1:1/warehouse" in out.stderr and "s3cret" not in out.stderr


def test_undated_archived_copy_is_placed_in_time_by_its_capture(engine, small_settings, tmp_path):
    """A backfill's page without a publication date is compared with the articles of its capture
    time, not of the import's day; ``fetched_at`` is the capture (WARC-Date)."""
    import random

    rng = random.Random(61)
    vocabulary = [f"{w}{i}" for i, w in enumerate(["harbour", "council", "budget", "ferry", "strike", "vote"] * 40)]
    paragraphs = [" ".join(rng.choice(vocabulary) for _ in range(45)) + "." for _ in range(6)]
    published = datetime(2019, 3, 4, 8, 30, tzinfo=timezone.utc)
    url_a, page_a = news_page(1, 61, domain="harbourtimes.example", paragraphs=paragraphs,
                              title="Ferry strike vote splits the harbour council", published=published)
    body_b = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Ferry strike vote</title></head>"
              "<body><article><h1>Ferry strike vote splits the harbour council</h1>"
              + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>").encode()
    captured = datetime(2019, 3, 5, 12, 0, tzinfo=timezone.utc)
    path = tmp_path / "2019.warc.gz"
    write_warc(path, [RecordSpec(url=url_a, body=page_a, date=published + timedelta(hours=1)),
                      RecordSpec(url="https://mirror.example/ferry-strike", body=body_b, date=captured)])
    import_warcs(engine, small_settings, [path], options=ImportOptions(workers=0))
    with engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(text(
            "SELECT url, published_at, fetched_at, cluster_id, relation FROM v_articles"))}
    copy, original = rows["https://mirror.example/ferry-strike"], rows[url_a]
    assert copy.published_at is None
    assert str(copy.fetched_at)[:19].replace("T", " ") == "2019-03-05 12:00:00"
    assert copy.cluster_id == original.cluster_id and copy.relation in ("exact", "near")
    assert original.relation == "original"


_SUMMIT_PAGE = (
    b"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Leaders agree summit date</title></head>"
    b"<body><article><h1>Leaders agree summit date</h1>"
    b"<p>Regional leaders agreed on Tuesday to meet again at a summit to be held on 15 December 2019 in the "
    b"capital, officials said after two days of closed talks.</p>"
    b"<p>The talks, which began last week, ended without a joint statement on trade, but delegates said progress "
    b"had been made on border crossings and fishing rights in the northern waters.</p>"
    b"<p>A spokesperson said the next round would focus on energy prices and on the pipeline that several of the "
    b"countries have been discussing for years.</p></article></body></html>")


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker-pool"])
def test_an_archived_page_is_not_dated_after_its_capture(sqlite_engine, small_settings, tmp_path, workers):
    """A page without date metadata mentions a later event: the date guesser takes that for the
    publication date, which cannot be after the capture (WARC-Date). It is dropped, and so it
    stays after re-extraction; a page dated before its capture keeps its date."""
    from newsdesk.reextract import reextract_pages

    captured = datetime(2019, 10, 2, 8, 0, tzinfo=timezone.utc)
    published = datetime(2019, 10, 1, 17, 30, tzinfo=timezone.utc)
    url_dated, page_dated = news_page(3, 62, domain="capitalpost.example", published=published)
    summit = "https://regional.example/world/leaders-agree-summit-date"
    path = tmp_path / "2019-10.warc.gz"
    write_warc(path, [RecordSpec(url=summit, body=_SUMMIT_PAGE, date=captured),
                      RecordSpec(url=url_dated, body=page_dated, date=captured)])
    import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=workers))

    def dates():
        with sqlite_engine.connect() as conn:
            return dict(conn.execute(text("SELECT url, published_at FROM v_articles")).all())

    got = dates()
    assert got[summit] is None  # not 2019-12-15, the summit's date
    assert str(got[url_dated])[:16].replace("T", " ") == "2019-10-01 17:30"
    with sqlite_engine.connect() as conn:
        ids = list(conn.execute(text("SELECT page_id FROM articles")).scalars())
    assert reextract_pages(sqlite_engine, ids, only_outdated=False)["failed"] == 0
    assert dates() == got


def _arc(records: list[tuple[str, str, bytes, bytes]], gz: bool) -> bytes:
    """An ARC file (version 1, the format before WARC): (url, YYYYmmddHHMMSS, content type, HTTP
    response) per record, each its own gzip member when ``gz``."""
    import gzip

    desc = b"1 0 newsdesk tests\nURL IP-address Archive-date Content-type Archive-length\n"
    blocks = [b"filedesc://test.arc 0.0.0.0 20040101000000 text/plain %d\n%s\n" % (len(desc), desc)]
    for url, date, ctype, http in records:
        blocks.append(b"%s 192.0.2.1 %s %s %d\n%s\n" % (url.encode(), date.encode(), ctype, len(http), http))
    return b"".join(gzip.compress(b) if gz else b for b in blocks)


@pytest.mark.parametrize("gz", [True, False], ids=["arc.gz", "arc"])
def test_arc_files_of_older_crawls_are_imported(sqlite_engine, small_settings, tmp_path, gz):
    from newsdesk.reextract import reextract_pages

    url, html = news_page(3, 67, published=datetime(2004, 1, 1, 9, tzinfo=timezone.utc))
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    image = b"HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\n\r\nGIF89a\x01\x00\x01\x00"
    path = tmp_path / ("old.arc.gz" if gz else "old.arc")
    path.write_bytes(_arc([(url, "20040102030405", b"text/html", http),
                           ("http://old.example.com/pixel.gif", "20040102030406", b"image/gif", image)], gz))
    stats = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(workers=0))["files"][str(path)]
    assert stats["status"] == "done" and stats["articles"] == 1, stats
    assert stats["skipped"] == {"warcinfo": 1, "not_html": 1}  # the file header record, the image
    with sqlite_engine.connect() as conn:
        row = conn.execute(text("SELECT url, fetched_at, published_at FROM v_articles")).one()
        page_id = conn.execute(select(schema.pages.c.id)).scalar_one()
    assert row.url == url and str(row.fetched_at).startswith("2004-01-02 03:04:05")
    assert str(row.published_at).startswith("2004-01-01 09:00")
    stats = reextract_pages(sqlite_engine, [page_id], only_outdated=False)  # read back from the ARC file
    assert stats["missing_raw"] == 0 and stats["failed"] == 0


@pytest.mark.slow
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_large_blocks_leave_the_heap_when_freed():
    """After keep_large_blocks_apart, a freed body-sized block goes back to the system at once,
    even after larger ones were freed (glibc alone would have raised its threshold past them)."""
    code = """if True:
        import gc
        from newsdesk.archive.memory import keep_large_blocks_apart
        def rss():
            return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])
        assert keep_large_blocks_apart()
        big = [bytes(4 << 20) for _ in range(4)]
        del big
        bodies = [bytes(300 << 10) + bytes([i % 256]) for i in range(300)]  # ~90 MB of archive bodies
        holding = rss()
        keep = bodies[::50]
        del bodies
        gc.collect()
        assert holding - rss() > 60_000, (holding, rss())
    """
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_extraction_workers_import_neither_the_warehouse_nor_the_parent_the_language_model():
    """What the pool's forkserver preloads (every worker's modules) holds no SQLAlchemy or Alembic;
    the importer's parent, which never extracts, does not load the language model."""
    worker = ("import sys; import newsdesk.archive.parallel, newsdesk.extract.preloaded; "
              "assert not {'sqlalchemy', 'alembic', 'newsdesk.storage'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", worker], check=True)
    parent = ("import newsdesk.cli; from newsdesk.archive.parallel import ExtractorPool; "
              "from newsdesk.extract import language\n"
              "with ExtractorPool(1) as pool:\n"
              "    pool.warm_up()\n"
              "    assert pool.submit([('https://example.com/a', b'<html><body><p>x</p></body></html>', 'text/html')])"
              ".result()[0][0] == 'error'\n"
              "assert language._IDENTIFIER is None")
    subprocess.run([sys.executable, "-c", parent], check=True)


def test_cli_import_takes_folders_of_archives(sqlite_engine, sqlite_url, tmp_path):
    folder = tmp_path / "crawl"
    write_warc(folder / "2026" / "a.warc.gz", news_records(3, 71))
    write_warc(folder / "b.WARC", news_records(2, 73), gzip=False)
    write_warc(tmp_path / "plain.warc", news_records(2, 89), gzip=False)
    _warc_zst(tmp_path / "plain.warc", folder / "d.warc.zst", dictionary=False)
    (folder / "README.txt").write_text("not an archive")
    single = tmp_path / "c.warc.gz"
    write_warc(single, news_records(1, 79))
    out = subprocess.run([str(NEWSDESK), "import", str(folder), str(single), "--database", sqlite_url, "-q"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report["files"]) == {str(folder / "2026" / "a.warc.gz"), str(folder / "b.WARC"),
                                    str(folder / "d.warc.zst"), str(single)}
    assert report["extracted"] == 8
    empty = tmp_path / "empty"
    empty.mkdir()
    out = subprocess.run([str(NEWSDESK), "import", str(empty), "--database", sqlite_url, "-q"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and json.loads(out.stdout)["files"] == {}


def _warc_zst(plain: Path, out: Path, dictionary: bool) -> None:
    """``.warc.zst`` as Wget-AT writes it: one zstd frame per record, after a skippable frame
    holding the (compressed) dictionary they were compressed with."""
    import zstandard
    from warcio.archiveiterator import ArchiveIterator

    data = plain.read_bytes()
    with open(plain, "rb") as stream:
        iterator = ArchiveIterator(stream)
        starts = [iterator.offset for _ in iterator] + [len(data)]
    records = [data[a:b] for a, b in zip(starts, starts[1:])]
    head, params = b"", {}
    if dictionary:
        trained = zstandard.train_dictionary(4096, records * 4)
        packed = zstandard.ZstdCompressor().compress(trained.as_bytes())
        head = b"\x5d\x2a\x4d\x18" + len(packed).to_bytes(4, "little") + packed
        params = {"dict_data": trained}
    compressor = zstandard.ZstdCompressor(level=3, **params)
    out.write_bytes(head + b"".join(compressor.compress(r) for r in records))


@pytest.mark.parametrize("dictionary", [True, False], ids=["dictionary", "plain-frames"])
@pytest.mark.slow
def test_warc_zst_is_imported_resumed_from_the_top_and_a_cut_one_keeps_its_start(
        sqlite_engine, small_settings, tmp_path, dictionary):
    plain = tmp_path / "plain.warc"
    written = write_warc(plain, mixed_specs(24, seed=83), gzip=False)
    path = tmp_path / "crawl.warc.zst"
    _warc_zst(plain, path, dictionary)
    opts = dict(workers=0, batch_size=5)
    with import_dies_after(12):
        import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))
    partial = counts(sqlite_engine)["articles"]
    assert 0 < partial < written["response"]
    stats = import_warcs(sqlite_engine, small_settings, [path], options=ImportOptions(**opts))["files"][str(path)]
    assert stats["status"] == "done" and stats["errors"] == [] and stats["records"] == sum(written.values()) + 1
    for reason, n in EXPECTED_SKIPS.items():
        assert stats["skipped"].get(reason) == n, (reason, stats["skipped"])
    assert stats["already_present"] == partial and counts(sqlite_engine)["articles"] == written["response"]
    with sqlite_engine.connect() as conn:
        assert set(conn.execute(select(schema.raw_pages.c.compression)).scalars()) == {"zlib"}  # copies kept

    cut = tmp_path / "cut.warc.zst"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    stats = import_warcs(sqlite_engine, small_settings, [cut],
                         options=ImportOptions(reprocess=True, **opts))["files"][str(cut)]
    assert stats["status"] == "done" and stats["skipped"].get("damaged") == 1
    assert 5 < stats["pages"] < written["response"]


def _raw_response(uri: str, http_head: str, body: bytes, warc_extra: str = "") -> bytes:
    """One gzip member holding a response record written byte for byte (warcio's writer would
    normalise the quirks under test)."""
    import gzip

    payload = http_head.replace("\n", "\r\n").encode() + b"\r\n" + body
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-05-01T10:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:{abs(hash(uri)) % 10**12:012d}-0000-4000-8000-000000000000>\r\n{warc_extra}"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
    return gzip.compress(head + payload + b"\r\n\r\n")


def test_mislabelled_and_re_encoded_pages_are_imported(sqlite_engine, small_settings, tmp_path):
    """Pages as servers and crawlers really record them: still gzipped after the declared
    decoding, labelled with an unspecific type, preceded by a BOM and a comment. Bodies that
    only look like them (a feed, robots.txt, JSON, a gzip bomb) and a bot challenge served
    in the article's place are skipped."""
    import gzip

    page = {n: news_page(n, 31, language="en", domain="wire.example")[1] for n in range(10)}
    page[0] = page[0].replace(b"<head>", b'<head><meta property="article:content_tier" content="locked">', 1)
    ok = "HTTP/1.1 200 OK\n"
    records = [
        ("<https://wire.example/a/0>", ok + "Content-Type: text/html\n", page[0], ""),  # WARC/1.0's <uri>
        (
            "https://wire.example/a/1",
            ok + "Content-Type: text/html\nContent-Encoding: x-gzip\n",
            gzip.compress(page[1]),
            "",
        ),
        (
            "https://wire.example/a/2",
            ok + "Content-Type: text/html\nContent-Encoding: gzip\n",
            gzip.compress(gzip.compress(page[2])),
            "",
        ),  # gzipped twice, declared once
        ("https://wire.example/a/3", ok + "Content-Type: text/html\n", gzip.compress(page[3]), ""),  # undeclared gzip
        ("https://wire.example/a/4", ok + "Content-Type: application/octet-stream\n", page[4], ""),
        ("https://wire.example/a/5", ok + "Content-Type: text/plain; charset=utf-8\n", page[5], ""),
        ("https://wire.example/a/6", ok, b"\xef\xbb\xbf\n<!-- cached 2024-05-01 -->\n" + page[6], ""),
        (
            "https://wire.example/a/7",
            ok + "Content-Type: image/jpeg\n",
            page[7],
            "WARC-Identified-Payload-Type: text/html\r\n",
        ),  # Common Crawl's sniffing overrides the label
        ("https://wire.example/robots.txt", ok + "Content-Type: text/plain\n", b"User-agent: *\nDisallow: /a/\n", ""),
        (
            "https://wire.example/feed",
            ok + "Content-Type: application/octet-stream\n",
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title></channel></rss>',
            "",
        ),
        ("https://wire.example/api", ok, b'{"html": "<html>"}', ""),
        (
            "https://wire.example/a/bomb",
            ok + "Content-Type: text/html\nContent-Encoding: x-gzip\n",
            gzip.compress(b"<html>" + b" " * (MAX_BODY * 50)),
            "",
        ),
        ("https://wire.example/a/8", ok + "Content-Type: image/jpeg\n", page[8], ""),  # an error page, labelled
        (
            "https://wire.example/a/9",
            ok + "Content-Type: text/html\n",  # recorded when the crawler was challenged
            (Path(__file__).parent / "data" / "blocked" / "cloudflare_challenge.html").read_bytes(),
            "",
        ),
    ]
    path = tmp_path / "quirks.warc.gz"
    path.write_bytes(b"".join(_raw_response(*r) for r in records))
    report = import_warcs(sqlite_engine, small_settings, [path], run_dedup=False)
    stats = report["files"][str(path)]
    assert stats["skipped"] == {"not_html": 4, "too_large": 1, "blocked": 1}, stats
    with sqlite_engine.connect() as conn:
        rows = conn.execute(text("SELECT p.url, a.word_count FROM articles a JOIN pages p ON p.id = a.page_id")).all()
    assert sorted(url for url, _ in rows) == [f"https://wire.example/a/{n}" for n in range(8)]
    assert all(words > 100 for _, words in rows), rows
    with sqlite_engine.connect() as conn:
        paywalled = dict(conn.execute(text("SELECT url, paywalled FROM v_articles")).all())
    assert paywalled.pop("https://wire.example/a/0") == 1  # declared "locked"
    assert set(paywalled.values()) == {None}
