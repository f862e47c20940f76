-- Extraction health per source per UTC fetch day (pages.fetched_at; archive imports count on
-- their capture day, WARC-Date), with a flag for sudden changes such as a site redesign.
--   pages            pages fetched that day (any state)
--   extracted        of those, pages that gave an article (state 'extracted')
--   failed           pages whose extraction failed: state 'failed' and error_kind no_text |
--                    extract_crash | decode | not_html | blocked (a bot challenge or firewall page
--                    served instead of the article) | extract_timeout (HTTP failures are v_feed_health's business)
--   failure_rate     failed / (extracted + failed); NULL when neither
--   median_words     median word_count of the day's articles (window functions: SQLite and PostgreSQL)
--   date_found_rate  share of the day's articles whose date came from the page itself
--                    (date_source 'page'); articles stored before date_source existed and that have
--                    a date are left out of the share (NULL when none is known)
--   baseline_*       the source's trailing 7 days before this day (days with pages only)
--   flag             failure_spike: at least 3 pages attempted and failure_rate above
--                      max(0.5, 3 x baseline failure rate);
--                    words_drop: at least 3 articles and median_words below 40% of the baseline
--                      (mean of the daily medians);
--                    both as 'failure_spike+words_drop'; NULL when healthy or without a baseline
--                    (fewer than 5 attempted pages in the trailing 7 days).
-- newsdesk.health.check_source_health logs the flagged rows of the last days after each round.
CREATE VIEW v_source_health AS
WITH page_rows AS (
    SELECT
        COALESCE(p.source_id, 0) AS source_id,
        /*pg: CAST(p.fetched_at AT TIME ZONE 'UTC' AS DATE) *//*sqlite: DATE(p.fetched_at) */ AS day,
        p.state          AS state,
        p.error_kind     AS error_kind,
        a.id             AS article_id,
        a.word_count     AS word_count,
        a.date_source    AS date_source,
        a.published_at   AS published_at
    FROM pages p
    LEFT JOIN articles a ON a.page_id = p.id
    WHERE p.fetched_at IS NOT NULL
),
daily AS (
    SELECT
        source_id,
        day,
        COUNT(*) AS pages,
        SUM(CASE WHEN state = 'extracted' THEN 1 ELSE 0 END) AS extracted,
        SUM(CASE WHEN state = 'failed'
                      AND error_kind IN ('no_text', 'extract_crash', 'decode', 'not_html', 'blocked', 'extract_timeout')
                 THEN 1 ELSE 0 END) AS failed,
        SUM(CASE WHEN article_id IS NOT NULL THEN 1 ELSE 0 END) AS articles,
        SUM(CASE WHEN article_id IS NOT NULL AND date_source = 'page' THEN 1 ELSE 0 END) AS dates_from_page,
        SUM(CASE WHEN article_id IS NOT NULL AND (date_source IS NOT NULL OR published_at IS NULL)
                 THEN 1 ELSE 0 END) AS dates_known
    FROM page_rows
    GROUP BY source_id, day
),
ranked_words AS (
    SELECT
        source_id,
        day,
        word_count,
        ROW_NUMBER() OVER (PARTITION BY source_id, day ORDER BY word_count) AS rn,
        COUNT(*) OVER (PARTITION BY source_id, day) AS n
    FROM page_rows
    WHERE article_id IS NOT NULL AND word_count IS NOT NULL
),
medians AS (
    SELECT source_id, day, CAST(AVG(word_count) AS FLOAT) AS median_words
    FROM ranked_words
    WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY source_id, day
),
days AS (
    SELECT
        d.source_id, d.day, d.pages, d.extracted, d.failed, d.articles,
        CASE WHEN d.extracted + d.failed > 0
             THEN CAST(d.failed AS FLOAT) / (d.extracted + d.failed) END AS failure_rate,
        m.median_words AS median_words,
        CASE WHEN d.dates_known > 0
             THEN CAST(d.dates_from_page AS FLOAT) / d.dates_known END AS date_found_rate
    FROM daily d
    LEFT JOIN medians m ON m.source_id = d.source_id AND m.day = d.day
),
baseline AS (
    SELECT
        cur.source_id AS source_id,
        cur.day AS day,
        COUNT(*) AS baseline_days,
        SUM(b.failed) AS b_failed,
        SUM(b.extracted + b.failed) AS b_attempted,
        AVG(b.median_words) AS baseline_median_words
    FROM days cur
    JOIN days b ON b.source_id = cur.source_id AND b.day < cur.day
               AND b.day >= /*pg: cur.day - 7 *//*sqlite: DATE(cur.day, '-7 days') */
    GROUP BY cur.source_id, cur.day
),
scored AS (
    SELECT
        d.*,
        COALESCE(bl.baseline_days, 0) AS baseline_days,
        CASE WHEN bl.b_attempted > 0 THEN CAST(bl.b_failed AS FLOAT) / bl.b_attempted END AS baseline_failure_rate,
        bl.baseline_median_words AS baseline_median_words,
        CASE WHEN COALESCE(bl.b_attempted, 0) >= 5 AND d.extracted + d.failed >= 3
                  AND d.failure_rate > CASE WHEN 3.0 * bl.b_failed / bl.b_attempted > 0.5
                                            THEN 3.0 * bl.b_failed / bl.b_attempted ELSE 0.5 END
             THEN 1 ELSE 0 END AS failure_spike,
        CASE WHEN COALESCE(bl.b_attempted, 0) >= 5 AND d.articles >= 3
                  AND d.median_words IS NOT NULL AND bl.baseline_median_words IS NOT NULL
                  AND d.median_words < 0.4 * bl.baseline_median_words
             THEN 1 ELSE 0 END AS words_drop
    FROM days d
    LEFT JOIN baseline bl ON bl.source_id = d.source_id AND bl.day = d.day
)
SELECT
    COALESCE(s.name, '(no source)')  AS source,
    sc.source_id                     AS source_id,
    sc.day                           AS day,
    sc.pages                         AS pages,
    sc.extracted                     AS extracted,
    sc.failed                        AS failed,
    sc.failure_rate                  AS failure_rate,
    sc.median_words                  AS median_words,
    sc.date_found_rate               AS date_found_rate,
    sc.baseline_days                 AS baseline_days,
    sc.baseline_failure_rate         AS baseline_failure_rate,
    sc.baseline_median_words         AS baseline_median_words,
    CASE WHEN sc.failure_spike = 1 AND sc.words_drop = 1 THEN 'failure_spike+words_drop'
         WHEN sc.failure_spike = 1 THEN 'failure_spike'
         WHEN sc.words_drop = 1 THEN 'words_drop' END AS flag
FROM scored sc
LEFT JOIN sources s ON s.id = sc.source_id;
