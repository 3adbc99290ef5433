#!/bin/bash
# bench/sharded.sh [SCALE...]: `make bench-sharded`, the path past one machine, proved
# with what Debian ships. Three private PostgreSQL clusters on unix sockets:
#   single   database vabot: sql/schema.sql, loaded with `vabot db load` (the reference);
#   shard0, shard1: sql/schema.sql each, holding half of the videos and their snapshots;
#   single   database sharded: the coordinator (bench/sharded.sql), where both tables are
#            hash-partitioned by video id and every partition lives on a shard through
#            postgres_fdw. The coordinator routes the reference rows to the shards; each
#            shard then builds its own rollups from its own rows.
# For each scale (default 1 10) every fact of tests/data/facts.tsv is asked of both, as a
# hand-written spec (`vabot spec run`) and as a question (`vabot ask --no-llm`), and the
# numbers must agree (at scale 1 they must also be the expected ones); bench/qbench then
# times every query class on both. Writes bench/sharded.md (BENCH_SHARDED=FILE elsewhere)
# and exits 1 when any number differs.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
QBENCH=${QBENCH:-$ROOT/build/bench/qbench}
RESULTS=${BENCH_SHARDED:-$ROOT/bench/sharded.md}
SCALES=${*:-1 10}
for tool in "$VABOT" "$QBENCH"; do
    [ -x "$tool" ] || { echo "bench: $tool is missing (make bench-sharded builds it)" >&2; exit 2; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/vabot-sharded.XXXXXX")
chmod 755 "$W"
trap 'for c in single shard0 shard1; do "$ROOT/scripts/pg.sh" stop "$W/$c" >/dev/null 2>&1; done; rm -rf "$W"' EXIT
SINGLE=$("$ROOT/scripts/pg.sh" start "$W/single")
SHARD0=$("$ROOT/scripts/pg.sh" start "$W/shard0")
SHARD1=$("$ROOT/scripts/pg.sh" start "$W/shard1")
socket() { printf '%s\n' "$1" | sed 's/.*host=\([^&]*\).*/\1/'; }
SHARDED=${SINGLE/\/vabot\?//sharded?}
psql -X -q -d "${SINGLE/\/vabot\?//postgres?}" -c "CREATE DATABASE sharded"
export VABOT_NOW=2025-12-01T12:00:00Z # the facts' "now"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

for url in "$SINGLE" "$SHARD0" "$SHARD1"; do
    DATABASE_URL=$url "$VABOT" db init >/dev/null 2>&1
done
q "$SHARDED" -v sock0="$(socket "$SHARD0")" -v sock1="$(socket "$SHARD1")" \
    -v single="$(socket "$SINGLE")" -f "$ROOT/bench/sharded.sql"
DATABASE_URL=$SHARDED "$VABOT" db init >/dev/null 2>&1

pass=0 fail=0
: >"$W/overhead.md"
: >"$W/setup.md"
for scale in $SCALES; do
    echo "bench: sharded: scale $scale" >&2
    SOURCE=$("$ROOT/bench/data.sh" "$scale" "$W/videos.json")
    t0=$(date +%s.%N)
    DATABASE_URL=$SINGLE "$VABOT" db load "$W/videos.json" 2>/dev/null
    t_single=$(secs "$t0")
    rm -f "$W/videos.json"
    t0=$(date +%s.%N)
    q "$SHARDED" -c "TRUNCATE videos, video_snapshots" \
        -c "INSERT INTO videos SELECT * FROM single.videos" \
        -c "INSERT INTO video_snapshots SELECT * FROM single.video_snapshots"
    t_route=$(secs "$t0")
    t0=$(date +%s.%N)
    for url in "$SHARD0" "$SHARD1"; do
        q "$url" -c "SELECT vabot_refresh_rollups()" -c "VACUUM ANALYZE" >/dev/null &
    done
    wait
    q "$SHARDED" -c "UPDATE rollup_state SET fresh = true"
    t_rollups=$(secs "$t0")
    q "$SHARDED" -c "ANALYZE videos, video_snapshots, rollup_video_days"
    split="$(q "$SHARD0" -c "SELECT count(*) FROM video_snapshots") / $(q "$SHARD1" -c "SELECT count(*) FROM video_snapshots")"
    echo "| $scale | $(q "$SINGLE" -c "SELECT count(*) FROM video_snapshots") | $split | $t_single | $t_route | $t_rollups |" >>"$W/setup.md"

    # Every fact, both ways, on both.
    while IFS=$'\t' read -r id question expected spec grammar; do
        case $id in ''|'#'*) continue ;; esac
        if [ "$spec" != "-" ]; then
            one=$(printf '%s' "$spec" | DATABASE_URL=$SINGLE "$VABOT" spec run - 2>&1) || true
            two=$(printf '%s' "$spec" | DATABASE_URL=$SHARDED "$VABOT" spec run - 2>&1) || true
            if [ "$one" = "$two" ] && { [ "$scale" != 1 ] || [ "$one" = "$expected" ]; }; then
                pass=$((pass + 1))
            else
                fail=$((fail + 1))
                echo "FAIL scale $scale spec $id: single '$one', sharded '$two', expected '$expected'" >&2
            fi
        fi
        [ "$grammar" = ask ] || continue
        one=$(DATABASE_URL=$SINGLE "$VABOT" ask --no-llm "$question" 2>&1) || true
        two=$(DATABASE_URL=$SHARDED "$VABOT" ask --no-llm "$question" 2>&1) || true
        if [ "$one" = "$two" ] && { [ "$scale" != 1 ] || [ "$one" = "$expected" ]; }; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL scale $scale ask $id: single '$one', sharded '$two', expected '$expected'" >&2
        fi
    done <"$ROOT/tests/data/facts.tsv"

    # The query classes on both: our SQL, p50 and p99.
    DATABASE_URL=$SINGLE "$QBENCH" --runs 200 --budget-ms 1000 "$ROOT/bench/classes.tsv" >"$W/one.tsv"
    DATABASE_URL=$SHARDED "$QBENCH" --runs 200 --budget-ms 1000 --explain "$W/explain-$scale.md" \
        "$ROOT/bench/classes.tsv" >"$W/two.tsv"
    echo "### Scale $scale" >>"$W/overhead.md"
    echo >>"$W/overhead.md"
    echo "| class | single p50 | sharded p50 | single p99 | sharded p99 | sharded / single p50 | same answer |" >>"$W/overhead.md"
    echo "|---|---|---|---|---|---|---|" >>"$W/overhead.md"
    awk -F'\t' 'NR == FNR { p50[$1] = $8; p99[$1] = $9; v[$1] = $3; next }
        FNR > 1 { printf "| %s | %.3f | %.3f | %.3f | %.3f | %.1fx | %s |\n", $1, p50[$1], $8, p99[$1], $9,
                  $8 / p50[$1], v[$1] == $3 ? "yes" : "NO: " v[$1] " vs " $3 }' \
        "$W/one.tsv" "$W/two.tsv" >>"$W/overhead.md"
    echo >>"$W/overhead.md"
done
LAST=${scale}

{
    echo "# Sharded through postgres_fdw: results"
    echo
    echo "Written by \`make bench-sharded\` (bench/sharded.sh) on $(date -u +%Y-%m-%d); see docs/scaling.md."
    echo "Three PostgreSQL $(q "$SINGLE" -c 'SHOW server_version' | cut -d' ' -f1) clusters on one $(nproc)-CPU" \
        "machine, default settings, unix sockets: the single-node reference, and a coordinator with"
    echo "two shards (both tables hash-partitioned by video id, modulus 2). Data: $SOURCE."
    echo
    echo "Facts of tests/data/facts.tsv asked of both, as specs and as questions: **$pass agree, $fail differ**"
    echo "(at scale 1 the numbers must also be the expected ones)."
    echo
    echo "| scale | snapshots | on shard0 / shard1 | vabot db load (single) s | coordinator routes the rows s | shards build rollups s |"
    echo "|---|---|---|---|---|---|"
    cat "$W/setup.md"
    echo
    echo "## Query time, single node against coordinator + 2 shards"
    echo
    echo "bench/qbench, our SQL (prepared, reader role) against each database in turn."
    echo
    cat "$W/overhead.md"
    echo "## Plans on the coordinator, scale $LAST"
    echo
    echo "What runs where: a *Foreign Scan* with *Relations: Aggregate on* ran the aggregate on the shard."
    echo
    sed 's/^#### /### /' "$W/explain-$LAST.md"
} >"$RESULTS"
cat "$W/setup.md" "$W/overhead.md"
echo "$pass passed, $fail failed"
echo "bench: wrote $RESULTS" >&2
[ "$fail" = 0 ]
