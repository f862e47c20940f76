-- One row per feed: its last poll, failures, activity over the last 24 hours and
-- 7 days (relative to the database clock), and whether it is disabled.
-- health: disabled | never_polled | failing | stale (no new entry in 7 days) | ok
CREATE VIEW v_feed_health AS
WITH ranked AS (
    SELECT
        pl.feed_id, pl.polled_at, pl.outcome, pl.status_code, pl.error_kind, pl.error,
        ROW_NUMBER() OVER (PARTITION BY pl.feed_id ORDER BY pl.polled_at DESC, pl.id DESC) AS rn
    FROM poll_log pl
),
last_poll AS (
    SELECT feed_id, polled_at, outcome, status_code, error_kind, error FROM ranked WHERE rn = 1
),
stats AS (
    SELECT
        pl.feed_id AS feed_id,
        COUNT(*) AS polls_total,
        SUM(CASE WHEN pl.outcome = 'error' THEN 1 ELSE 0 END) AS failures_total,
        SUM(CASE WHEN pl.polled_at >= /*pg: now() - INTERVAL '24 hours' *//*sqlite: datetime('now', '-24 hours') */
                 THEN 1 ELSE 0 END) AS polls_24h,
        SUM(CASE WHEN pl.polled_at >= /*pg: now() - INTERVAL '24 hours' *//*sqlite: datetime('now', '-24 hours') */
                  AND pl.outcome = 'error' THEN 1 ELSE 0 END) AS failures_24h,
        SUM(CASE WHEN pl.polled_at >= /*pg: now() - INTERVAL '7 days' *//*sqlite: datetime('now', '-7 days') */
                 THEN COALESCE(pl.new_entries, 0) ELSE 0 END) AS new_entries_7d
    FROM poll_log pl
    GROUP BY pl.feed_id
)
SELECT
    f.id                                              AS feed_id,
    s.name                                            AS source,
    f.url                                             AS url,
    f.kind                                            AS kind,
    COALESCE(lp.polled_at, f.last_polled_at)          AS last_polled_at,
    lp.outcome                                        AS last_outcome,
    COALESCE(lp.status_code, f.last_status)           AS last_status,
    CASE WHEN lp.outcome IS NULL THEN f.last_error
         WHEN lp.outcome = 'error' THEN COALESCE(lp.error, f.last_error) END AS last_error,
    lp.error_kind                                     AS last_error_kind,
    f.last_success_at                                 AS last_success_at,
    f.last_new_entry_at                               AS last_new_entry_at,
    f.next_poll_at                                    AS next_poll_at,
    f.consecutive_failures                            AS consecutive_failures,
    f.failure_score                                   AS failure_score,
    COALESCE(st.polls_total, 0)                       AS polls_total,
    COALESCE(st.failures_total, 0)                    AS failures_total,
    COALESCE(st.polls_24h, 0)                         AS polls_24h,
    COALESCE(st.failures_24h, 0)                      AS failures_24h,
    CASE WHEN COALESCE(st.polls_24h, 0) = 0 THEN NULL
         ELSE CAST(st.failures_24h AS FLOAT) / st.polls_24h END AS error_rate_24h,
    COALESCE(st.new_entries_7d, 0)                    AS new_entries_7d,
    CASE WHEN NOT f.active OR f.disabled_reason IS NOT NULL THEN 1 ELSE 0 END AS disabled,
    f.disabled_reason                                 AS disabled_reason,
    CASE WHEN NOT f.active OR f.disabled_reason IS NOT NULL THEN 'disabled'
         WHEN lp.outcome IS NULL AND f.last_polled_at IS NULL THEN 'never_polled'
         WHEN lp.outcome = 'error' OR f.consecutive_failures > 0 THEN 'failing'
         WHEN COALESCE(st.new_entries_7d, 0) = 0 THEN 'stale'
         ELSE 'ok' END                                AS health
FROM feeds f
LEFT JOIN sources s ON s.id = f.source_id
LEFT JOIN last_poll lp ON lp.feed_id = f.id
LEFT JOIN stats st ON st.feed_id = f.id;
