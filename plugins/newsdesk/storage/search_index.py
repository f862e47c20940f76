"""The full-text search index of articles: its DDL and its maintenance on bulk loads.

PostgreSQL: a side table ``article_search(article_id, search_tsv)`` (title weighted A,
text B, accents folded as SQLite folds them, stemmed with the article's language where
PostgreSQL has a stemmer for it, stop words kept as SQLite keeps them: configurations
``newsdesk_<language>``) with a GIN index, kept in step by triggers on ``articles`` that
fire when an article is inserted or its title, text or language change. Not a column of ``articles``: dedup
updates every article once (cluster, relation, clean text), and each new row version
re-inserted all the article's lexemes into the GIN index. SQLite: an FTS5
external-content table ``articles_fts`` (porter + unicode61) kept in step by triggers on
``articles`` (its update trigger is already limited to title and text).

``ensure_search_index`` creates whichever the dialect needs; it is idempotent and
runs from ``storage.db.upgrade``, which records ``definition()``'s hash and rebuilds the
index when it changes. Both objects backfill existing rows when created.
Queries over the index live in ``newsdesk.analytics.search``.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .values import SEARCH_TEXT_CHARS

FTS_TABLE = "articles_fts"
TSV_TABLE = "article_search"
TSV_COLUMN = "search_tsv"
TSV_INDEX = "ix_article_search_tsv"

# ISO 639-1 -> PostgreSQL's snowball stemmer (built-in ones only); others use 'simple'. Each
# gets a configuration newsdesk_<language>: the built-in one with a stemmer that keeps stop
# words, so that "the" or "die" is searchable as on SQLite.
PG_CONFIGS = {
    "ar": "arabic", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sv": "swedish", "tr": "turkish",
}
PG_SEARCH_CONFIGS = sorted(f"newsdesk_{language}" for language in set(PG_CONFIGS.values())) + ["simple"]


def _accent_table() -> tuple[str, str]:
    """Latin letters with diacritics and their base letter, as SQLite's ``unicode61
    remove_diacritics 2`` folds them (tests/test_search.py compares the two)."""
    source, target = ["ſẛ"], ["ss"]
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        if base != char and len(base) == 1 and base.isascii() and base.isalpha() and char not in "Ǡǡ":
            source.append(char)
            target.append(base)
    return "".join(source), "".join(target)


ACCENTS, ACCENTS_FOLDED = _accent_table()
_FOLD = str.maketrans(ACCENTS, ACCENTS_FOLDED)


def fold_accents(value: str) -> str:
    """What ``newsdesk_fold`` does on PostgreSQL: é -> e, Ł stays (no base letter)."""
    return value.translate(_FOLD)


def pg_config_expr(row: str = "") -> str:
    """The text search configuration of an article's language; ``row``: the article's alias, with its dot."""
    cases = " ".join(f"WHEN '{iso}' THEN 'newsdesk_{cfg}'::regconfig" for iso, cfg in sorted(PG_CONFIGS.items()))
    return f"CASE lower(left(coalesce({row}language, ''), 2)) {cases} ELSE 'simple'::regconfig END"


def pg_tsv_expr(row: str = "") -> str:
    cfg = pg_config_expr(row)
    # the text's first SEARCH_TEXT_CHARS characters: a vector above 1 MB is an error, not a cut
    limit = SEARCH_TEXT_CHARS
    return (f"setweight(to_tsvector({cfg}, newsdesk_fold(left(coalesce({row}title, ''), {limit // 10}))), 'A') || "
            f"setweight(to_tsvector({cfg}, newsdesk_fold(left(coalesce({row}text, ''), {limit}))), 'B')")


def ensure_search_index(engine: Engine, rebuild: bool = False, refresh: bool = False) -> str:
    """Create the dialect's full-text objects if missing and backfill; ``rebuild``: create
    them again from their current definition and index every article anew; ``refresh``
    (PostgreSQL): replace the functions and triggers, keep the vectors (the definition changed
    in how they are computed, not in what they are: ``SAME_VECTORS``). Returns what it did."""
    if engine.dialect.name == "postgresql":
        return _ensure_pg(engine, rebuild, refresh)
    if engine.dialect.name == "sqlite":
        return _ensure_sqlite(engine, rebuild)
    return "unsupported dialect"


def definition(dialect: str) -> str:
    """The DDL of the dialect's index: when it changes, ``newsdesk db upgrade`` rebuilds the index
    (or only replaces its functions: ``SAME_VECTORS``)."""
    if dialect == "postgresql":
        return "\n".join([*_PG_DDL, pg_tsv_expr()])
    return "\n".join([_SQLITE_FTS, *_SQLITE_TRIGGERS.values()])


# sha256 of earlier definitions that give every article the vector the current one gives: an
# upgrade from one of them replaces the functions and triggers without indexing every article
# again. f593c3c6: newsdesk_fold as one translate() over the whole list of accented letters.
SAME_VECTORS = {"postgresql": frozenset({"f593c3c6f23a729953df8a095157267025cd11192fceec9206660c97b7643115"})}


def _pg_upsert_vectors(rows: str) -> str:
    """Writes the vector of each article ``rows`` yields as (id, vector), replacing an old one."""
    return (f"INSERT INTO {TSV_TABLE} (article_id, {TSV_COLUMN}) {rows} "
            f"ON CONFLICT (article_id) DO UPDATE SET {TSV_COLUMN} = EXCLUDED.{TSV_COLUMN}")


# translate() compares every character of its input with every character of its list, and
# this list has ~490: folding an article's text whole cost ~3 us a character (~10 ms an
# article, most of the server's work in an import). The same translate over the distinct
# accented letters the text holds (none in most English texts, a dozen in French) gives the
# same result; a text holding many distinct ones (MAX_FOLD_LETTERS) takes the whole list.
MAX_FOLD_LETTERS = 60
_PG_FOLD = f"""CREATE OR REPLACE FUNCTION newsdesk_fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN letters = '' THEN value
                    WHEN length(letters) > {MAX_FOLD_LETTERS} THEN translate(value, '{ACCENTS}', '{ACCENTS_FOLDED}')
                    ELSE translate(value, letters, translate(letters, '{ACCENTS}', '{ACCENTS_FOLDED}')) END
        FROM (SELECT coalesce(string_agg(DISTINCT letter, ''), '') AS letters
              FROM regexp_split_to_table(regexp_replace(value, '[^{ACCENTS}]+', '', 'g'), '') AS letter) AS found
        $$"""

# english first: the other configurations stem ASCII words with it, as the built-in ones do
_PG_LANGUAGES = ", ".join(f"'{c}'" for c in ["english", *sorted(set(PG_CONFIGS.values()) - {"english"})])
# The configurations and the folding function, then the index: inserted articles are indexed
# per statement (one INSERT ... SELECT over the transition table); an update of title, text
# or language per row (rare: re-extraction). Deleted articles leave with their row (ON
# DELETE CASCADE).
_PG_DDL = [
    f"""DO $$ DECLARE language text; BEGIN
        FOREACH language IN ARRAY ARRAY[{_PG_LANGUAGES}] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'newsdesk_' || language || '_stem'
                           AND dictnamespace = current_schema()::regnamespace) THEN
                EXECUTE format('CREATE TEXT SEARCH DICTIONARY %I (TEMPLATE = snowball, LANGUAGE = %s)',
                               'newsdesk_' || language || '_stem', language);
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'newsdesk_' || language
                           AND cfgnamespace = current_schema()::regnamespace) THEN
                EXECUTE format('CREATE TEXT SEARCH CONFIGURATION %I (COPY = pg_catalog.%I)',
                               'newsdesk_' || language, language);
                EXECUTE format('ALTER TEXT SEARCH CONFIGURATION %I ALTER MAPPING REPLACE %I WITH %I',
                               'newsdesk_' || language, language || '_stem', 'newsdesk_' || language || '_stem');
                EXECUTE format('ALTER TEXT SEARCH CONFIGURATION %I ALTER MAPPING REPLACE english_stem '
                               'WITH newsdesk_english_stem', 'newsdesk_' || language);
            END IF;
        END LOOP;
    END $$""",
    _PG_FOLD,
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


def _ensure_pg(engine: Engine, rebuild: bool, refresh: bool = False) -> str:
    with engine.begin() as conn:
        has = set(conn.execute(text(
            "SELECT 'column' FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'articles' AND column_name = :c "
            "UNION ALL SELECT 'table' FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = :t "
            "UNION ALL SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('articles') "
            "AND tgname IN ('article_search_ai', 'article_search_au')"), {"c": TSV_COLUMN, "t": TSV_TABLE}).scalars())
        if has == {"table", "article_search_ai", "article_search_au"} and not rebuild:
            if not refresh:
                return "present"
            for ddl in _PG_DDL:
                conn.execute(text(ddl))
            return "functions replaced"
        did = []
        if "column" in has:  # a generated column of articles until 2026-11: its GIN index goes with it
            conn.execute(text(f"ALTER TABLE articles DROP COLUMN {TSV_COLUMN}"))
            did.append("moved column")
        # Creating the triggers locks articles against writes until this transaction commits,
        # so the backfill below sees every article that will not fire them.
        for ddl in _PG_DDL:
            conn.execute(text(ddl))
        if rebuild and "table" in has:  # every vector anew, then one index build (not row by row)
            conn.execute(text(f"DROP INDEX IF EXISTS {TSV_INDEX}"))
            conn.execute(text(f"TRUNCATE {TSV_TABLE}"))
            did.append("rebuilt")
        conn.execute(text(_pg_upsert_vectors(
            f"SELECT a.id, {pg_tsv_expr('a.')} FROM articles a "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TSV_TABLE} t WHERE t.article_id = a.id)")))
        # After the backfill: one GIN build sorts all its entries at once, instead of inserting
        # them article by article.
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {TSV_INDEX} ON {TSV_TABLE} USING GIN ({TSV_COLUMN})"))
        if not rebuild:
            did.append("table" if "table" not in has else "triggers")
    return did[-1] if did == ["rebuilt"] else "created " + ",".join(did)


_SQLITE_FTS = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
               "title, text, content='articles', content_rowid='id', "
               "tokenize='porter unicode61 remove_diacritics 2')")
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


def _ensure_sqlite(engine: Engine, rebuild: bool) -> str:
    with engine.begin() as conn:
        existing = set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE name = :t OR (type = 'trigger' AND tbl_name = 'articles')"
        ), {"t": FTS_TABLE}).scalars())
        missing = [name for name in [FTS_TABLE, *_SQLITE_TRIGGERS] if name not in existing]
        if not missing and not rebuild:
            return "present"
        if rebuild and FTS_TABLE in existing:
            for name in _SQLITE_TRIGGERS:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            conn.execute(text(f"DROP TABLE IF EXISTS {FTS_TABLE}"))
            missing = ["rebuilt"]
        conn.execute(text(_SQLITE_FTS))
        for ddl in _SQLITE_TRIGGERS.values():
            conn.execute(text(ddl))
        # Anything was missing: the index may be out of step with articles, rebuild it
        # from the content table (also the first backfill).
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
    return "rebuilt" if missing == ["rebuilt"] else "created " + ",".join(missing)


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


def rebuild_search_index(engine: Engine) -> str:
    """Re-index every article (DDL: what ``newsdesk db upgrade`` runs when the definition changed)."""
    return ensure_search_index(engine, rebuild=True)
