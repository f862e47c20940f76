"""Idempotent writes shared by every stage.

Every insert is an upsert keyed on a natural key (a URL, a page id), so a retried
task or a re-run batch converges on the same rows instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, SQLAlchemyError

from ..cjk import count_words
from ..compression import compress, decompress
from ..times import sane_date
from ..urls import canonicalize_url, domain_of, publisher_of, url_problem
from .schema import articles, pages, raw_pages, sources
from .values import clip, fit_row, fit_rows

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def insert_ignore(conn: Connection, table, rows: Sequence[dict], conflict: Sequence[str]):
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    conn.execute(stmt, fit_rows(table, rows))


def upsert(conn: Connection, table, rows: Sequence[dict], conflict: Sequence[str], update_cols: Iterable[str]):
    """INSERT ... ON CONFLICT DO UPDATE of ``update_cols`` (the natural key stays)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict), set_={c: getattr(stmt.excluded, c) for c in update_cols}
    )
    conn.execute(stmt, fit_rows(table, rows))


def database_reason(exc: BaseException) -> str:
    """The first line of what the database (or the driver) said, for a row set aside."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [""])[0]
    return clip(f"{inner.__class__.__name__}: {first}", 500)


# SQLSTATE classes of a failure of the connection or the server, not of the row: connection
# exception, transaction rollback (deadlock, serialization), insufficient resources, operator
# intervention (terminated, shutting down), lock not available.
_TRANSIENT_SQLSTATES = ("08", "40", "53", "57", "55P03")
_TRANSIENT_SQLITE = ("locked", "busy", "disk i/o", "unable to open")


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` says the warehouse went away or was busy rather than refused a row:
    such an item must not be set aside; the run fails and a re-run completes it."""
    if isinstance(exc, InterfaceError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    inner = getattr(exc, "orig", None) or exc
    state = getattr(inner, "sqlstate", None) or getattr(inner, "pgcode", None)
    if state:
        return state.startswith(_TRANSIENT_SQLSTATES)
    if inner.__class__.__name__ == "OperationalError" and inner.__class__.__module__.startswith("sqlite3"):
        return any(word in str(inner).lower() for word in _TRANSIENT_SQLITE)
    return False


def write_isolated(conn: Connection, rows: Sequence, write: Callable[[Sequence], object]) -> list[tuple[object, str]]:
    """``write(rows)`` in a savepoint; when the database refuses the batch, ``write([row])`` for
    each row in a savepoint of its own, so only the rows it refuses are set aside. Returns
    them with the database's reason; the caller records them (page state, counts)."""
    if not rows:
        return []
    try:
        with conn.begin_nested():
            write(rows)
        return []
    except (SQLAlchemyError, ValueError) as exc:
        if is_transient(exc):
            raise
        if len(rows) == 1:
            return [(rows[0], database_reason(exc))]
        log.warning("a batch of %d rows was refused (%s); writing them one by one", len(rows), database_reason(exc))
    rejected = []
    for row in rows:
        try:
            with conn.begin_nested():
                write([row])
        except (SQLAlchemyError, ValueError) as exc:
            if is_transient(exc):
                raise
            rejected.append((row, database_reason(exc)))
    return rejected


@dataclass(frozen=True)
class NewPage:
    """A document URL discovered by a feed, a sitemap or an archive."""

    url: str
    origin: str  # feed | sitemap | warc
    source_id: int | None = None
    feed_id: int | None = None
    guid: str | None = None
    published_at: datetime | None = None


def enqueue_pages(conn: Connection, found: Sequence[NewPage],
                  rejected: list[tuple[str, str]] | None = None) -> list[int]:
    """Record discovered URLs as pending pages; returns ids of the pages that are new.

    An entry is known by its canonical URL or by its feed's GUID for it: a feed that
    re-orders or re-dates its entries, or moves an entry to a new URL under the same
    GUID, produces no new work. A URL that cannot be a page (``urls.url_problem``) or a row
    the database refuses is set aside: appended to ``rejected`` as (URL, reason).
    """
    if not found:
        return []
    by_url: dict[str, NewPage] = {}
    for item in found:
        if item.guid is not None:  # looked up below: as it will be stored
            item = replace(item, guid=fit_row(pages, {"guid": item.guid})["guid"])
        problem = url_problem(item.url)
        if problem is None:
            try:
                canonical = canonicalize_url(item.url)
            except (ValueError, UnicodeError) as exc:
                canonical, problem = None, f"invalid URL: {exc}"
            if canonical is not None:
                problem = url_problem(canonical)  # percent-encoding may have made it too long
            if problem is None:
                by_url.setdefault(canonical, item)
                continue
        if rejected is not None:
            rejected.append((str(item.url), problem))
    urls = list(by_url)
    existing = set()
    for chunk in _chunks(urls, 500):
        existing.update(conn.execute(select(pages.c.url).where(pages.c.url.in_(chunk))).scalars())
    guids_by_feed: dict[int, list[str]] = {}
    for item in by_url.values():
        if item.guid and item.feed_id is not None:
            guids_by_feed.setdefault(item.feed_id, []).append(item.guid)
    seen_guids: set[tuple[int, str]] = set()
    for feed_id, guids in guids_by_feed.items():
        for chunk in _chunks(guids, 500):
            seen_guids.update((feed_id, g) for g in conn.execute(
                select(pages.c.guid).where(pages.c.feed_id == feed_id, pages.c.guid.in_(chunk))).scalars())
    existing.update(url for url, item in by_url.items() if (item.feed_id, item.guid) in seen_guids)
    now = utcnow()
    rows = [
        dict(
            url=url, seen_url=item.url, guid=item.guid, source_id=item.source_id, feed_id=item.feed_id,
            origin=item.origin, state="pending", attempts=0, discovered_at=now,
            entry_published_at=sane_date(item.published_at, now),  # a feed's 9999-12-31: unknown
        )
        for url, item in by_url.items()
        if url not in existing
    ]
    refused = write_isolated(conn, rows, lambda batch: insert_ignore(conn, pages, batch, ["url"]))
    if refused and rejected is not None:
        rejected.extend((row["seen_url"], reason) for row, reason in refused)
    refused_urls = {row["url"] for row, _ in refused}
    new_urls = [r["url"] for r in rows if r["url"] not in refused_urls]
    ids: list[int] = []
    for chunk in _chunks(new_urls, 500):
        ids.extend(conn.execute(select(pages.c.id).where(pages.c.url.in_(chunk))).scalars())
    return sorted(ids)


def store_raw(conn: Connection, page_id: int, body: bytes, headers: dict | None = None) -> None:
    """Keep the fetched HTML (zlib) so articles can be re-extracted without refetching."""
    upsert(
        conn,
        raw_pages,
        [dict(page_id=page_id, compression="zlib", body=compress(body), raw_size=len(body),
              sha256=hashlib.sha256(body).hexdigest(), headers=headers or {})],
        ["page_id"],
        ["compression", "body", "raw_size", "sha256", "headers"],
    )


# raw_pages.compression of a page imported from an archive without a copy: the body stays in
# the archive, and headers[ARCHIVE_REF] = {"path": file or URL, "offset": record start} finds it.
RAW_IN_ARCHIVE = "warc"
ARCHIVE_REF = "x-newsdesk-archive"


def load_raw(conn: Connection, page_id: int,
             read_archived: Callable[[str, int], bytes | None]) -> tuple[bytes, dict] | None:
    """The page's raw body and headers; None if there is none (or its archive is gone).

    ``read_archived(path, offset)`` reads the body of a page kept as a pointer into its archive
    (``newsdesk.fetch.archived.read_body``): storage does not read archive formats itself."""
    row = conn.execute(select(raw_pages.c.body, raw_pages.c.compression, raw_pages.c.headers)
                       .where(raw_pages.c.page_id == page_id)).first()
    if row is None:
        return None
    headers = dict(row.headers or {})
    if row.compression == RAW_IN_ARCHIVE:
        ref = headers.pop(ARCHIVE_REF, None) or {}
        body = read_archived(ref["path"], int(ref["offset"])) if ref.get("path") and "offset" in ref else None
        return (body, headers) if body is not None else None
    body = decompress(row.body) if row.compression == "zlib" else row.body
    return body, headers


def mark_page(conn: Connection, page_id: int, state: str, **fields) -> None:
    conn.execute(update(pages).where(pages.c.id == page_id).values(**fit_row(pages, dict(state=state, **fields))))


def set_page_aside(engine, page_id: int, kind: str, reason: str) -> None:
    """A page whose write failed: ``failed`` with the reason, in a transaction of its own, so
    the next run does not meet it again in the state it was left in (and fail the same way)."""
    with engine.begin() as conn:
        mark_page(conn, page_id, "failed", error_kind=kind, last_error=clip(reason, 2000))


def source_for_domain(conn: Connection, domain: str) -> int:
    """The source a page belongs to: the registry's source for its domain, else one
    created for the domain (archives hold outlets that the registry does not list)."""
    fitted = fit_row(sources, dict(name=domain, domain=domain))  # as stored: a 300-character host is clipped
    found = conn.execute(select(sources.c.id).where(sources.c.domain == fitted["domain"])
                         .order_by(sources.c.id)).first()
    if found:
        return found[0]
    insert_ignore(conn, sources, [dict(fitted, homepage=f"https://{domain}/", in_registry=False,
                                       created_at=utcnow())], ["name"])
    return conn.execute(select(sources.c.id).where(sources.c.name == fitted["name"])).scalar_one()


ARTICLE_FIELDS = (
    "url", "canonical_url", "domain", "title", "text", "author", "published_at", "sitename",
    "language", "description", "image", "tags", "attribution", "clean_text", "extractor",
    "extractor_version", "date_source", "paywalled",
)
# Written by dedup from the text: a refresh that leaves the text as it was keeps them.
_DEDUP_DERIVED = ("attribution", "clean_text")


def with_place(values: dict) -> dict:
    """An article's ``domain`` (the host of its URL, unless the extractor gave one) and
    ``publisher`` (that host's registrable domain); returns ``values``."""
    values["domain"] = values.get("domain") or domain_of(values["url"])
    values["publisher"] = publisher_of(values["domain"]) if values["domain"] else None
    return values


def upsert_article(conn: Connection, page_id: int, source_id: int | None, fields: dict) -> int:
    """Insert or refresh the article extracted from a page; returns its id.

    A changed text resets the dedup state so the article is compared again.
    """
    fields = fit_row(articles, fields)  # the text hashed is the text stored
    text_value = fields["text"]
    values = with_place({k: fields.get(k) for k in ARTICLE_FIELDS})
    values.update(
        page_id=page_id, source_id=source_id, word_count=count_words(text_value),
        text_sha256=hashlib.sha256(text_value.encode("utf-8")).hexdigest(), extracted_at=utcnow(),
    )
    values = fit_row(articles, values)  # domain and publisher, derived above
    current = conn.execute(select(articles.c.id, articles.c.text_sha256).where(articles.c.page_id == page_id)).first()
    if current is None:
        insert_ignore(conn, articles, [dict(values, dedup_state="pending")], ["page_id"])
        return conn.execute(select(articles.c.id).where(articles.c.page_id == page_id)).scalar_one()
    changed = current.text_sha256 != values["text_sha256"]
    if changed:
        values["dedup_state"] = "pending"
    else:  # e.g. re-extraction with a new extractor version that gives the same text
        for k in _DEDUP_DERIVED:
            if k not in fields:
                values.pop(k)
    conn.execute(update(articles).where(articles.c.id == current.id).values(**values))
    return current.id


def _chunks(seq: Sequence, size: int):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
