#!/bin/bash
# The loader's rollups (sql/schema.sql) give the raw rows' numbers. Random specs of every
# shape the SQL generator answers from a rollup are run through `vabot spec run` and
# compared with SQL written here against video_snapshots alone, on the calibrated data
# and on a file built to sit on the edges (snapshots exactly on hour and day boundaries
# and one microsecond either side, ages of exactly N hours, snapshots before
# publication, negative deltas). Also: db init fills empty rollups of loaded data, and a
# failed load leaves them as they were.
. "$(dirname "$0")/../lib.sh"
t_init rollups
t_pg_up
vabot db init >/dev/null 2>&1 || { t_fail "db init" "$(vabot db init 2>&1)"; t_done; exit; }
PSQL="psql -X -q -At -v ON_ERROR_STOP=1 -d $DATABASE_URL"
RANDOM=20251128 # a fixed seed: the same cases every run
FIELDS=(delta_views_count delta_likes_count delta_comments_count delta_reports_count)
OPS=('>' '>=' '<' '<=')
VALUES=(-5 -1 0 1 3 100)

# An instant N hours after 2025-11-25T00:00Z, in ISO 8601.
hour_at() {
    date -u -d "2025-11-25 00:00 UTC + $1 hours" +%Y-%m-%dT%H:%M:%SZ
}

# check NAME SPEC ORACLE_SQL: the spec must be answered from a rollup and give the
# number the oracle gives.
check() {
    local sql got want
    sql=$(printf '%s' "$2" | vabot spec check - 2>&1 | sed -n '/^SELECT/p')
    case $sql in *rollup_*) ;; *) t_fail "$1: uses a rollup" "$2 gave $sql"; return ;; esac
    got=$(printf '%s' "$2" | vabot spec run - 2>&1)
    want=$($PSQL -c "$3" 2>&1)
    t_eq "$1: $2" "$got" "$want"
}

# The aggregate of a spec over raw snapshots s, as the oracle writes it.
oracle_select() { # AGG FIELD
    case $1 in
    count) echo "COUNT(*)" ;;
    sum) echo "COALESCE(SUM(s.$2), 0)" ;;
    avg) echo "COALESCE(ROUND(AVG(s.$2)), 0)::bigint" ;;
    esac
}

# The aggregation of a spec, with its field unless it counts.
spec_agg() { # AGG FIELD
    if [ "$1" = count ]; then echo '"aggregation":"count"'; else echo "\"aggregation\":\"$1\",\"field\":\"$2\""; fi
}

random_cases() { # LABEL
    local i from to agg f range where n op v d1 d2 cond
    local aggs=(count sum avg)
    for i in $(seq 1 30); do
        from=$((RANDOM % 170)) to=$((from + 1 + RANDOM % 60))
        agg=${aggs[RANDOM % 3]} f=${FIELDS[RANDOM % 4]}
        case $((RANDOM % 4)) in
        0) range="\"measured_from\":\"$(hour_at $from)\"" where="s.created_at >= '$(hour_at $from)'" ;;
        1) range="\"measured_to\":\"$(hour_at $to)\"" where="s.created_at < '$(hour_at $to)'" ;;
        *) range="\"measured_from\":\"$(hour_at $from)\",\"measured_to\":\"$(hour_at $to)\""
           where="s.created_at >= '$(hour_at $from)' AND s.created_at < '$(hour_at $to)'" ;;
        esac
        check "$1 hours $i" "{\"table\":\"video_snapshots\",$(spec_agg $agg $f),\"filters\":{$range}}" \
            "SELECT $(oracle_select $agg $f) FROM video_snapshots s WHERE $where"
    done
    for i in $(seq 1 15); do
        n=$((1 + RANDOM % 150)) agg=${aggs[RANDOM % 3]} f=${FIELDS[RANDOM % 4]}
        check "$1 ages $i" "{\"table\":\"video_snapshots\",$(spec_agg $agg $f),\"filters\":{\"hours_after_publication\":$n}}" \
            "SELECT $(oracle_select $agg $f) FROM video_snapshots s JOIN videos v ON v.id = s.video_id
             WHERE s.created_at >= v.video_created_at AND s.created_at < v.video_created_at + interval '$n hours'"
    done
    for i in $(seq 1 30); do
        d1=$((RANDOM % 8)) d2=$((d1 + 1 + RANDOM % 3 * (RANDOM % 2)))
        f=${FIELDS[RANDOM % 4]} op=${OPS[RANDOM % 4]} v=${VALUES[RANDOM % 6]}
        range="\"measured_from\":\"$(hour_at $((d1 * 24)))\",\"measured_to\":\"$(hour_at $((d2 * 24)))\""
        where="s.created_at >= '$(hour_at $((d1 * 24)))' AND s.created_at < '$(hour_at $((d2 * 24)))'"
        cond=",\"conditions\":[{\"field\":\"$f\",\"op\":\"$op\",\"value\":$v}]"
        [ $((RANDOM % 5)) = 0 ] && cond= || where="$where AND s.$f $op $v"
        check "$1 days $i" "{\"table\":\"video_snapshots\",\"aggregation\":\"count_distinct\",\"field\":\"video_id\",\"filters\":{$range$cond}}" \
            "SELECT COUNT(DISTINCT s.video_id) FROM video_snapshots s WHERE $where"
    done
}

gzip -dc "$ROOT/tests/data/videos.json.gz" >"$T/videos.json"
vabot db load "$T/videos.json" 2>"$T/load.err" || { t_fail "load calibrated data" "$(cat "$T/load.err")"; t_done; exit; }
random_cases calibrated

# The edge file: the real sample, moved onto the boundaries the rollups cut at.
node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).videos;
    const iso = (ms, us) => new Date(ms).toISOString().slice(0, 19) + "." + String(us).padStart(6, "0") + "+00:00";
    v.forEach((video, k) => {
        video.snapshots.forEach((s, i) => {
            const hour = Math.floor(Date.parse(s.created_at) / 3600e3) * 3600e3;
            if (i % 4 === 0) s.created_at = iso(hour, 0);
            if (i % 4 === 1) s.created_at = iso(hour, 1);
            if (i % 4 === 2) s.created_at = iso(hour - 1000, 999999);
            if (i % 7 === 3) s.delta_views_count = -1 - (i % 5);
            if (i % 11 === 5) s.delta_likes_count = -1;
            if (i % 13 === 6) s.delta_reports_count = -2;
        });
        // Publication on an hour, inside the measurements: exact ages, and snapshots before it.
        if (k < 3) video.video_created_at = iso(Date.parse(video.snapshots[20 + 7 * k].created_at.slice(0, 13) + ":00:00Z"), 0);
    });
    console.log(JSON.stringify({videos: v}));' "$ROOT/data/videos.sample.json" >"$T/edges.json"
vabot db load "$T/edges.json" 2>"$T/load.err" || { t_fail "load edge data" "$(cat "$T/load.err")"; t_done; exit; }
t_eq "edge data has snapshots on hour boundaries" \
    "$($PSQL -c "SELECT count(*) > 50 FROM video_snapshots WHERE date_trunc('hour', created_at) = created_at")" t
t_eq "edge data has snapshots before publication" \
    "$($PSQL -c "SELECT count(*) > 0 FROM video_snapshots s JOIN videos v ON v.id = s.video_id WHERE s.created_at < v.video_created_at")" t
random_cases edges

# Rollups as a fingerprint, to see them change or not.
rollups() {
    $PSQL -c "SELECT (SELECT count(*) || ':' || sum(hashtext(h::text)::bigint) FROM rollup_hours h)
        || ' ' || (SELECT count(*) || ':' || sum(hashtext(a::text)::bigint) FROM rollup_ages a)
        || ' ' || (SELECT count(*) || ':' || sum(hashtext(d::text)::bigint) FROM rollup_video_days d)"
}
before=$(rollups)
printf '{"videos": [{"id": "x"}]}' >"$T/broken.json"
t_status "a broken file is refused" 1 vabot db load "$T/broken.json"
t_eq "a failed load leaves the rollups as they were" "$(rollups)" "$before"

# Data that has no rollups yet (loaded before they existed: a new rollup_state says
# not fresh) gets them from db init.
$PSQL -c "TRUNCATE rollup_hours, rollup_ages, rollup_video_days" -c "UPDATE rollup_state SET fresh = false"
t_status "db init with empty rollups" 0 vabot db init
t_eq "db init fills the rollups of loaded data" "$(rollups)" "$before"

# Rows changed by hand, outside `vabot db load`: a rollup answer would be outdated, so
# it is an error (exit 4) until the rollups are rebuilt; raw-row answers go on.
ALL='{"table":"video_snapshots","aggregation":"count"}'
RAW='{"table":"videos","aggregation":"count"}'
v=$($PSQL -c "SELECT id FROM videos LIMIT 1")
$PSQL -c "INSERT INTO video_snapshots SELECT md5(random()::text), '$v', 0, 0, 0, 0, 0, 0, 0, 0, now(), now()"
t_eq "a change by hand marks the rollups stale" "$($PSQL -c 'SELECT fresh FROM rollup_state')" f
t_status "stale rollups: no number, a backend failure" 4 vabot spec run - <<<"$ALL"
grep -q "rollups are stale" "$T/err" && t_ok "stale rollups: the error says why" ||
    t_fail "stale rollups: the error says why" "$(cat "$T/err")"
t_status "stale rollups: raw-row questions still answered" 0 vabot spec run - <<<"$RAW"
$PSQL -c "SELECT vabot_refresh_rollups()" >/dev/null
t_eq "refreshed rollups count the new row" "$(printf '%s' "$ALL" | vabot spec run -)" \
    "$($PSQL -c 'SELECT count(*) FROM video_snapshots')"

# A session whose search_path does not name the tables' schema (a postgres_fdw session
# has pg_catalog alone) changes rows and refreshes too: the functions find rollup_state.
if $PSQL -c "SET search_path = pg_catalog" -c "UPDATE public.videos SET updated_at = updated_at WHERE false" \
    >"$T/out" 2>"$T/err"; then
    t_ok "a change from another search_path runs its trigger"
else
    t_fail "a change from another search_path runs its trigger" "$(cat "$T/err")"
fi
t_eq "... and marks the rollups stale" "$($PSQL -c 'SELECT fresh FROM rollup_state')" f
$PSQL -c "SET search_path = pg_catalog" -c "SELECT public.vabot_refresh_rollups()" >/dev/null 2>&1
t_eq "a refresh from another search_path makes them fresh" \
    "$($PSQL -c 'SELECT fresh FROM rollup_state')" t
t_done
