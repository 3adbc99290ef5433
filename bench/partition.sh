#!/bin/bash
# bench/partition.sh [SCALE]: what native partitioning of video_snapshots by measurement
# time buys (docs/scaling.md). Not part of `make bench`: run it by hand (scale 100 by
# default, a few minutes). Loads the data with `vabot db load`, times every query class
# (bench/qbench, with and without the rollups), then rebuilds video_snapshots as a table
# partitioned by day of created_at (one partition per UTC day, and a default one) with
# the same indexes, times the classes again, and tries `vabot db load` against it.
# Writes bench/partition.md (BENCH_PARTITION=FILE elsewhere).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
QBENCH=${QBENCH:-$ROOT/build/bench/qbench}
RESULTS=${BENCH_PARTITION:-$ROOT/bench/partition.md}
SCALE=${1:-100}
W=$(mktemp -d "${TMPDIR:-/tmp}/vabot-partition.XXXXXX")
chmod 755 "$W"
trap '"$ROOT/scripts/pg.sh" stop "$W/db" >/dev/null 2>&1; rm -rf "$W"' EXIT
DATABASE_URL=$("$ROOT/scripts/pg.sh" start "$W/db")
export DATABASE_URL
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" "$@"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
classes() { # FLAGS OUT: p50 and p99 of our SQL per class
    "$QBENCH" --runs 200 --budget-ms 1500 $1 "$ROOT/bench/classes.tsv" | cut -f1,3,8,9 >"$2"
}

"$VABOT" db init >/dev/null 2>&1
SOURCE=$("$ROOT/bench/data.sh" "$SCALE" "$W/videos.json")
t0=$(date +%s.%N)
"$VABOT" db load "$W/videos.json" 2>/dev/null
t_load=$(secs "$t0")
rm -f "$W/videos.json"
size_flat=$(q -c "SELECT pg_size_pretty(pg_total_relation_size('video_snapshots'))")
echo "bench: partition: timing the flat table" >&2
classes "" "$W/flat.tsv"
classes --plain "$W/flat-plain.tsv"

echo "bench: partition: partitioning video_snapshots by day" >&2
days=$(q -c "SELECT string_agg(d::date::text, ' ') FROM generate_series(
    date_trunc('day', (SELECT min(created_at) FROM video_snapshots), 'UTC'),
    (SELECT max(created_at) FROM video_snapshots), interval '1 day') d")
t0=$(date +%s.%N)
{
    echo "BEGIN;"
    echo "ALTER TABLE video_snapshots RENAME TO video_snapshots_flat;"
    echo "CREATE TABLE video_snapshots (LIKE video_snapshots_flat) PARTITION BY RANGE (created_at);"
    for d in $days; do
        echo "CREATE TABLE video_snapshots_${d//-/} PARTITION OF video_snapshots
              FOR VALUES FROM ('$d 00:00+00') TO ('$(date -u -d "$d + 1 day" +%F) 00:00+00');"
    done
    echo "CREATE TABLE video_snapshots_other PARTITION OF video_snapshots DEFAULT;"
    echo "INSERT INTO video_snapshots SELECT * FROM video_snapshots_flat;"
    echo "DROP TABLE video_snapshots_flat;"
    # The keys and indexes of sql/schema.sql, under their names (so that db init finds
    # them); a unique key must hold the partition key.
    echo "ALTER TABLE video_snapshots ADD CONSTRAINT video_snapshots_pkey PRIMARY KEY (id, created_at);"
    echo "ALTER TABLE video_snapshots ADD FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE;"
    q -c "SELECT pg_get_indexdef(indexrelid) || ';' FROM pg_index
          WHERE indrelid = 'video_snapshots'::regclass AND NOT indisprimary" |
        sed 's/ ON public.video_snapshots / ON video_snapshots /'
    echo "COMMIT;"
    echo "VACUUM ANALYZE video_snapshots;"
} >"$W/partition.sql"
q -f "$W/partition.sql"
"$VABOT" db init >/dev/null 2>&1 # the grants of sql/roles.sql
t_part=$(secs "$t0")
size_part=$(q -c "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits
                  WHERE inhparent = 'video_snapshots'::regclass")
nparts=$(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'video_snapshots'::regclass")
echo "bench: partition: timing the partitioned table" >&2
classes "" "$W/part.tsv"
classes --plain "$W/part-plain.tsv"
printf '{"videos": []}' >"$W/empty.json"
load_try=$("$VABOT" db load "$W/empty.json" 2>&1 || true)

{
    echo "# video_snapshots partitioned by measurement day: results"
    echo
    echo "Written by bench/partition.sh on $(date -u +%Y-%m-%d) at scale $SCALE ($SOURCE);"
    echo "see docs/scaling.md. One PostgreSQL $(q -c 'SHOW server_version' | cut -d' ' -f1), default settings, $(nproc) CPUs."
    echo
    echo "| | flat table | $nparts partitions by UTC day |"
    echo "|---|---|---|"
    echo "| build | \`vabot db load\` $t_load s (whole load) | $t_part s (INSERT ... SELECT, keys, indexes, VACUUM ANALYZE) |"
    echo "| size with indexes | $size_flat | $size_part |"
    echo "| \`vabot db load\` into it | works | $(printf '%s' "$load_try" | head -n 1) |"
    echo
    echo "Our SQL per query class, p50 / p99 ms (bench/qbench). *rollups*: as vabot answers;"
    echo "*raw*: the same specs answered from video_snapshots alone (\`--plain\`)."
    echo
    echo "| class | answer | rollups, flat | rollups, partitioned | raw, flat | raw, partitioned |"
    echo "|---|---|---|---|---|---|"
    paste "$W/flat.tsv" "$W/part.tsv" "$W/flat-plain.tsv" "$W/part-plain.tsv" | tail -n +2 |
        awk -F'\t' '{ printf "| %s | %s%s | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f |\n",
            $1, $2, ($2 == $6 && $2 == $10 && $2 == $14) ? "" : " (DIFFERS)", $3, $4, $7, $8, $11, $12, $15, $16 }'
} >"$RESULTS"
cat "$RESULTS"
