-- Who republishes whom: one row per (republishing publisher, original's publisher) with copy
-- counts by relation. Publishers are registrable domains (articles.publisher): the copies on
-- edition.cnn.com and on cnn.com count for one republisher, cnn.com.
CREATE VIEW v_syndication AS
SELECT
    a.publisher AS republisher,
    o.publisher AS original_publisher,
    COUNT(*) AS copies,
    SUM(CASE WHEN a.relation = 'exact' THEN 1 ELSE 0 END)      AS exact,
    SUM(CASE WHEN a.relation = 'near' THEN 1 ELSE 0 END)       AS near,
    SUM(CASE WHEN a.relation = 'paraphrase' THEN 1 ELSE 0 END) AS paraphrase,
    MIN(COALESCE(a.published_at, a.extracted_at)) AS first_copy,
    MAX(COALESCE(a.published_at, a.extracted_at)) AS last_copy
FROM articles a
JOIN clusters c ON c.id = a.cluster_id
JOIN articles o ON o.id = c.original_article_id
WHERE a.id <> o.id
GROUP BY a.publisher, o.publisher;
