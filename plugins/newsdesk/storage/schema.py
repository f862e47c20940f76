"""Warehouse tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

The tables double as the work queue between pipeline stages: a stage reads ids
in one state and moves them to the next, so any task can be re-run safely.
Migrations in ``sql/migrations`` create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


sources = Table(
    "sources",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("homepage", Text),
    Column("domain", String(255), index=True),
    Column("language", String(16)),
    Column("in_registry", Boolean, nullable=False, default=False),
    _ts("created_at"),
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", Id, ForeignKey("sources.id"), nullable=False, index=True),
    Column("url", Text, nullable=False, unique=True),
    Column("kind", String(32), nullable=False, default="feed"),
    Column("active", Boolean, nullable=False, default=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_sha256", String(64)),
    Column("interval_override_s", Integer),
    _ts("next_poll_at"),
    _ts("last_polled_at"),
    _ts("last_success_at"),
    _ts("last_new_entry_at"),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("failure_score", Float, nullable=False, default=0.0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("disabled_reason", Text),
    _ts("created_at"),
)

poll_log = Table(
    "poll_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("feed_id", Id, ForeignKey("feeds.id"), nullable=False, index=True),
    Column("run_key", String(250)),
    _ts("polled_at", nullable=False),
    Column("outcome", String(32), nullable=False),  # ok | not_modified | unchanged | error
    Column("status_code", Integer),
    Column("bytes", Integer),
    Column("latency_ms", Integer),
    Column("entries", Integer),
    Column("new_entries", Integer),
    Column("error_kind", String(32)),
    Column("error", Text),
)

pages = Table(
    "pages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Canonicalised URL (tracking parameters and fragment removed): one row per document.
    Column("url", Text, nullable=False, unique=True),
    Column("seen_url", Text),
    Column("guid", Text),
    Column("source_id", Id, ForeignKey("sources.id"), index=True),
    Column("feed_id", Id, ForeignKey("feeds.id")),
    Column("origin", String(16), nullable=False),  # feed | warc | sitemap
    # pending | fetched | extracted | failed; indexed with id (ix_pages_state_id below)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_kind", String(32)),
    Column("last_error", Text),
    _ts("discovered_at"),
    _ts("fetched_at"),
    Column("http_status", Integer),
    Column("final_url", Text),
    Column("content_type", Text),
    Column("entry_published_at", DateTime(timezone=True)),
)

raw_pages = Table(
    "raw_pages",
    metadata,
    Column("page_id", Id, ForeignKey("pages.id"), primary_key=True),
    Column("compression", String(8), nullable=False),  # zlib
    Column("body", LargeBinary, nullable=False),
    Column("raw_size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("headers", JSON),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("page_id", Id, ForeignKey("pages.id"), nullable=False, unique=True),
    Column("source_id", Id, ForeignKey("sources.id"), index=True),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text),
    Column("domain", String(255), index=True),
    # Registrable domain of ``domain`` (public suffix list): edition.cnn.com and cnn.com are
    # one publisher (urls.publisher_of; migration 0011).
    Column("publisher", String(255)),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("clean_text", Text),
    Column("author", Text),
    Column("published_at", DateTime(timezone=True), index=True),
    Column("sitename", Text),
    Column("language", String(16)),
    Column("description", Text),
    Column("image", Text),
    Column("tags", JSON),
    Column("attribution", Text),
    Column("word_count", Integer),
    Column("text_sha256", String(64), index=True),
    Column("clean_sha256", String(64), index=True),
    Column("extractor", String(64)),
    # EXTRACTOR_VERSION that produced text and metadata: re-extraction picks up older ones.
    Column("extractor_version", String(32)),
    # Where published_at came from: 'page' (page metadata), 'feed' (the feed entry's date), NULL (none/unknown).
    Column("date_source", String(8)),
    # The page declares its content not free (True) or free (False); NULL: not declared (migration 0007).
    Column("paywalled", Boolean),
    _ts("extracted_at"),
    # Dedup outcome, denormalised for v_articles; dedup_links keeps the provenance.
    # Indexed with id (ix_articles_dedup_state_id below), which serves every lookup by state.
    Column("dedup_state", String(16), nullable=False, default="pending"),
    Column("cluster_id", Id, index=True),
    Column("relation", String(16)),
    Column("similarity", Float),
    # The dedup batch that last changed the row's dedup columns (see dedup_epoch; migration 0005).
    Column("dedup_epoch", BigInteger, index=True),
)

clusters = Table(
    "clusters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("original_article_id", Id, ForeignKey("articles.id"), nullable=False, index=True),
    # Why that member leads (dedup.original.REASONS, or only_member) at the cluster's last
    # decision; NULL for clusters last decided before migration 0009.
    Column("original_reason", String(16)),
    _ts("created_at"),
    _ts("updated_at"),
)

dedup_links = Table(
    "dedup_links",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id"), primary_key=True),
    Column("original_article_id", Id, ForeignKey("articles.id"), nullable=False, index=True),
    Column("relation", String(16), nullable=False),
    Column("similarity", Float, nullable=False),
    Column("method", String(64), nullable=False),
    Column("evidence", JSON),
    _ts("decided_at"),
)

# One row: the epoch of the last committed dedup batch. A worker that searched candidates
# before taking the decision lock reads the articles of later epochs to catch up.
dedup_epoch = Table(
    "dedup_epoch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
)

# A cluster merged into another (a new article matched both) is deleted; this says where it
# went, so that rows naming it (boilerplate observations) can still be followed.
cluster_merges = Table(
    "cluster_merges",
    metadata,
    Column("cluster_id", BigInteger, primary_key=True, autoincrement=False),
    Column("merged_into", BigInteger, nullable=False),
    _ts("merged_at", nullable=False),
)

dedup_signatures = Table(
    "dedup_signatures",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id"), primary_key=True),
    Column("minhash", LargeBinary),  # word-shingle MinHash (uint32 little-endian)
    Column("lexhash", LargeBinary),  # content-word MinHash (uint32 little-endian), route for reworded copies
    Column("pub_day", Integer),  # windows are read from lsh_buckets' key: no index here
    Column("token_count", Integer),
    # CRC-32s of the text's numbers and names (uint32 little-endian, sorted; migration 0004):
    # enough to rule out a paraphrase without the text. NULL: not recorded (older rows).
    Column("numbers", LargeBinary),
    Column("names", LargeBinary),
)

# LSH buckets in the warehouse: candidates survive restarts and are shared by every worker.
# The key is also the lookup path: (scheme, bucket, pub_day range) reads only the bucket's
# entries inside the time window, from the index alone (migration 0003).
lsh_buckets = Table(
    "lsh_buckets",
    metadata,
    Column("scheme", Integer, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("article_id", Id, ForeignKey("articles.id"), nullable=False),
    Column("pub_day", Integer, nullable=False),
    PrimaryKeyConstraint("scheme", "bucket", "pub_day", "article_id", name="pk_lsh_buckets"),
)

# Site boilerplate, learned from repetition: a paragraph observed (first/last paragraphs only)
# in >= N distinct articles of one domain. Observations stop once a paragraph is learned,
# so the table stays bounded by (unique edge paragraphs + N per boilerplate paragraph).
site_paragraphs = Table(
    "site_paragraphs",
    metadata,
    Column("domain", String(255), nullable=False, primary_key=True),
    Column("paragraph_hash", BigInteger, nullable=False, primary_key=True),
    # The observing article's cluster: copies of one story count once, so an article's
    # own text (or its republications on the same site) never becomes boilerplate.
    Column("cluster_id", BigInteger, nullable=False, primary_key=True),
)

site_boilerplate = Table(
    "site_boilerplate",
    metadata,
    Column("domain", String(255), nullable=False, primary_key=True),
    Column("paragraph_hash", BigInteger, nullable=False, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("sample", Text),
    _ts("learned_at"),
)

# Progress of archive imports (WARC files), one row per file: a killed import resumes
# at next_offset (a record boundary; for .warc.gz a gzip member start), a finished file
# (status "done") is skipped unless reprocessing is asked for.
archive_files = Table(
    "archive_files",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False, unique=True),  # local path or fsspec URL, as given
    Column("size", BigInteger),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("next_offset", BigInteger, nullable=False, default=0),
    Column("records", Integer, nullable=False, default=0),
    Column("pages", Integer, nullable=False, default=0),
    Column("articles", Integer, nullable=False, default=0),
    Column("already_present", Integer, nullable=False, default=0),
    Column("skipped", JSON),  # reason -> count
    Column("errors", JSON),  # list of messages (damaged members, ...)
    Column("seconds", Float),  # processing time summed over attempts
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_key", String(250)),
    _ts("started_at"),
    _ts("updated_at"),
    _ts("finished_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_key", String(250), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    _ts("started_at"),
    _ts("finished_at"),
    Column("status", String(16)),
    Column("stats", JSON),
)

# Politeness shared by every worker and run (newsdesk.fetch.stores; Redis holds the same when
# NEWSDESK_REDIS_URL is set). robots.txt per origin: the body as fetched, or what its absence
# means; a row past ``expires_at`` is still the copy to fall back on while the site errs.
robots_txt = Table(
    "robots_txt",
    metadata,
    Column("origin", String(300), primary_key=True),  # scheme://host[:port]
    Column("status", String(16), nullable=False),  # ok | missing | unreachable
    Column("http_status", Integer),
    Column("body", Text),
    _ts("fetched_at", nullable=False),
    _ts("expires_at", nullable=False),
)

# Per host: when the next request may start and the Crawl-delay in force (epoch seconds on the
# warehouse's clock), and the leases of requests in flight; a lease past ``expires_at`` (its
# worker died) no longer holds a slot.
host_pacing = Table(
    "host_pacing",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("next_start", Float, nullable=False),
    Column("crawl_delay", Float),
    Column("crawl_delay_until", Float),
)

host_leases = Table(
    "host_leases",
    metadata,
    Column("lease_id", String(32), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("expires_at", Float, nullable=False),
)

Index("ix_pages_state_id", pages.c.state, pages.c.id)
# A feed's GUID identifies its entry even when the entry's link changes.
Index("ix_pages_feed_id_guid", pages.c.feed_id, pages.c.guid)
Index("ix_articles_dedup_state_id", articles.c.dedup_state, articles.c.id)
# Dedup's canonical-url route looks articles up by url and by canonical_url.
Index("ix_articles_url", articles.c.url)
Index("ix_articles_canonical_url", articles.c.canonical_url)
Index("ix_host_leases_host_expires_at", host_leases.c.host, host_leases.c.expires_at)

# Analytics rollup (newsdesk.analytics.rollup): v_daily_volume materialised after each
# load by the news_rollup DAG, so reports over long periods stay fast.
daily_volume = Table(
    "daily_volume",
    metadata,
    Column("day", Date, nullable=False, primary_key=True),
    Column("source_id", BigInteger, nullable=False, primary_key=True),  # 0: articles without a source
    Column("source", String(200)),
    Column("articles", Integer, nullable=False),
    Column("originals", Integer, nullable=False),
    Column("copies", Integer, nullable=False),
    Column("words", BigInteger),
    _ts("refreshed_at"),
)

# What ``newsdesk db upgrade`` last applied outside migrations: one row per view
# (``view:v_articles``) and one for the search index, with the SHA-256 of the definition
# applied. A view is replaced only when its definition changed (migration 0011).
applied_definitions = Table(
    "applied_definitions",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("sha256", String(64), nullable=False),
    _ts("applied_at"),
)
