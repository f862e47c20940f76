"""The full-text search index of articles: its DDL and its maintenance on bulk loads.

PostgreSQL: a side table ``article_search(article_id, search_tsv)`` (title weighted A,
text B, stemmed with the article's language where PostgreSQL has a configuration for it)
with a GIN index, kept in step by triggers on ``articles`` that fire when an article is
inserted or its title, text or language change. Not a column of ``articles``: dedup
updates every article once (cluster, relation, clean text), and each new row version
re-inserted all the article's lexemes into the GIN index. SQLite: an FTS5
external-content table ``articles_fts`` (porter + unicode61) kept in step by triggers on
``articles`` (its update trigger is already limited to title and text).

``ensure_search_index`` creates whichever the dialect needs; it is idempotent and
runs from ``storage.db.upgrade``. Both objects backfill existing rows when created.
Queries over the index live in ``newsdesk.analytics.search``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

FTS_TABLE = "articles_fts"
TSV_TABLE = "article_search"
TSV_COLUMN = "search_tsv"
TSV_INDEX = "ix_article_search_tsv"

# ISO 639-1 -> PostgreSQL text search configuration (built-in ones only); others use 'simple'.
PG_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sv": "swedish", "tr": "turkish",
}


def pg_config_expr(row: str = "") -> str:
    """The text search configuration of an article's language; ``row``: the article's alias, with its dot."""
    cases = " ".join(f"WHEN '{iso}' THEN '{cfg}'::regconfig" for iso, cfg in sorted(PG_CONFIGS.items()))
    return f"CASE lower(left(coalesce({row}language, ''), 2)) {cases} ELSE 'simple'::regconfig END"


def pg_tsv_expr(row: str = "") -> str:
    cfg = pg_config_expr(row)
    return (f"setweight(to_tsvector({cfg}, coalesce({row}title, '')), 'A') || "
            f"setweight(to_tsvector({cfg}, coalesce({row}text, '')), 'B')")


def ensure_search_index(engine: Engine) -> str:
    """Create the dialect's full-text objects if missing and backfill; returns what it did."""
    if engine.dialect.name == "postgresql":
        return _ensure_pg(engine)
    if engine.dialect.name == "sqlite":
        return _ensure_sqlite(engine)
    return "unsupported dialect"


def _pg_upsert_vectors(rows: str) -> str:
    """Writes the vector of each article ``rows`` yields as (id, vector), replacing an old one."""
    return (f"INSERT INTO {TSV_TABLE} (article_id, {TSV_COLUMN}) {rows} "
            f"ON CONFLICT (article_id) DO UPDATE SET {TSV_COLUMN} = EXCLUDED.{TSV_COLUMN}")


# Inserted articles are indexed per statement (one INSERT ... SELECT over the transition
# table); an update of title, text or language per row (rare: re-extraction). Deleted
# articles leave with their row (ON DELETE CASCADE).
_PG_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {TSV_TABLE} (
        article_id BIGINT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        {TSV_COLUMN} tsvector NOT NULL)""",
    f"""CREATE OR REPLACE FUNCTION newsdesk_index_inserted_articles() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            {_pg_upsert_vectors(f"SELECT n.id, {pg_tsv_expr('n.')} FROM inserted_articles n")};
            RETURN NULL;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION newsdesk_index_updated_article() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            {_pg_upsert_vectors(f"VALUES (NEW.id, {pg_tsv_expr('NEW.')})")};
            RETURN NULL;
        END $$""",
    "DROP TRIGGER IF EXISTS article_search_ai ON articles",
    """CREATE TRIGGER article_search_ai AFTER INSERT ON articles REFERENCING NEW TABLE AS inserted_articles
        FOR EACH STATEMENT EXECUTE FUNCTION newsdesk_index_inserted_articles()""",
    "DROP TRIGGER IF EXISTS article_search_au ON articles",
    """CREATE TRIGGER article_search_au AFTER UPDATE OF title, text, language ON articles
        FOR EACH ROW EXECUTE FUNCTION newsdesk_index_updated_article()""",
]


def _ensure_pg(engine: Engine) -> str:
    with engine.begin() as conn:
        has = set(conn.execute(text(
            "SELECT 'column' FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'articles' AND column_name = :c "
            "UNION ALL SELECT 'table' FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = :t "
            "UNION ALL SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('articles') "
            "AND tgname IN ('article_search_ai', 'article_search_au')"), {"c": TSV_COLUMN, "t": TSV_TABLE}).scalars())
        if has == {"table", "article_search_ai", "article_search_au"}:
            return "present"
        did = []
        if "column" in has:  # a generated column of articles until 2026-11: its GIN index goes with it
            conn.execute(text(f"ALTER TABLE articles DROP COLUMN {TSV_COLUMN}"))
            did.append("moved column")
        # Creating the triggers locks articles against writes until this transaction commits,
        # so the backfill below sees every article that will not fire them.
        for ddl in _PG_DDL:
            conn.execute(text(ddl))
        conn.execute(text(_pg_upsert_vectors(
            f"SELECT a.id, {pg_tsv_expr('a.')} FROM articles a "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TSV_TABLE} t WHERE t.article_id = a.id)")))
        # After the backfill: one GIN build sorts all its entries at once, instead of inserting
        # them article by article.
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {TSV_INDEX} ON {TSV_TABLE} USING GIN ({TSV_COLUMN})"))
        did.append("table" if "table" not in has else "triggers")
    return "created " + ",".join(did)


_SQLITE_TRIGGERS = {
    "articles_fts_ai": f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    "articles_fts_ad": f"""CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    END""",
    "articles_fts_au": f"""CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
}


def _ensure_sqlite(engine: Engine) -> str:
    with engine.begin() as conn:
        existing = set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE name = :t OR (type = 'trigger' AND tbl_name = 'articles')"
        ), {"t": FTS_TABLE}).scalars())
        missing = [name for name in [FTS_TABLE, *_SQLITE_TRIGGERS] if name not in existing]
        if not missing:
            return "present"
        conn.execute(text(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "title, text, content='articles', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"))
        for ddl in _SQLITE_TRIGGERS.values():
            conn.execute(text(ddl))
        # Anything was missing: the index may be out of step with articles, rebuild it
        # from the content table (also the first backfill).
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
    return "created " + ",".join(missing)


class bulk_indexing:
    """SQLite: index the articles a bulk load inserts in one FTS statement, not row by row.

    The insert trigger indexes each row in its own statement, and FTS5 flushes a segment per
    statement: on a 100-row batch of news texts that is ~6x the work of one INSERT ... SELECT.
    Inside the caller's transaction the trigger is dropped, the batch inserted, its rows indexed
    (``index(ids)``) and the trigger re-created; DDL is transactional in SQLite and the open write
    transaction keeps every other writer out, so no insert can miss the index. A no-op elsewhere.

        with bulk_indexing(conn) as fts:
            ... insert articles ...
            fts.index(new_article_ids)
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        self.active = conn.dialect.name == "sqlite" and bool(conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_fts_ai'")).first())

    def __enter__(self) -> bulk_indexing:
        if self.active:
            self.conn.execute(text("DROP TRIGGER articles_fts_ai"))
        return self

    def index(self, article_ids) -> None:
        ids = sorted(set(article_ids))
        if not self.active or not ids:
            return
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            self.conn.execute(text(
                f"INSERT INTO {FTS_TABLE}(rowid, title, text) SELECT id, title, text FROM articles "
                f"WHERE id IN ({','.join(map(str, chunk))})"))

    def __exit__(self, exc_type, *exc) -> None:
        if self.active and exc_type is None:  # on an exception the transaction rolls back, the DROP with it
            self.conn.execute(text(_SQLITE_TRIGGERS["articles_fts_ai"]))


def rebuild_search_index(engine: Engine) -> None:
    """Re-index every article."""
    ensure_search_index(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
        elif engine.dialect.name == "postgresql":
            conn.execute(text(_pg_upsert_vectors(f"SELECT a.id, {pg_tsv_expr('a.')} FROM articles a")))
