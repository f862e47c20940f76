"""The analysts' side of the warehouse: full-text search, exports, the HTML report
and the rollup tables behind it. Everything here reads the ``sql/views`` contract
(``v_articles`` and friends) or plain tables, on SQLite and PostgreSQL alike."""
