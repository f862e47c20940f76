"""Dedup alongside an archive import: the batches already written are clustered while the next
ones are extracted, with the decisions of a dedup run after the import."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from newsdesk import pipeline
from newsdesk.archive import follow
from newsdesk.archive.warc import ImportOptions, import_warcs

sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import RecordSpec, news_records, write_warc

SYNDICATION = Path(__file__).parent / "data" / "warc" / "syndication.warc.gz"


def decisions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT a.url, a.dedup_state, a.relation, o.url, a.clean_sha256 FROM articles a "
            "LEFT JOIN clusters c ON c.id = a.cluster_id LEFT JOIN articles o ON o.id = c.original_article_id "
            "ORDER BY a.url")).all()


def copies_warc(path: Path) -> Path:
    """Generated pages, then exact and cut copies of some of them on other sites."""
    pages = list(news_records(40, seed=7))
    specs = pages + [RecordSpec(url=f"https://copies{i % 3}.example/story/{i}", body=p.body)
                     for i, p in enumerate(pages[:16])]
    specs += [RecordSpec(url=f"https://cuts.example/story/{i}", body=p.body[: len(p.body) * 2 // 3] + b"</p></body>")
              for i, p in enumerate(pages[16:26])]
    write_warc(path, specs, seed=7)
    return path


@pytest.fixture
def after_import(tmp_path, settings):
    """The same files imported without dedup, then deduplicated: the reference decisions."""
    from newsdesk.storage import db

    def run(files: list[Path]) -> list[tuple]:
        engine = db.get_engine(f"sqlite:///{tmp_path}/after.db")
        db.upgrade(engine)
        import_warcs(engine, settings, files, options=ImportOptions(workers=0, batch_size=7), run_dedup=False)
        pipeline.dedup(engine, settings)
        try:
            return decisions(engine)
        finally:
            engine.dispose()

    return run


@pytest.mark.parametrize("warehouse", ["sqlite", "postgres"])
def test_dedup_alongside_the_import_decides_as_dedup_after_it(warehouse, request, tmp_path, settings, after_import,
                                                            monkeypatch):
    """SQLite: a thread of the importer; PostgreSQL: two dedup processes (NEWSDESK_DEDUP_WORKERS)."""
    engine = request.getfixturevalue("sqlite_engine" if warehouse == "sqlite" else "pg_engine")
    if warehouse == "postgres":
        settings = settings.with_(dedup_workers=2)
    monkeypatch.setattr(follow, "BATCH", 10)  # several rounds while the import runs
    files = [SYNDICATION, copies_warc(tmp_path / "copies.warc.gz")]
    report = import_warcs(engine, settings, files, options=ImportOptions(workers=0, batch_size=7))
    assert report["dedup"]["processed"] >= report["extracted"] > 50
    assert report["timings"]["dedup_cpu_s"] > 0

    got = decisions(engine)
    assert got == after_import(files)
    assert {r.dedup_state for r in got} == {"done"}
    assert {r.relation for r in got} >= {"original", "exact", "near"}
