-- One row per syndication cluster: its original and where its copies appeared.
CREATE VIEW v_clusters AS
SELECT
    c.id                  AS cluster_id,
    c.original_article_id AS original_article_id,
    o.url                 AS original_url,
    o.title               AS original_title,
    o.domain              AS original_domain,
    COUNT(a.id)           AS size,
    /*pg:string_agg(DISTINCT a.domain, ',' ORDER BY a.domain)*//*sqlite:(SELECT group_concat(d, ',') FROM (SELECT DISTINCT a2.domain AS d FROM articles a2 WHERE a2.cluster_id = c.id AND a2.domain IS NOT NULL ORDER BY a2.domain))*/ AS domains,
    MIN(COALESCE(a.published_at, a.extracted_at)) AS first_seen,
    MAX(COALESCE(a.published_at, a.extracted_at)) AS last_seen,
    c.original_reason     AS original_reason
FROM clusters c
JOIN articles o ON o.id = c.original_article_id
JOIN articles a ON a.cluster_id = c.id
GROUP BY c.id, c.original_article_id, o.url, o.title, o.domain, c.original_reason;
