-- Articles per source per UTC day, originals vs copies. The day is the publication
-- day (published_at), or the extraction day when the page gave no date.
-- Articles that dedup has not looked at yet count as originals, as in v_articles.
-- Materialised into the table daily_volume by the news_rollup DAG.
CREATE VIEW v_daily_volume AS
SELECT
    d.day                                                        AS day,
    d.source_id                                                  AS source_id,
    d.source                                                     AS source,
    COUNT(*)                                                     AS articles,
    SUM(CASE WHEN d.relation = 'original' THEN 1 ELSE 0 END)     AS originals,
    SUM(CASE WHEN d.relation <> 'original' THEN 1 ELSE 0 END)    AS copies,
    SUM(CASE WHEN d.relation = 'exact' THEN 1 ELSE 0 END)        AS exact_copies,
    SUM(CASE WHEN d.relation = 'near' THEN 1 ELSE 0 END)         AS near_copies,
    SUM(CASE WHEN d.relation = 'paraphrase' THEN 1 ELSE 0 END)   AS paraphrases,
    SUM(COALESCE(d.word_count, 0))                               AS words
FROM (
    SELECT
        /*pg: CAST(COALESCE(a.published_at, a.extracted_at) AT TIME ZONE 'UTC' AS DATE) */
        /*sqlite: DATE(COALESCE(a.published_at, a.extracted_at)) */ AS day,
        COALESCE(a.source_id, 0)               AS source_id,
        COALESCE(s.name, '(no source)')        AS source,
        COALESCE(a.relation, 'original')       AS relation,
        a.word_count                           AS word_count
    FROM articles a
    LEFT JOIN sources s ON s.id = a.source_id
    WHERE COALESCE(a.published_at, a.extracted_at) IS NOT NULL
) d
GROUP BY d.day, d.source_id, d.source;
