-- The query path's role: it may read the two data tables and nothing else, and the
-- query path logs in as this role itself (src/db.c says why never SET ROLE).
-- Roles are cluster-wide; without CREATEROLE this script fails and `vabot db init`
-- warns: questions then cannot be answered.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vabot_reader') THEN
        CREATE ROLE vabot_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END
$$;

-- Its password, for servers that want one (scram-sha-256 over TCP, as in
-- docker-compose.yml; a trusted local socket ignores it). Made once per database from
-- the server's strong random source, kept where only the owner reads it, and set again
-- on every init. The DO block's text holds no password, so statement logging never
-- shows one. One cluster shares one vabot_reader: two vabot databases in one
-- password-checking cluster need the same row in both.
CREATE TABLE IF NOT EXISTS reader_login (password text NOT NULL);
REVOKE ALL ON reader_login FROM PUBLIC;
DO $$
DECLARE
    pw text;
BEGIN
    SELECT password INTO pw FROM reader_login LIMIT 1;
    IF pw IS NULL THEN
        pw := replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');
        INSERT INTO reader_login VALUES (pw);
    END IF;
    EXECUTE format('ALTER ROLE vabot_reader PASSWORD %L', pw);
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vabot_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM vabot_reader;
GRANT USAGE ON SCHEMA public TO vabot_reader;
GRANT SELECT ON videos, video_snapshots TO vabot_reader;
-- The loader's rollups of video_snapshots (sql/schema.sql) are the same data.
GRANT SELECT ON rollup_hours, rollup_ages, rollup_video_days, rollup_state TO vabot_reader;
