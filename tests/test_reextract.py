"""Re-extraction over stored raw HTML (both warehouses): articles updated in place, dedup
re-linked when a text changes, nothing written by a second run; the CLI and news_reextract."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from newsdesk import pipeline
from newsdesk import reextract as rx
from newsdesk.config import Settings
from newsdesk.extract import article as extractor
from newsdesk.storage import loads, schema

WORDS = ("government council river budget school hospital minister village farmers market report police court "
         "weather storm harbour museum library election mayor festival train bridge water energy price city "
         "teachers nurses drivers shops tourism museum harvest island ferry airport road tunnel").split()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
BASE_VERSION = extractor.EXTRACTOR_VERSION  # what the fixtures were extracted with
_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


_SYLLABLES = "ka lo mi ne ru sa te vi do pa ghe bri stan tol mer quin dar fel".split()


def _word(rng: random.Random) -> str:
    # common words mixed with made-up ones: unrelated stories share little vocabulary
    if rng.random() < 0.4:
        return rng.choice(WORDS)
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def _para(rng: random.Random, n: int = 40) -> str:
    return " ".join(_word(rng) for _ in range(n)).capitalize() + "."


def html(title: str, paras: list[str], published: str | None = None, ld_body: list[str] | None = None) -> str:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    ld = (f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "articleBody": ld_body})}'
          f'</script>') if ld_body else ""
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html lang='en'><head><title>{title}</title>{meta}<meta property='og:type' content='article'>{ld}"
            f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article></body></html>")


def add_page(engine, url: str, body: str, fetched_at: datetime) -> int:
    with engine.begin() as conn:
        source_id = loads.source_for_domain(conn, url.split("/")[2])
        [page_id] = loads.enqueue_pages(conn, [loads.NewPage(url=url, origin="feed", source_id=source_id)])
        loads.store_raw(conn, page_id, body.encode("utf-8"), {"content-type": "text/html; charset=utf-8"})
        loads.mark_page(conn, page_id, "fetched", attempts=1, fetched_at=fetched_at, final_url=url)
    return page_id


def settings_for(engine) -> Settings:
    return Settings.from_env(database_url=engine.url.render_as_string(hide_password=False))


def v2_extractor(monkeypatch):
    """Version 2: the schema.org articleBody wins over the visible text when it is longer."""
    original = extractor.extract_article

    def extract(body, url, content_type=None, **limits):
        result = original(body, url, content_type, **limits)
        found = _LD.search(body.decode("utf-8") if isinstance(body, bytes) else body)
        if found:
            paras = json.loads(found.group(1))["articleBody"]
            if len(" ".join(paras).split()) > result.word_count:
                result.text = "\n\n".join(paras)
        return result

    monkeypatch.setattr(extractor, "EXTRACTOR_VERSION", "next")
    monkeypatch.setattr(extractor, "extract_article", extract)


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {
            "articles": [tuple(r) for r in conn.execute(select(schema.articles).order_by(schema.articles.c.id))],
            "pages": [tuple(r) for r in conn.execute(select(schema.pages).order_by(schema.pages.c.id))],
            "links": [
                tuple(r) for r in conn.execute(select(schema.dedup_links).order_by(schema.dedup_links.c.article_id))
            ],
            "clusters": [tuple(r) for r in conn.execute(select(schema.clusters).order_by(schema.clusters.c.id))],
        }


def articles_by_url(engine) -> dict:
    with engine.connect() as conn:
        return {r.url: r for r in conn.execute(select(schema.articles))}


@pytest.fixture
def loaded(engine):
    """An original (wire.example), a republisher page whose visible text is only a teaser but
    whose JSON-LD carries the wire story, and an unrelated article; extracted and deduped at v1."""
    rng = random.Random(3)
    story = [_para(rng) for _ in range(7)]
    teaser = [_para(rng) for _ in range(2)]
    other = [_para(rng) for _ in range(6)]
    ids = [
        add_page(engine, "https://wire.example/story", html("Storm hits harbour", story, T0.isoformat()), T0),
        add_page(engine, "https://paper.example/storm", html("Harbour storm: what we know", teaser,
                 (T0 + timedelta(hours=3)).isoformat(), ld_body=story), T0 + timedelta(hours=3)),
        add_page(engine, "https://other.example/festival", html("Festival opens", other, T0.isoformat()), T0),
    ]
    s = settings_for(engine)
    assert pipeline.extract_pages(engine, s, ids)["extracted"] == 3
    pipeline.dedup(engine, s)
    return engine


def test_articles_record_extractor_version(loaded):
    arts = articles_by_url(loaded)
    assert {a.extractor_version for a in arts.values()} == {extractor.EXTRACTOR_VERSION}
    assert {a.date_source for a in arts.values()} == {"page"}
    assert all(a.extractor for a in arts.values())
    assert rx.plan_page_ids(loaded) == []  # everything is current


def test_reextract_updates_in_place_relinks_and_is_idempotent(loaded, monkeypatch):
    engine = loaded
    before = articles_by_url(engine)
    wire, paper, other = (before[u] for u in ("https://wire.example/story", "https://paper.example/storm",
                                              "https://other.example/festival"))
    assert paper.cluster_id != wire.cluster_id and paper.relation == "original"  # a teaser: not a copy yet
    assert wire.clean_text

    v2_extractor(monkeypatch)
    assert len(rx.plan_page_ids(engine)) == 3
    stats = rx.reextract(engine, settings_for(engine))
    assert (stats["selected"], stats["changed"], stats["updated"], stats["failed"]) == (3, 1, 2, 0)
    assert stats["changed_article_ids"] == [paper.id]
    assert stats["dedup"]["processed"] >= 1

    after = articles_by_url(engine)
    assert {a.id for a in after.values()} == {a.id for a in before.values()}  # same rows, same ids
    assert {a.extractor_version for a in after.values()} == {"next"}
    new_paper, new_wire = after["https://paper.example/storm"], after["https://wire.example/story"]
    assert new_paper.text == new_wire.text != paper.text
    assert new_paper.word_count > paper.word_count
    # dedup followed the new text: the republisher is now a copy of the wire story
    assert new_paper.dedup_state == "done" and new_paper.cluster_id == new_wire.cluster_id
    assert new_paper.relation in ("exact", "near")
    with engine.connect() as conn:
        link = conn.execute(select(schema.dedup_links).where(schema.dedup_links.c.article_id == new_paper.id)).one()
    assert link.original_article_id == new_wire.id
    # an unchanged text keeps its dedup results
    assert new_wire.clean_text == wire.clean_text and new_wire.dedup_state == "done"
    assert after["https://other.example/festival"].cluster_id == other.cluster_id

    # second run: nothing to do, nothing written
    state = snapshot(engine)
    again = rx.reextract(engine, settings_for(engine))
    assert again["selected"] == 0 and again["dedup"]["processed"] == 0
    assert snapshot(engine) == state
    # --all re-extracts everything, finds nothing new, and writes nothing either
    again = rx.reextract(engine, settings_for(engine), only_outdated=False)
    assert (again["selected"], again["unchanged"], again["changed"], again["updated"]) == (3, 3, 0, 0)
    assert snapshot(engine) == state


def test_failed_reextraction_keeps_the_article(loaded, monkeypatch):
    engine = loaded
    before = articles_by_url(engine)

    def broken(body, url, content_type=None, **limits):
        if "other.example" in url:
            raise extractor.ExtractionError("no_text", "nothing here any more")
        return original(body, url, content_type, **limits)

    original = extractor.extract_article
    monkeypatch.setattr(extractor, "EXTRACTOR_VERSION", "after-next")
    monkeypatch.setattr(extractor, "extract_article", broken)
    stats = rx.reextract(engine, settings_for(engine), source="other.example")
    assert (stats["selected"], stats["failed"]) == (1, 1)
    after = articles_by_url(engine)
    kept = after["https://other.example/festival"]
    assert kept.id == before[kept.url].id and kept.text == before[kept.url].text
    assert kept.extractor_version == BASE_VERSION  # still the version that produced its text
    with engine.connect() as conn:
        page = conn.execute(select(schema.pages).where(schema.pages.c.id == kept.page_id)).one()
    assert page.state == "extracted" and page.error_kind == "no_text"
    assert page.last_error.startswith("reextract@after-next: no_text")
    # not retried at the same version; the other sources were not touched (--source)
    assert rx.plan_page_ids(engine, source="other.example") == []
    assert after["https://wire.example/story"].extractor_version == BASE_VERSION
    state = snapshot(engine)
    assert rx.reextract(engine, settings_for(engine), source="other.example")["selected"] == 0
    assert snapshot(engine) == state


def test_all_recovers_pages_that_failed(engine, monkeypatch):
    rng = random.Random(5)
    story = [_para(rng) for _ in range(6)]
    page_id = add_page(engine, "https://spa.example/a", html("Only in JSON", [], T0.isoformat(), ld_body=story), T0)
    s = settings_for(engine)
    assert pipeline.extract_pages(engine, s, [page_id])["extract_errors"] == 1
    assert rx.plan_page_ids(engine) == [] and rx.plan_page_ids(engine, only_outdated=False) == [page_id]

    v2_extractor(monkeypatch)
    monkeypatch.setattr(extractor, "extract_article", _json_fallback(extractor.extract_article))
    stats = rx.reextract(engine, s, only_outdated=False)
    assert stats["recovered"] == 1
    with engine.connect() as conn:
        art = conn.execute(select(schema.articles)).one()
        page = conn.execute(select(schema.pages)).one()
    assert art.text == "\n\n".join(story) and art.extractor_version == "next" and art.dedup_state == "done"
    assert (page.state, page.error_kind, page.last_error) == ("extracted", None, None)


def _json_fallback(extract):
    """The v2 extractor, also for pages without any visible text."""
    def run(body, url, content_type=None, **limits):
        try:
            return extract(body, url, content_type, **limits)
        except extractor.ExtractionError:
            found = _LD.search(body.decode("utf-8"))
            if not found:
                raise
            return extractor.Extracted(title=None, text="\n\n".join(json.loads(found.group(1))["articleBody"]),
                                       url=url, extractor="jsonld")
    return run


def test_since_and_unknown_source(loaded):
    engine = loaded
    with pytest.raises(ValueError):
        rx.plan_page_ids(engine, source="nowhere.example")
    assert rx.plan_page_ids(engine, since="2026-03-02", only_outdated=False) != []
    assert rx.plan_page_ids(engine, since="2026-03-03", only_outdated=False) == []
    assert len(rx.plan_page_ids(engine, since="2026-03-02T10:00:00", only_outdated=False)) == 1


def test_cli_reextract(sqlite_engine, sqlite_url, monkeypatch, capsys):
    from newsdesk.cli import main

    rng = random.Random(9)
    add_page(sqlite_engine, "https://wire.example/x", html("T", [_para(rng) for _ in range(6)], T0.isoformat()), T0)
    pipeline.extract_pages(sqlite_engine, settings_for(sqlite_engine), pipeline.fetched_page_ids(sqlite_engine))
    monkeypatch.setattr(extractor, "EXTRACTOR_VERSION", "next")
    assert main(["reextract", "--database", sqlite_url, "--source", "wire.example", "--since", "2026-03-01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["selected"], out["updated"], out["extractor_version"]) == (1, 1, "next")
    assert main(["reextract", "--database", sqlite_url, "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1
    assert main(["reextract", "--database", sqlite_url, "--source", "nowhere.example"]) == 1


@pytest.mark.airflow
@pytest.mark.slow
def test_news_reextract_dag(airflow_db, sqlite_engine, sqlite_url, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    rng = random.Random(11)
    story = [_para(rng) for _ in range(6)]
    for i in range(3):
        add_page(sqlite_engine, f"https://wire.example/{i}", html(f"T{i}", [_para(rng) for _ in range(6)],
                                                                   T0.isoformat()), T0)
    add_page(sqlite_engine, "https://paper.example/s", html("S", story[:2], T0.isoformat(), ld_body=story), T0)
    s = settings_for(sqlite_engine)
    pipeline.extract_pages(sqlite_engine, s, pipeline.fetched_page_ids(sqlite_engine))
    pipeline.dedup(sqlite_engine, s)
    ids_before = sorted(articles_by_url(sqlite_engine)[u].id for u in articles_by_url(sqlite_engine))

    monkeypatch.setenv("NEWSDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "2")  # two mapped batches
    v2_extractor(monkeypatch)
    dagbag = DagBag(dag_folder=str(__import__("pathlib").Path(__file__).resolve().parents[1] / "dags"))
    assert dagbag.import_errors == {}
    dag = dagbag.get_dag("news_reextract")
    assert dag.timetable.__class__.__name__ == "NullTimetable"  # schedule=None: manual runs only
    assert set(dag.params.keys()) == {"source", "since", "all"}

    run = dag.test(run_conf={"source": "", "since": "", "all": False})
    assert "success" in str(run.state)
    arts = articles_by_url(sqlite_engine)
    assert sorted(a.id for a in arts.values()) == ids_before
    assert {a.extractor_version for a in arts.values()} == {"next"}
    assert arts["https://paper.example/s"].text == "\n\n".join(story)
    assert {a.dedup_state for a in arts.values()} == {"done"}
    with sqlite_engine.connect() as conn:
        stats = conn.execute(text("SELECT stats FROM runs WHERE kind = 'news_reextract'")).scalar_one()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    assert (stats["selected"], stats["changed"], stats["updated"]) == (4, 1, 3)

    state = snapshot(sqlite_engine)
    run = dag.test(run_conf={"source": "", "since": "", "all": False})  # nothing left: mapped task skipped
    assert "success" in str(run.state)
    after = snapshot(sqlite_engine)
    assert after["articles"] == state["articles"] and after["links"] == state["links"]
