"""Registry YAML validation and idempotent sync on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsdesk.feeds import RegistryError, load_registry, sync_registry
from newsdesk.storage.schema import feeds, sources

REGISTRY = """
sources:
  - name: Example Daily
    homepage: https://www.example.com/
    language: en
    feeds:
      - https://www.example.com/rss.xml
      - url: https://www.example.com/news-sitemap.xml
        kind: sitemap
        interval: 900
  - name: Other Times
    homepage: https://other.example.org
    feeds: [https://other.example.org/atom]
"""


def write(tmp_path, text, name="registry.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_registry(tmp_path):
    specs = load_registry(write(tmp_path, REGISTRY))
    assert [s.name for s in specs] == ["Example Daily", "Other Times"]
    assert specs[0].domain == "example.com" and specs[0].language == "en"
    assert specs[0].feeds[1].kind == "sitemap" and specs[0].feeds[1].interval_s == 900


@pytest.mark.parametrize("text,message", [
    ("- just a list", "'sources' list"),
    ("sources:\n  - homepage: https://a.example/\n", r"sources\[0\]: 'name' is required"),
    ("sources:\n  - name: A\n    homepage: notaurl\n", r"sources\[0\] \('A'\): 'homepage'"),
    ("sources:\n  - name: A\n    homepage: https://a.example/\n    feeds: [ftp://a.example/f]\n",
     r"sources\[0\] \('A'\): feeds\[0\]: must be an http\(s\) URL"),
    ("sources:\n  - {name: A, homepage: 'https://a.example/'}\n  - {name: A, homepage: 'https://b.example/'}\n",
     r"sources\[1\] \('A'\): duplicate name"),
    ("sources:\n  - {name: A, homepage: 'https://a.example/', feeds: ['https://f.example/x']}\n"
     "  - {name: B, homepage: 'https://b.example/', feeds: ['https://f.example/x']}\n",
     r"sources\[1\] \('B'\): feeds\[0\]: feed https://f.example/x is already listed by source 'A'"),
    ("sources:\n  - {name: A, homepage: 'https://a.example/', colour: red}\n", "unknown keys"),
    ("sources: [\n", "invalid YAML"),
])
def test_validation_errors_name_the_entry(tmp_path, text, message):
    with pytest.raises(RegistryError, match=message):
        load_registry(write(tmp_path, text))


def test_sync_is_idempotent_and_deactivates_dropped_feeds(engine, tmp_path):
    path = write(tmp_path, REGISTRY)
    first = sync_registry(engine, path)
    assert first["sources_added"] == 2 and first["feeds_added"] == 3 and first["feeds_deactivated"] == 0
    again = sync_registry(engine, path)
    assert again["sources_added"] == 0 and again["feeds_added"] == 0 and again["feeds_deactivated"] == 0
    with engine.connect() as conn:
        rows = conn.execute(select(sources.c.name, sources.c.domain, sources.c.in_registry)
                            .order_by(sources.c.name)).all()
        assert [tuple(r) for r in rows] == [("Example Daily", "example.com", True),
                                            ("Other Times", "other.example.org", True)]
        assert conn.execute(select(feeds.c.interval_override_s).where(
            feeds.c.url == "https://www.example.com/news-sitemap.xml")).scalar_one() == 900

    smaller = write(tmp_path, REGISTRY.split("  - name: Other Times")[0], "smaller.yaml")
    dropped = sync_registry(engine, smaller)
    assert dropped["feeds_deactivated"] == 1 and dropped["sources_retired"] == 1
    with engine.connect() as conn:
        state = {r.url: r.active for r in conn.execute(select(feeds.c.url, feeds.c.active))}
        assert state == {"https://www.example.com/rss.xml": True,
                         "https://www.example.com/news-sitemap.xml": True,
                         "https://other.example.org/atom": False}
    back = sync_registry(engine, path)
    assert back["feeds_reactivated"] == 1 and back["feeds_added"] == 0
    with engine.connect() as conn:
        assert conn.execute(select(feeds.c.id)).all().__len__() == 3
