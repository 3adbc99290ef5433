-- The query path's role: it may read the two data tables and nothing else.
-- Roles are cluster-wide; without CREATEROLE this script fails and `vabot db init`
-- warns and carries on (the reader then falls back to read-only transactions).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vabot_reader') THEN
        CREATE ROLE vabot_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END
$$;
-- Lets the owner switch to the reader where the reader cannot log in itself.
GRANT vabot_reader TO CURRENT_USER;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vabot_reader;
GRANT USAGE ON SCHEMA public TO vabot_reader;
GRANT SELECT ON videos, video_snapshots TO vabot_reader;
-- The loader's rollups of video_snapshots (sql/schema.sql) are the same data.
GRANT SELECT ON rollup_hours, rollup_ages, rollup_video_days TO vabot_reader;
