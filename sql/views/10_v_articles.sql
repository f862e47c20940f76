-- One row per stored article. Stable contract: columns are only ever added.
CREATE VIEW v_articles AS
SELECT
    a.id              AS article_id,
    a.url             AS url,
    a.canonical_url   AS canonical_url,
    a.domain          AS domain,
    a.title           AS title,
    a.text            AS text,
    a.published_at    AS published_at,
    a.language        AS language,
    a.cluster_id      AS cluster_id,
    COALESCE(o.url, a.url) AS original_url,
    COALESCE(a.relation, 'original') AS relation,
    COALESCE(a.similarity, 1.0)      AS similarity,
    s.name            AS source,
    a.author          AS author,
    a.sitename        AS sitename,
    a.attribution     AS attribution,
    a.word_count      AS word_count,
    a.extracted_at    AS extracted_at,
    p.origin          AS origin,
    -- text as dedup compared it: repeated headline, "Read more" lines, attribution
    -- lines and the site's learned boilerplate removed (NULL until dedup has run)
    a.clean_text      AS clean_text,
    -- when the page was fetched; for an archive import, its capture (WARC-Date)
    p.fetched_at      AS fetched_at,
    -- the page declares its content not free (the text may be a teaser); NULL: not declared
    a.paywalled       AS paywalled,
    -- registrable domain of domain (public suffix list): edition.cnn.com -> cnn.com
    a.publisher       AS publisher
FROM articles a
LEFT JOIN clusters c ON c.id = a.cluster_id
LEFT JOIN articles o ON o.id = c.original_article_id
LEFT JOIN sources s ON s.id = a.source_id
LEFT JOIN pages p ON p.id = a.page_id;
