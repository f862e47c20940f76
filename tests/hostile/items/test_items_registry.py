"""Hostile registry sources: one source the warehouse cannot hold among good ones, synced on
SQLite and PostgreSQL. Each case is a function named after its quirk; the source is set aside
with its reason (``set_aside`` of the sync's counts) or synced with its values made to fit, the
good sources are synced with their feeds, and a second sync changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from items_support import refuse_rows
from sqlalchemy import text

from newsdesk.feeds.registry import sync_registry

GOOD = [("Good One", "https://one.example/", "https://one.example/rss"),
        ("Good Two", "https://two.example/", "https://two.example/rss")]


@dataclass
class RegistryCase:
    source: tuple[str, str, str]  # name, homepage, feed URL (YAML double-quoted: escapes allowed)
    set_aside: str | None = None
    refuse: tuple[str, str, str] | None = None
    check: object = None


def _yaml(sources) -> str:
    lines = ["sources:"]
    for name, homepage, feed in sources:
        lines += [f"  - name: {json.dumps(name)}", f"    homepage: {json.dumps(homepage)}", "    language: en",
                  f"    feeds: [{json.dumps(feed)}]"]
    return "\n".join(lines) + "\n"


def registry_source_name_of_300_characters():
    return RegistryCase(("N" * 300, "https://long.example/", "https://long.example/rss"),
                        set_aside="name longer than 200 characters")


def _domain_fits(engine):
    with engine.connect() as conn:
        [domain] = conn.execute(text("SELECT domain FROM sources WHERE name = 'Long Host'")).scalars()
    assert len(domain) == 255


def registry_homepage_host_of_300_characters():
    host = ".".join(["h" * 59] * 5) + ".example"
    return RegistryCase(("Long Host", f"https://{host}/", f"https://{host}/rss"), check=_domain_fits)


def _no_nul(engine):
    with engine.connect() as conn:
        homepage, url = conn.execute(text("SELECT s.homepage, f.url FROM sources s JOIN feeds f ON f.source_id = s.id "
                                          "WHERE s.name = 'Nul Daily'")).one()
    assert "\x00" not in homepage + url


def registry_nul_in_homepage_and_feed_url():
    return RegistryCase(("Nul Daily", "https://nul.example/\x00home", "https://nul.example/rss\x00"), check=_no_nul)


def registry_source_refused_by_the_database():
    return RegistryCase(("POISON Daily", "https://poison.example/", "https://poison.example/rss"),
                        set_aside="row refused", refuse=("sources", "name", "POISON"))


def registry_feed_refused_by_the_database():
    return RegistryCase(("Feedless", "https://feedless.example/", "https://feedless.example/poison.xml"),
                        set_aside="row refused", refuse=("feeds", "url", "poison"))


CASES = [registry_source_name_of_300_characters, registry_homepage_host_of_300_characters,
         registry_nul_in_homepage_and_feed_url, registry_source_refused_by_the_database,
         registry_feed_refused_by_the_database]


@pytest.mark.parametrize("quirk", CASES, ids=lambda f: f.__name__)
def test_registry_source_quirk(quirk, engine, tmp_path):
    case = quirk()
    path = tmp_path / "feeds.yaml"
    path.write_text(_yaml([GOOD[0], case.source, GOOD[1]]), encoding="utf-8")
    if case.refuse:
        refuse_rows(engine, *case.refuse)

    stats = sync_registry(engine, path)  # never raises for one source

    with engine.connect() as conn:
        feeds = dict(conn.execute(text("SELECT s.name, f.url FROM feeds f JOIN sources s ON s.id = f.source_id")).all())
    for name, _, feed in GOOD:
        assert feeds[name] == feed
    if case.set_aside:
        [aside] = stats["set_aside"]
        assert case.set_aside in aside["reason"], aside
        assert len(feeds) == 2
    else:
        assert stats["set_aside"] == [] and len(feeds) == 3
    if case.check:
        case.check(engine)
    again = sync_registry(engine, path)
    assert again["sources_added"] == 0 and again["feeds_added"] == 0 and again["feeds_deactivated"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM feeds")).scalar_one() == len(feeds)
