#!/bin/bash
# bench/load.sh FILE...: `vabot db load FILE` against `psql \copy` of the same rows.
#
# For each file: convert it to two CSV files (bench/json2csv.py, not timed); time psql
# loading them with \copy into the tables of sql/schema.sql (indexes and keys in place,
# TRUNCATE and both \copy in one transaction, as a plain loader would); time the loader;
# check that both left the same rows; print MB/s of the JSON file, the time ratio and the
# loader's peak RSS (GNU time). Uses a private PostgreSQL cluster in a temp directory with
# the server's default settings. REPEAT=N (default 1) keeps the best of N runs of each.
# Not part of `make test`.
set -eu
[ $# -gt 0 ] || { echo "usage: bench/load.sh FILE..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
REPEAT=${REPEAT:-1}
[ -x "$VABOT" ] || { echo "bench: build $VABOT first (make)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/vabot-bench-load.XXXXXX")
chmod 755 "$W"
trap '"$ROOT/scripts/pg.sh" stop "$W/db" >/dev/null 2>&1; rm -rf "$W"' EXIT
DATABASE_URL=$("$ROOT/scripts/pg.sh" start "$W/db")
export DATABASE_URL
"$VABOT" db init >/dev/null 2>&1
PSQL="psql -X -q -At -v ON_ERROR_STOP=1 -d $DATABASE_URL"
# Order-independent fingerprint of both tables: row count and a sum of row hashes.
FINGERPRINT="SELECT (SELECT count(*) || ':' || sum(hashtext(v::text)::bigint) FROM videos v)
    || ' ' || (SELECT count(*) || ':' || sum(hashtext(s::text)::bigint) FROM video_snapshots s)"

now() { date +%s.%N; }

printf '%-28s %9s %10s %10s %9s %9s %7s %9s\n' file MB psql_s vabot_s psql_MB/s vabot_MB/s ratio peak_RSS
for f in "$@"; do
    cols=$(python3 "$ROOT/bench/json2csv.py" "$f" "$W/videos.csv" "$W/snapshots.csv")
    vcols=$(printf '%s\n' "$cols" | sed -n 1p)
    scols=$(printf '%s\n' "$cols" | sed -n 2p)
    bytes=$(stat -c %s "$f")
    best_psql= best_vabot= rss=
    for _ in $(seq "$REPEAT"); do
        t0=$(now)
        $PSQL <<SQL
BEGIN;
TRUNCATE videos, video_snapshots;
\copy videos ($vcols) FROM '$W/videos.csv' CSV
\copy video_snapshots ($scols) FROM '$W/snapshots.csv' CSV
COMMIT;
SQL
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
        best_psql=$(awk -v a="${best_psql:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
        want=$($PSQL -c "$FINGERPRINT")

        t0=$(now)
        /usr/bin/time -f '%M' -o "$W/rss" "$VABOT" db load "$f" 2>"$W/err" ||
            { cat "$W/err" >&2; exit 1; }
        t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
        best_vabot=$(awk -v a="${best_vabot:-$t}" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
        rss=$(tail -n 1 "$W/rss")
        got=$($PSQL -c "$FINGERPRINT")
        [ "$got" = "$want" ] || { echo "bench: $f: tables differ: psql $want, vabot $got" >&2; exit 1; }
    done
    awk -v f="$(basename "$f")" -v b="$bytes" -v p="$best_psql" -v v="$best_vabot" -v r="$rss" \
        'BEGIN { printf "%-28s %9.1f %10.2f %10.2f %9.1f %9.1f %7.2f %6.1f MB\n",
                 f, b / 1e6, p, v, b / 1e6 / p, b / 1e6 / v, v / p, r / 1024 }'
done
