-- bench/sharded.sql: the coordinator of bench/sharded.sh. Both data tables are
-- hash-partitioned by video id with the same modulus, so a video and its snapshots land
-- on the same shard (co-located); every partition is a table `videos` / `video_snapshots`
-- of sql/schema.sql on another PostgreSQL server, reached through postgres_fdw.
-- The rollups stay on the shards, each computed there from the shard's own rows:
-- rollup_video_days is partitioned like the data (a video's days live with the video);
-- rollup_hours and rollup_ages are the UNION ALL of the shards' tables, which is exact
-- because the SQL generator only ever sums them (a count is a sum of counts).
-- psql variables: sock0, sock1 (the shards' socket directories) and single (the socket
-- directory of the single-node database the rows come from).
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
-- fdw_tuple_cost 1 (default 0.01) prices every row a shard sends as dear, so the planner
-- sends a co-located join to the shard instead of pulling both sides here: the growth
-- of a creator's videos went from 12 ms to 1.2 ms at scale 10 (use_remote_estimate did
-- the same, but spent 10 ms planning on remote EXPLAINs).
CREATE SERVER shard0 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock0', dbname 'vabot', async_capable 'true', fetch_size '10000',
             batch_size '1000', fdw_tuple_cost '1');
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock1', dbname 'vabot', async_capable 'true', fetch_size '10000',
             batch_size '1000', fdw_tuple_cost '1');
CREATE SERVER single FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'single', dbname 'vabot', fetch_size '10000');
-- Every local role (the reader included) reaches the shards as their owner: the shards
-- trust local sockets, and only a superuser may waive the password like this.
CREATE USER MAPPING FOR PUBLIC SERVER shard0 OPTIONS (user 'postgres', password_required 'false');
CREATE USER MAPPING FOR PUBLIC SERVER shard1 OPTIONS (user 'postgres', password_required 'false');
CREATE USER MAPPING FOR PUBLIC SERVER single OPTIONS (user 'postgres', password_required 'false');

-- The rows of the single-node database, for the coordinator to route to the shards; its
-- tables (sql/schema.sql, with collations and NOT NULL) are also the templates of the
-- partitioned ones below, so their columns are written once, in sql/schema.sql.
CREATE SCHEMA single;
IMPORT FOREIGN SCHEMA public LIMIT TO (videos, video_snapshots, rollup_video_days)
    FROM SERVER single INTO single;

CREATE TABLE videos (LIKE single.videos) PARTITION BY HASH (id);
CREATE FOREIGN TABLE videos_0 PARTITION OF videos FOR VALUES WITH (MODULUS 2, REMAINDER 0)
    SERVER shard0 OPTIONS (table_name 'videos');
CREATE FOREIGN TABLE videos_1 PARTITION OF videos FOR VALUES WITH (MODULUS 2, REMAINDER 1)
    SERVER shard1 OPTIONS (table_name 'videos');

CREATE TABLE video_snapshots (LIKE single.video_snapshots) PARTITION BY HASH (video_id);
CREATE FOREIGN TABLE video_snapshots_0 PARTITION OF video_snapshots
    FOR VALUES WITH (MODULUS 2, REMAINDER 0) SERVER shard0 OPTIONS (table_name 'video_snapshots');
CREATE FOREIGN TABLE video_snapshots_1 PARTITION OF video_snapshots
    FOR VALUES WITH (MODULUS 2, REMAINDER 1) SERVER shard1 OPTIONS (table_name 'video_snapshots');

CREATE TABLE rollup_video_days (LIKE single.rollup_video_days) PARTITION BY HASH (video_id);
CREATE FOREIGN TABLE rollup_video_days_0 PARTITION OF rollup_video_days
    FOR VALUES WITH (MODULUS 2, REMAINDER 0) SERVER shard0 OPTIONS (table_name 'rollup_video_days');
CREATE FOREIGN TABLE rollup_video_days_1 PARTITION OF rollup_video_days
    FOR VALUES WITH (MODULUS 2, REMAINDER 1) SERVER shard1 OPTIONS (table_name 'rollup_video_days');

-- Whether the rollups describe the rows (sql/schema.sql) is each shard's own business: its
-- triggers mark its rollups stale, its vabot_refresh_rollups() fresh. The coordinator's
-- flag is made here, fresh, so that `vabot db init` does not refresh the views below; the
-- routing of rows marks it stale and bench/sharded.sh sets it once both shards are
-- refreshed.
CREATE TABLE rollup_state (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    fresh boolean NOT NULL
);
INSERT INTO rollup_state (fresh) VALUES (true);

CREATE SCHEMA shards;
IMPORT FOREIGN SCHEMA public LIMIT TO (rollup_hours, rollup_ages) FROM SERVER shard0 INTO shards;
ALTER FOREIGN TABLE shards.rollup_hours RENAME TO rollup_hours_0;
ALTER FOREIGN TABLE shards.rollup_ages RENAME TO rollup_ages_0;
IMPORT FOREIGN SCHEMA public LIMIT TO (rollup_hours, rollup_ages) FROM SERVER shard1 INTO shards;
ALTER FOREIGN TABLE shards.rollup_hours RENAME TO rollup_hours_1;
ALTER FOREIGN TABLE shards.rollup_ages RENAME TO rollup_ages_1;
CREATE VIEW rollup_hours AS
    SELECT * FROM shards.rollup_hours_0 UNION ALL SELECT * FROM shards.rollup_hours_1;
CREATE VIEW rollup_ages AS
    SELECT * FROM shards.rollup_ages_0 UNION ALL SELECT * FROM shards.rollup_ages_1;

-- Aggregates and joins per partition pair, so they can run on the shards.
ALTER DATABASE sharded SET enable_partitionwise_aggregate = on;
ALTER DATABASE sharded SET enable_partitionwise_join = on;
-- `vabot db init` also runs here (bookkeeping tables, grants). Its vabot_refresh_rollups()
-- writes tables that are views here: the shards run it, the coordinator never does, so
-- its body is not checked against this schema.
ALTER DATABASE sharded SET check_function_bodies = off;
