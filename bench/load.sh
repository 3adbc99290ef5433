#!/bin/bash
# bench/load.sh FILE...: `vabot db load FILE` against `psql \copy` of the same rows.
#
# For each file: convert it to two CSV files (bench/json2csv.py, not timed); time psql
# loading them with \copy into the tables of sql/schema.sql (indexes and keys in place,
# TRUNCATE and both \copy in one transaction, as a plain loader would); time the loader;
# check that both left the same rows; print MB/s of the JSON file, the time ratio and the
# peak RSS of both clients (GNU time). REPEAT=N (default 1) keeps the best of N runs of
# each. The loader runs last, so its rows (and its rollups) stay in the database.
# BENCH_DB=URL uses that running database and leaves it loaded; otherwise a private
# PostgreSQL cluster in a temp directory, with the server's default settings.
# BENCH_TSV=1 prints tab-separated values instead of the aligned table.
# Not part of `make test`.
set -eu
[ $# -gt 0 ] || { echo "usage: bench/load.sh FILE..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
REPEAT=${REPEAT:-1}
[ -x "$VABOT" ] || { echo "bench: build $VABOT first (make)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/vabot-bench-load.XXXXXX")
chmod 755 "$W"
if [ -n "${BENCH_DB:-}" ]; then
    trap 'rm -rf "$W"' EXIT
    DATABASE_URL=$BENCH_DB
else
    trap '"$ROOT/scripts/pg.sh" stop "$W/db" >/dev/null 2>&1; rm -rf "$W"' EXIT
    DATABASE_URL=$("$ROOT/scripts/pg.sh" start "$W/db")
fi
export DATABASE_URL
"$VABOT" db init >/dev/null 2>&1
PSQL="psql -X -q -At -v ON_ERROR_STOP=1 -d $DATABASE_URL"
# Order-independent fingerprint of both tables: row count and a sum of row hashes.
FINGERPRINT="SELECT (SELECT count(*) || ':' || sum(hashtext(v::text)::bigint) FROM videos v)
    || ' ' || (SELECT count(*) || ':' || sum(hashtext(s::text)::bigint) FROM video_snapshots s)"

now() { date +%s.%N; }
min() { awk -v a="${1:-$2}" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; }

if [ -n "${BENCH_TSV:-}" ]; then
    printf 'file\tMB\tsnapshots\tpsql_s\tvabot_s\tpsql_MB/s\tvabot_MB/s\tratio\tvabot_RSS_MB\tpsql_RSS_MB\n'
else
    printf '%-24s %8s %10s %8s %8s %9s %10s %6s %10s %10s\n' file MB snapshots psql_s vabot_s \
        psql_MB/s vabot_MB/s ratio vabot_RSS psql_RSS
fi
for f in "$@"; do
    cols=$(python3 "$ROOT/bench/json2csv.py" "$f" "$W/videos.csv" "$W/snapshots.csv")
    vcols=$(printf '%s\n' "$cols" | sed -n 1p)
    scols=$(printf '%s\n' "$cols" | sed -n 2p)
    bytes=$(stat -c %s "$f")
    best_psql= best_vabot= rss= prss=
    for _ in $(seq "$REPEAT"); do
        t0=$(now)
        /usr/bin/time -f '%M' -o "$W/prss" $PSQL <<SQL
BEGIN;
TRUNCATE videos, video_snapshots;
\copy videos ($vcols) FROM '$W/videos.csv' CSV
\copy video_snapshots ($scols) FROM '$W/snapshots.csv' CSV
COMMIT;
SQL
        best_psql=$(min "$best_psql" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
        prss=$(tail -n 1 "$W/prss")
        want=$($PSQL -c "$FINGERPRINT")

        t0=$(now)
        /usr/bin/time -f '%M' -o "$W/rss" "$VABOT" db load "$f" 2>"$W/err" ||
            { cat "$W/err" >&2; exit 1; }
        best_vabot=$(min "$best_vabot" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
        rss=$(tail -n 1 "$W/rss")
        got=$($PSQL -c "$FINGERPRINT")
        [ "$got" = "$want" ] || { echo "bench: $f: tables differ: psql $want, vabot $got" >&2; exit 1; }
    done
    rm -f "$W/videos.csv" "$W/snapshots.csv"
    snaps=${got#* }
    awk -v f="$(basename "$f")" -v b="$bytes" -v n="${snaps%%:*}" -v p="$best_psql" -v v="$best_vabot" \
        -v r="$rss" -v q="$prss" -v tsv="${BENCH_TSV:-}" 'BEGIN {
        fmt = tsv ? "%s\t%.1f\t%d\t%.2f\t%.2f\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\n" \
                  : "%-24s %8.1f %10d %8.2f %8.2f %9.1f %10.1f %6.2f %7.1f MB %7.1f MB\n"
        printf fmt, f, b / 1e6, n, p, v, b / 1e6 / p, b / 1e6 / v, v / p, r / 1024, q / 1024 }'
done
