-- vabot schema. Idempotent: `vabot db init` runs it on every start of `make run`.
-- Ids are text in the "C" collation: byte order makes comparisons cheap and lets a
-- creator-id prefix be matched as a plain range on the btree index.
-- Every time is timestamptz (stored as UTC); counts are bigint.

CREATE TABLE IF NOT EXISTS videos (
    id               text COLLATE "C" PRIMARY KEY,
    creator_id       text COLLATE "C" NOT NULL,
    video_created_at timestamptz NOT NULL,
    views_count      bigint NOT NULL,
    likes_count      bigint NOT NULL,
    comments_count   bigint NOT NULL,
    reports_count    bigint NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS video_snapshots (
    id                   text COLLATE "C" PRIMARY KEY,
    video_id             text COLLATE "C" NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    views_count          bigint NOT NULL,
    likes_count          bigint NOT NULL,
    comments_count       bigint NOT NULL,
    reports_count        bigint NOT NULL,
    delta_views_count    bigint NOT NULL,
    delta_likes_count    bigint NOT NULL,
    delta_comments_count bigint NOT NULL,
    delta_reports_count  bigint NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

-- Publication-time questions, with or without a creator.
CREATE INDEX IF NOT EXISTS videos_creator_published ON videos (creator_id, video_created_at);
-- The final counts ride along: sums over a publication range are index-only scans.
CREATE INDEX IF NOT EXISTS videos_published_counts ON videos (video_created_at)
    INCLUDE (views_count, likes_count, comments_count, reports_count);
DROP INDEX IF EXISTS videos_published; -- the same index without the counts
-- Growth of one creator's or one video's videos in a time range.
CREATE INDEX IF NOT EXISTS snapshots_video_time ON video_snapshots (video_id, created_at);
-- Growth of all videos in a time range: an index-only scan over the deltas.
CREATE INDEX IF NOT EXISTS snapshots_time ON video_snapshots (created_at)
    INCLUDE (video_id, delta_views_count, delta_likes_count, delta_comments_count,
             delta_reports_count);

-- ==== performance: indexes and rollups (measured in bench/results.md) ====
-- Thresholds, MIN and MAX on final counts: one btree per count. The creator rides
-- along, so "how many creators have a video above N" is an index-only scan.
CREATE INDEX IF NOT EXISTS videos_views ON videos (views_count) INCLUDE (creator_id);
CREATE INDEX IF NOT EXISTS videos_likes ON videos (likes_count) INCLUDE (creator_id);
CREATE INDEX IF NOT EXISTS videos_comments ON videos (comments_count) INCLUDE (creator_id);
CREATE INDEX IF NOT EXISTS videos_reports ON videos (reports_count) INCLUDE (creator_id);
-- Snapshots where a count went down are rare: a partial index lists them, so a question
-- about negative growth (delta < 0 or below) never scans the whole table.
CREATE INDEX IF NOT EXISTS snapshots_negative ON video_snapshots (created_at)
    INCLUDE (video_id, delta_views_count, delta_likes_count, delta_comments_count,
             delta_reports_count)
    WHERE delta_views_count < 0 OR delta_likes_count < 0 OR delta_comments_count < 0
       OR delta_reports_count < 0;

-- Rollups of video_snapshots. Only vabot_refresh_rollups() writes them, and `vabot db
-- load` calls it in the transaction that replaces the data, so they always describe
-- the committed rows. src/sqlgen.c reads one only where the number is provably the
-- one the raw rows give (its comments say why, case by case).
-- Per UTC hour of measurement: how many snapshots, and the sums of their deltas.
CREATE TABLE IF NOT EXISTS rollup_hours (
    hour                 timestamptz PRIMARY KEY,
    snapshots            bigint NOT NULL,
    delta_views_count    numeric NOT NULL,
    delta_likes_count    numeric NOT NULL,
    delta_comments_count numeric NOT NULL,
    delta_reports_count  numeric NOT NULL
);
-- Per whole hour of age (measurement minus publication, rounded down; negative before
-- publication): the same sums.
CREATE TABLE IF NOT EXISTS rollup_ages (
    age_hour             bigint PRIMARY KEY,
    snapshots            bigint NOT NULL,
    delta_views_count    numeric NOT NULL,
    delta_likes_count    numeric NOT NULL,
    delta_comments_count numeric NOT NULL,
    delta_reports_count  numeric NOT NULL
);
-- Per UTC day and video measured that day: the largest and smallest delta of each
-- count. "Some snapshot that day had delta > N" holds exactly when the largest did.
CREATE TABLE IF NOT EXISTS rollup_video_days (
    day                      date NOT NULL,
    video_id                 text COLLATE "C" NOT NULL,
    max_delta_views_count    bigint NOT NULL,
    min_delta_views_count    bigint NOT NULL,
    max_delta_likes_count    bigint NOT NULL,
    min_delta_likes_count    bigint NOT NULL,
    max_delta_comments_count bigint NOT NULL,
    min_delta_comments_count bigint NOT NULL,
    max_delta_reports_count  bigint NOT NULL,
    min_delta_reports_count  bigint NOT NULL,
    PRIMARY KEY (day, video_id)
);
-- "How many videos grew on day D": an index-only range scan per count.
CREATE INDEX IF NOT EXISTS rollup_video_days_views
    ON rollup_video_days (day, max_delta_views_count) INCLUDE (video_id);
CREATE INDEX IF NOT EXISTS rollup_video_days_likes
    ON rollup_video_days (day, max_delta_likes_count) INCLUDE (video_id);
CREATE INDEX IF NOT EXISTS rollup_video_days_comments
    ON rollup_video_days (day, max_delta_comments_count) INCLUDE (video_id);
CREATE INDEX IF NOT EXISTS rollup_video_days_reports
    ON rollup_video_days (day, max_delta_reports_count) INCLUDE (video_id);

-- Whether the rollups describe the rows: any change of the data tables made without
-- vabot_refresh_rollups() (say, rows inserted by hand) marks them stale, and a query that
-- reads them then fails (vabot_rollups_fresh) instead of giving an outdated number.
-- The functions carry the search_path of `db init`, so that they find these tables
-- whoever calls them: a trigger fired by a postgres_fdw session (search_path pg_catalog)
-- included.
CREATE TABLE IF NOT EXISTS rollup_state (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    fresh boolean NOT NULL
);
INSERT INTO rollup_state (fresh) VALUES (false) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION vabot_rollups_stale() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE rollup_state SET fresh = false WHERE fresh;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS videos_rollups_stale ON videos;
CREATE TRIGGER videos_rollups_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON videos
    FOR EACH STATEMENT EXECUTE FUNCTION vabot_rollups_stale();
DROP TRIGGER IF EXISTS snapshots_rollups_stale ON video_snapshots;
CREATE TRIGGER snapshots_rollups_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON video_snapshots FOR EACH STATEMENT EXECUTE FUNCTION vabot_rollups_stale();

CREATE OR REPLACE FUNCTION vabot_rollups_fresh() RETURNS boolean LANGUAGE plpgsql STABLE
    SET search_path FROM CURRENT AS $$
BEGIN
    IF NOT (SELECT fresh FROM rollup_state) THEN
        RAISE EXCEPTION 'the rollups are stale: the data changed outside vabot db load'
            USING HINT = 'run vabot db load again, or SELECT vabot_refresh_rollups()';
    END IF;
    RETURN true;
END
$$;

CREATE OR REPLACE FUNCTION vabot_refresh_rollups() RETURNS void LANGUAGE sql
    SET search_path FROM CURRENT AS $$
    TRUNCATE rollup_hours, rollup_ages, rollup_video_days;
    INSERT INTO rollup_hours
    SELECT date_trunc('hour', created_at, 'UTC'), count(*), sum(delta_views_count),
           sum(delta_likes_count), sum(delta_comments_count), sum(delta_reports_count)
    FROM video_snapshots GROUP BY 1;
    INSERT INTO rollup_ages
    SELECT floor(extract(epoch FROM s.created_at - v.video_created_at) / 3600), count(*),
           sum(s.delta_views_count), sum(s.delta_likes_count), sum(s.delta_comments_count),
           sum(s.delta_reports_count)
    FROM video_snapshots s JOIN videos v ON v.id = s.video_id GROUP BY 1;
    INSERT INTO rollup_video_days
    SELECT (created_at AT TIME ZONE 'UTC')::date, video_id,
           max(delta_views_count), min(delta_views_count), max(delta_likes_count),
           min(delta_likes_count), max(delta_comments_count), min(delta_comments_count),
           max(delta_reports_count), min(delta_reports_count)
    FROM video_snapshots GROUP BY 1, 2;
    UPDATE rollup_state SET fresh = true;
$$;
-- Data loaded before the rollups existed gets them now (once: afterwards the loader
-- keeps them).
DO $$
BEGIN
    IF NOT (SELECT fresh FROM rollup_state) THEN
        PERFORM vabot_refresh_rollups();
    END IF;
END
$$;

-- Bookkeeping of the bot, written through their own statements, never by the
-- query path (see sql/roles.sql).
CREATE TABLE IF NOT EXISTS bot_state (
    key   text PRIMARY KEY,
    value bigint NOT NULL
);

-- ==== bot: handled updates (src/ledger.c) ====
-- bot_state holds 'offset:<bot id>', the watermark below which every update is
-- handled; bot_done the updates above it that are handled already, so that a restart
-- skips them when Telegram delivers them again.
CREATE TABLE IF NOT EXISTS bot_done (
    bot_id    bigint NOT NULL,
    update_id bigint NOT NULL,
    PRIMARY KEY (bot_id, update_id)
);

-- ==== LLM fallback: spec cache and query log (src/cache.c, src/qlog.c) ====
-- Written through the owner connection only; the reader role has no rights here.

-- A validated spec per normalized question. ns changes with the model, the prompt, the
-- schema and VABOT_TZ, so a new prompt never serves specs made for an old one. day is ''
-- for a spec without time bounds (valid for ever), else the day ('YYYY-MM-DD') of "now"
-- in VABOT_TZ it was made for: "вчера" means another day tomorrow.
CREATE TABLE IF NOT EXISTS llm_cache (
    ns         text NOT NULL,
    question   text NOT NULL,
    day        text NOT NULL,
    spec       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ns, question, day)
);

-- One row per question answered, or not. source: which path understood it ('none'
-- when nothing did); question_key is the normalized question, which groups wordings
-- that differ only in case, spaces or a final '?'. Latencies are milliseconds.
CREATE TABLE IF NOT EXISTS query_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    chat_id      bigint,
    question     text NOT NULL,
    question_key text NOT NULL,
    source       text NOT NULL CHECK (source IN ('grammar', 'llm', 'cache', 'none')),
    spec         text,
    sql          text,
    answer       text,
    error        text,
    ms_nlu       real NOT NULL DEFAULT 0,
    ms_llm       real NOT NULL DEFAULT 0,
    ms_db        real NOT NULL DEFAULT 0,
    ms_total     real NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS query_log_at ON query_log (at);
