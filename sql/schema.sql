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
CREATE INDEX IF NOT EXISTS videos_published ON videos (video_created_at);
-- Growth of one creator's or one video's videos in a time range.
CREATE INDEX IF NOT EXISTS snapshots_video_time ON video_snapshots (video_id, created_at);
-- Growth of all videos in a time range: an index-only scan over the deltas.
CREATE INDEX IF NOT EXISTS snapshots_time ON video_snapshots (created_at)
    INCLUDE (video_id, delta_views_count, delta_likes_count, delta_comments_count,
             delta_reports_count);

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

-- A validated spec per normalized question. ns changes with the model, the prompt and
-- the schema, so a new prompt never serves specs made for an old one. day is '' for a
-- spec without time bounds (valid for ever), else the UTC day ('YYYY-MM-DD') of "now"
-- it was made for: "вчера" means another day tomorrow.
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
