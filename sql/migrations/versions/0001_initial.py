"""Initial warehouse schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen from ``newsdesk.storage.schema`` (SQLite and PostgreSQL alike): every later
change to the schema is a new revision, so an existing warehouse is upgraded in place.
Views are not migrations: ``newsdesk db upgrade`` recreates them from ``sql/views``.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.Column('already_present', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_key', sa.String(length=250), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_files')),
    sa.UniqueConstraint('path', name=op.f('uq_archive_files_path'))
    )
    op.create_table('daily_volume',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('source_id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.Column('originals', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('words', sa.BigInteger(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('day', 'source_id', name=op.f('pk_daily_volume'))
    )
    op.create_table('runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_key', sa.String(length=250), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs')),
    sa.UniqueConstraint('run_key', name=op.f('uq_runs_run_key'))
    )
    op.create_table('site_boilerplate',
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('paragraph_hash', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sample', sa.Text(), nullable=True),
    sa.Column('learned_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('domain', 'paragraph_hash', name=op.f('pk_site_boilerplate'))
    )
    op.create_table('site_paragraphs',
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('paragraph_hash', sa.BigInteger(), nullable=False),
    sa.Column('cluster_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'paragraph_hash', 'cluster_id', name=op.f('pk_site_paragraphs'))
    )
    op.create_table('sources',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('homepage', sa.Text(), nullable=True),
    sa.Column('domain', sa.String(length=255), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('in_registry', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_index(op.f('ix_sources_domain'), 'sources', ['domain'], unique=False)
    op.create_table('feeds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('interval_override_s', sa.Integer(), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_new_entry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failure_score', sa.Float(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_feeds_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('url', name=op.f('uq_feeds_url'))
    )
    op.create_index(op.f('ix_feeds_source_id'), 'feeds', ['source_id'], unique=False)
    op.create_table('pages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('seen_url', sa.Text(), nullable=True),
    sa.Column('guid', sa.Text(), nullable=True),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error_kind', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('discovered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('content_type', sa.Text(), nullable=True),
    sa.Column('entry_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_pages_feed_id_feeds')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_pages_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages')),
    sa.UniqueConstraint('url', name=op.f('uq_pages_url'))
    )
    op.create_index(op.f('ix_pages_source_id'), 'pages', ['source_id'], unique=False)
    op.create_index(op.f('ix_pages_state'), 'pages', ['state'], unique=False)
    op.create_index('ix_pages_state_id', 'pages', ['state', 'id'], unique=False)
    op.create_table('poll_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('feed_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_key', sa.String(length=250), nullable=True),
    sa.Column('polled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=True),
    sa.Column('new_entries', sa.Integer(), nullable=True),
    sa.Column('error_kind', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_poll_log_feed_id_feeds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_log'))
    )
    op.create_index(op.f('ix_poll_log_feed_id'), 'poll_log', ['feed_id'], unique=False)
    op.create_table('articles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('page_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('canonical_url', sa.Text(), nullable=True),
    sa.Column('domain', sa.String(length=255), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('clean_text', sa.Text(), nullable=True),
    sa.Column('author', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sitename', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('image', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=True),
    sa.Column('attribution', sa.Text(), nullable=True),
    sa.Column('word_count', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=True),
    sa.Column('clean_sha256', sa.String(length=64), nullable=True),
    sa.Column('extractor', sa.String(length=64), nullable=True),
    sa.Column('extractor_version', sa.String(length=32), nullable=True),
    sa.Column('date_source', sa.String(length=8), nullable=True),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedup_state', sa.String(length=16), nullable=False),
    sa.Column('cluster_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('relation', sa.String(length=16), nullable=True),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_articles_page_id_pages')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_articles_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('page_id', name=op.f('uq_articles_page_id'))
    )
    op.create_index('ix_articles_canonical_url', 'articles', ['canonical_url'], unique=False)
    op.create_index(op.f('ix_articles_clean_sha256'), 'articles', ['clean_sha256'], unique=False)
    op.create_index(op.f('ix_articles_cluster_id'), 'articles', ['cluster_id'], unique=False)
    op.create_index(op.f('ix_articles_dedup_state'), 'articles', ['dedup_state'], unique=False)
    op.create_index('ix_articles_dedup_state_id', 'articles', ['dedup_state', 'id'], unique=False)
    op.create_index(op.f('ix_articles_domain'), 'articles', ['domain'], unique=False)
    op.create_index(op.f('ix_articles_published_at'), 'articles', ['published_at'], unique=False)
    op.create_index(op.f('ix_articles_source_id'), 'articles', ['source_id'], unique=False)
    op.create_index(op.f('ix_articles_text_sha256'), 'articles', ['text_sha256'], unique=False)
    op.create_index('ix_articles_url', 'articles', ['url'], unique=False)
    op.create_table('raw_pages',
    sa.Column('page_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('compression', sa.String(length=8), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('raw_size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['page_id'], ['pages.id'], name=op.f('fk_raw_pages_page_id_pages')),
    sa.PrimaryKeyConstraint('page_id', name=op.f('pk_raw_pages'))
    )
    op.create_table(
        "clusters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("original_article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["original_article_id"], ["articles.id"], name=op.f("fk_clusters_original_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
    )
    op.create_index(op.f('ix_clusters_original_article_id'), 'clusters', ['original_article_id'], unique=False)
    op.create_table(
        "dedup_links",
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("original_article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_dedup_links_article_id_articles")),
        sa.ForeignKeyConstraint(
            ["original_article_id"], ["articles.id"], name=op.f("fk_dedup_links_original_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_dedup_links")),
    )
    op.create_index(op.f('ix_dedup_links_original_article_id'), 'dedup_links', ['original_article_id'], unique=False)
    op.create_table('dedup_signatures',
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=True),
    sa.Column('lexhash', sa.LargeBinary(), nullable=True),
    sa.Column('pub_day', sa.Integer(), nullable=True),
    sa.Column('token_count', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_dedup_signatures_article_id_articles')),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_dedup_signatures'))
    )
    op.create_index(op.f('ix_dedup_signatures_pub_day'), 'dedup_signatures', ['pub_day'], unique=False)
    op.create_table('lsh_buckets',
    sa.Column('scheme', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pub_day', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_lsh_buckets_article_id_articles')),
    sa.PrimaryKeyConstraint('scheme', 'bucket', 'article_id', name=op.f('pk_lsh_buckets'))
    )


def downgrade() -> None:
    op.drop_table('lsh_buckets')
    op.drop_index(op.f('ix_dedup_signatures_pub_day'), table_name='dedup_signatures')
    op.drop_table('dedup_signatures')
    op.drop_index(op.f('ix_dedup_links_original_article_id'), table_name='dedup_links')
    op.drop_table('dedup_links')
    op.drop_index(op.f('ix_clusters_original_article_id'), table_name='clusters')
    op.drop_table('clusters')
    op.drop_table('raw_pages')
    op.drop_index('ix_articles_url', table_name='articles')
    op.drop_index(op.f('ix_articles_text_sha256'), table_name='articles')
    op.drop_index(op.f('ix_articles_source_id'), table_name='articles')
    op.drop_index(op.f('ix_articles_published_at'), table_name='articles')
    op.drop_index(op.f('ix_articles_domain'), table_name='articles')
    op.drop_index('ix_articles_dedup_state_id', table_name='articles')
    op.drop_index(op.f('ix_articles_dedup_state'), table_name='articles')
    op.drop_index(op.f('ix_articles_cluster_id'), table_name='articles')
    op.drop_index(op.f('ix_articles_clean_sha256'), table_name='articles')
    op.drop_index('ix_articles_canonical_url', table_name='articles')
    op.drop_table('articles')
    op.drop_index(op.f('ix_poll_log_feed_id'), table_name='poll_log')
    op.drop_table('poll_log')
    op.drop_index('ix_pages_state_id', table_name='pages')
    op.drop_index(op.f('ix_pages_state'), table_name='pages')
    op.drop_index(op.f('ix_pages_source_id'), table_name='pages')
    op.drop_table('pages')
    op.drop_index(op.f('ix_feeds_source_id'), table_name='feeds')
    op.drop_table('feeds')
    op.drop_index(op.f('ix_sources_domain'), table_name='sources')
    op.drop_table('sources')
    op.drop_table('site_paragraphs')
    op.drop_table('site_boilerplate')
    op.drop_table('runs')
    op.drop_table('daily_volume')
    op.drop_table('archive_files')
