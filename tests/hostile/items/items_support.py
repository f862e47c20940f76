"""What the per-item hostile cases share: good pages served on 127.0.0.1, feeds, sitemaps and
WARC files holding one hostile item among good neighbours, a database that refuses one row
(a trigger: a real refusal, standing in for any value a warehouse rejects), and checks."""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "data"))
from warc_gen import news_page

GOOD = 3  # good neighbours of every hostile item
FEED_DATE = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def dateless_page(index: int, seed: int = 29, **kw) -> tuple[str, bytes]:
    """A realistic article page that states no date of its own (so an entry's date shows)."""
    kw.setdefault("domain", "dailyherald.example")  # English: ASCII paths, as the local server routes them
    url, body = news_page(index, seed, **kw)
    html = body.decode("utf-8")
    html = re.sub(r'<meta property="article:published_time" content="[^"]*">', "", html)
    html = re.sub(r'<p class="byline">.*?</p>', "", html, flags=re.S)
    return url, html.encode("utf-8")


def serve_pages(server, pages: list[tuple[str, bytes]]) -> list[str]:
    """Each page at its own path on the local server; returns the local URLs."""
    urls = []
    for url, body in pages:
        path = urlsplit(url).path
        server.add(path, body, headers={"Content-Type": "text/html; charset=utf-8"})
        urls.append(server.url(path))
    return urls


def good_pages(server, count: int = GOOD, start: int = 0) -> list[str]:
    return serve_pages(server, [dateless_page(i) for i in range(start, start + count)])


# -- feeds ----------------------------------------------------------------------

def rss(items: list[dict]) -> bytes:
    parts = []
    for it in items:
        fields = "".join(f"<{k}>{escape(str(v), quote=False)}</{k}>" for k, v in it.items())
        parts.append(f"<item>{fields}</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
            f'<link>http://127.0.0.1/</link>{"".join(parts)}</channel></rss>').encode()


def atom(entries: list[dict]) -> bytes:
    parts = []
    for i, it in enumerate(entries):
        link = f'<link rel="alternate" href="{escape(it["link"])}"/>' if "link" in it else ""
        updated = f"<updated>{escape(it['updated'])}</updated>" if "updated" in it else ""
        parts.append(f"<entry><id>urn:e:{i}</id><title>{escape(it.get('title', 'entry'))}</title>{link}{updated}"
                     "</entry>")
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>Hostile</title><id>urn:feed</id>{"".join(parts)}</feed>').encode()


def rss_date(when: datetime = FEED_DATE) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def iso(when: datetime = FEED_DATE) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_registry(tmp_path, server, feed_paths: list[str], name: str = "Hostile Daily") -> Path:
    feeds = "".join(f"      - {server.url(p)}\n" for p in feed_paths)
    path = tmp_path / "registry.yaml"
    path.write_text(f"sources:\n  - name: {name}\n    homepage: {server.base}/\n    language: en\n"
                    f"    feeds:\n{feeds}", encoding="utf-8")
    return path


# -- WARC -----------------------------------------------------------------------

def write_warc(path: Path, records: list[tuple[str, str, bytes]], gzip: bool = True) -> Path:
    """Response records of (WARC-Target-URI, WARC-Date, HTML), both headers written as given."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        for uri, date, body in records:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            record = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                               warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)
    return path


def warc_pages(count: int, start: int = 0, seed: int = 31) -> list[tuple[str, str, bytes]]:
    out = []
    for i in range(start, start + count):
        url, body = news_page(i, seed)
        out.append((url, "2026-03-02T10:00:00Z", body))
    return out


# -- the warehouse --------------------------------------------------------------

def refuse_rows(engine, table: str, column: str, needle: str) -> None:
    """Make the warehouse refuse every insert into ``table`` whose ``column`` holds ``needle``."""
    name = f"refuse_{table}"
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                              f"WHEN instr(NEW.{column}, '{needle}') > 0 "
                              f"BEGIN SELECT RAISE(ABORT, 'row refused: {needle}'); END"))
        else:
            conn.execute(text(f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF strpos(NEW.{column}, '{needle}') > 0 THEN
                    RAISE EXCEPTION 'row refused: {needle}'; END IF; RETURN NEW; END $$"""))
            conn.execute(text(f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                              f"EXECUTE FUNCTION {name}()"))


def allow_rows(engine, table: str) -> None:
    name = f"refuse_{table}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER {name}" if engine.dialect.name == "sqlite" else
                          f"DROP TRIGGER {name} ON {table}"))


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("pages", "raw_pages", "articles", "clusters")}


def article_urls(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT url FROM articles")).scalars())


def page_states(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {r.url: (r.state, r.error_kind, r.last_error)
                for r in conn.execute(text("SELECT url, state, error_kind, last_error FROM pages"))}


def poll_errors(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT outcome, error_kind, error FROM poll_log ORDER BY id"))]


def as_aware(value):
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)


def assert_dates_sane(engine) -> None:
    """No article dated before 1900 or more than a day after its page's fetch or capture, and
    ``date_source`` set exactly when a date is."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT a.url, a.published_at, a.date_source, p.fetched_at, p.entry_published_at "
                                 "FROM articles a JOIN pages p ON p.id = a.page_id")).all()
    for url, published, source, fetched, entry in rows:
        published, fetched, entry = as_aware(published), as_aware(fetched), as_aware(entry)
        assert (published is None) == (source is None), (url, published, source)
        if published is not None:
            earliest = datetime(1900, 1, 1, tzinfo=timezone.utc)
            assert earliest <= published <= fetched + timedelta(days=1), (url, published)
        if entry is not None:
            assert entry.year >= 1900 and entry <= datetime.now(timezone.utc) + timedelta(days=1), (url, entry)
