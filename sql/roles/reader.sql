-- newsdesk_reader: the analysts' read-only role on a PostgreSQL warehouse.
--
-- SELECT on every table and view of the warehouse's schema, and the same on every table and
-- view created later by the role that runs this (default privileges): run it as the role that
-- runs `newsdesk db upgrade`, so that views it replaces and tables later migrations add stay
-- readable. Nothing else: no INSERT, UPDATE, DELETE or DDL.
--
--   newsdesk db upgrade --grant-reader newsdesk_reader       # what the CLI runs
--   psql -d WAREHOUSE -v ON_ERROR_STOP=1 -f sql/roles/reader.sql
--   GRANT newsdesk_reader TO alice;                          -- each analyst's login role
--
-- The role is created (NOLOGIN) if it does not exist. Another role name:
-- `newsdesk db upgrade --grant-reader NAME`, or in psql `SET newsdesk.reader = 'NAME';` first.
DO $$
DECLARE
    reader text := coalesce(nullif(current_setting('newsdesk.reader', true), ''), 'newsdesk_reader');
    warehouse_schema text := current_schema();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), reader);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', warehouse_schema, reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', warehouse_schema, reader);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', warehouse_schema, reader);
END
$$;
