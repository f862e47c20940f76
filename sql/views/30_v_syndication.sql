-- Who republishes whom: one row per (republisher domain, source domain) with copy counts by relation.
CREATE VIEW v_syndication AS
SELECT
    a.domain AS republisher_domain,
    o.domain AS source_domain,
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
GROUP BY a.domain, o.domain;
