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
-- the server's strong random source and kept where only the owner reads it. `vabot db
-- init` then sets it with ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...': the verifier is
-- computed by libpq on the client (PQencryptPasswordConn), so no statement text, neither
-- one logged by log_statement nor the context of an error, ever holds the password.
-- One cluster shares one vabot_reader: two vabot databases in one password-checking
-- cluster need the same row in both.
CREATE TABLE IF NOT EXISTS reader_login (password text NOT NULL);
REVOKE ALL ON reader_login FROM PUBLIC;
INSERT INTO reader_login
    SELECT replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')
    WHERE NOT EXISTS (SELECT 1 FROM reader_login);

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vabot_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM vabot_reader;
GRANT USAGE ON SCHEMA public TO vabot_reader;
GRANT SELECT ON videos, video_snapshots TO vabot_reader;
-- The loader's rollups of video_snapshots (sql/schema.sql) are the same data.
GRANT SELECT ON rollup_hours, rollup_ages, rollup_video_days, rollup_state TO vabot_reader;
