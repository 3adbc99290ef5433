#!/bin/bash
# `vabot db load`: the tables hold exactly what the file says (checked row by row against
# load_expect.js), times land in UTC, ids are normalized, and every broken file is
# refused with one clear line while the data loaded before stays intact.
. "$(dirname "$0")/../lib.sh"
t_init load
EXPECT="node $ROOT/tests/e2e/load_expect.js"
SAMPLE=$ROOT/data/videos.sample.json

t_pg_up
t_status "load before db init fails" 1 vabot db load "$SAMPLE"
grep -q 'run `vabot db init` first' "$T/err" && t_ok "load before db init says why" ||
    t_fail "load before db init says why" "$(cat "$T/err")"
vabot db init >/dev/null 2>&1 || { t_fail "db init" "failed"; t_done; exit; }
PSQL="psql -X -q -At -v ON_ERROR_STOP=1 -d $DATABASE_URL"
# Every index and key of the data tables as sql/schema.sql made them: a load drops and
# rebuilds them, and must leave exactly these.
schema_keys() {
    $PSQL -c "SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes
              WHERE tablename IN ('videos', 'video_snapshots', 'rollup_video_days')"
    $PSQL -c "SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY conname)
              FROM pg_constraint WHERE conrelid IN ('videos'::regclass, 'video_snapshots'::regclass)"
}
KEYS=$(schema_keys)

# The tables in the canonical form of load_expect.js, sorted.
dump() {
    $PSQL -c "SELECT id, creator_id, (extract(epoch FROM video_created_at) * 1000000)::bigint,
        views_count, likes_count, comments_count, reports_count,
        (extract(epoch FROM created_at) * 1000000)::bigint,
        (extract(epoch FROM updated_at) * 1000000)::bigint FROM videos" | LC_ALL=C sort >"$T/got_videos.txt"
    $PSQL -c "SELECT id, video_id, views_count, likes_count, comments_count, reports_count,
        delta_views_count, delta_likes_count, delta_comments_count, delta_reports_count,
        (extract(epoch FROM created_at) * 1000000)::bigint,
        (extract(epoch FROM updated_at) * 1000000)::bigint FROM video_snapshots" |
        LC_ALL=C sort >"$T/got_snapshots.txt"
}

# The same sums as `load_expect.js sums`, from the database.
sums() {
    $PSQL -F ' ' -c "
        SELECT 'videos', count(*) FROM videos
        UNION ALL SELECT 'snapshots', count(*) FROM video_snapshots
        UNION ALL SELECT 'views', coalesce(sum(views_count), 0) FROM videos
        UNION ALL SELECT 'likes', coalesce(sum(likes_count), 0) FROM videos
        UNION ALL SELECT 'comments', coalesce(sum(comments_count), 0) FROM videos
        UNION ALL SELECT 'reports', coalesce(sum(reports_count), 0) FROM videos
        UNION ALL SELECT 'delta_views', coalesce(sum(delta_views_count), 0) FROM video_snapshots
        UNION ALL SELECT 'delta_likes', coalesce(sum(delta_likes_count), 0) FROM video_snapshots
        UNION ALL SELECT 'delta_comments', coalesce(sum(delta_comments_count), 0) FROM video_snapshots
        UNION ALL SELECT 'delta_reports', coalesce(sum(delta_reports_count), 0) FROM video_snapshots
        UNION ALL SELECT 'negative_deltas', count(*) FROM video_snapshots
                  WHERE delta_views_count < 0 OR delta_likes_count < 0
        UNION ALL SELECT 'first_us', (extract(epoch FROM min(created_at)) * 1000000)::bigint FROM video_snapshots
        UNION ALL SELECT 'last_us', (extract(epoch FROM max(created_at)) * 1000000)::bigint FROM video_snapshots"
}

# check_load NAME FILE: loads FILE and compares every row and every sum with the file.
check_load() {
    t_status "$1 loads" 0 vabot db load "$2"
    grep -q "^vabot: loaded $($EXPECT sums "$2" | sed -n 's/^videos //p') videos" "$T/err" &&
        t_ok "$1: summary line" || t_fail "$1: summary line" "$(cat "$T/err")"
    $EXPECT rows "$2" "$T"
    LC_ALL=C sort -o "$T/videos.txt" "$T/videos.txt"
    LC_ALL=C sort -o "$T/snapshots.txt" "$T/snapshots.txt"
    dump
    cmp -s "$T/videos.txt" "$T/got_videos.txt" && t_ok "$1: every video row" ||
        t_fail "$1: every video row" "$(diff "$T/videos.txt" "$T/got_videos.txt" | head -4)"
    cmp -s "$T/snapshots.txt" "$T/got_snapshots.txt" && t_ok "$1: every snapshot row" ||
        t_fail "$1: every snapshot row" "$(diff "$T/snapshots.txt" "$T/got_snapshots.txt" | head -4)"
    t_eq "$1: counts and sums" "$(sums)" "$($EXPECT sums "$2")"
}

# Order-independent fingerprint of both tables.
fingerprint() {
    $PSQL -c "SELECT (SELECT count(*) || ':' || coalesce(sum(hashtext(v::text)::bigint), 0) FROM videos v)
        || ' ' || (SELECT count(*) || ':' || coalesce(sum(hashtext(s::text)::bigint), 0) FROM video_snapshots s)"
}

# ==== Good files ====

check_load "real slice" "$SAMPLE"
gunzip -c "$ROOT/tests/data/videos.json.gz" >"$T/videos.json"
check_load "calibrated data" "$T/videos.json"
t_eq "calibrated data: 358 videos, 35946 snapshots" \
    "$($PSQL -c 'SELECT (SELECT count(*) FROM videos) || $$ $$ || (SELECT count(*) FROM video_snapshots)')" \
    "358 35946"
t_eq "indexes and keys are back" "$(schema_keys)" "$KEYS"
# COPY FREEZE and ANALYZE: every page all-visible, so index-only scans work at once.
t_eq "rows are frozen and analyzed" \
    "$($PSQL -c "SELECT bool_and(relallvisible = relpages AND relpages > 0) FROM pg_class
                 WHERE relname IN ('videos', 'video_snapshots')")" t
t_status "db init after a load" 0 vabot db init

printf '\xEF\xBB\xBF' >"$T/bom.json"
sed 's/$/\r/' "$SAMPLE" >>"$T/bom.json"
check_load "BOM and CRLF" "$T/bom.json"

node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).videos;
    v[0].snapshots[2].delta_views_count = -3;
    v[0].snapshots[3].delta_views_count += 3;
    console.log(JSON.stringify({videos: v}));' "$SAMPLE" >"$T/negative_delta.json"
check_load "negative deltas are legal" "$T/negative_delta.json"

# One video whose rows are several times COPY_CHUNK: they reach the server in slices.
node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).videos[0];
    const s0 = v.snapshots[0], t0 = Date.parse(s0.created_at), snaps = [];
    for (let i = 0; i < 12000; i++) {
        const at = new Date(t0 + i * 3600e3).toISOString();
        snaps.push({...s0, id: (i + 1).toString(16).padStart(32, "0"), delta_views_count: i ? 0 : s0.views_count,
            delta_likes_count: i ? 0 : s0.likes_count, created_at: at, updated_at: at});
    }
    console.log(JSON.stringify({videos: [{...v, snapshots: snaps}]}));' "$SAMPLE" >"$T/big_video.json"
check_load "one video with 12000 snapshots" "$T/big_video.json"

# Offsets become UTC; ids in any accepted form become the stored forms.
cat >"$T/forms.json" <<'EOF'
{"videos": [{"id": "ECD8A4E41F244B97A94435D17078CE7C", "video_created_at": "2025-11-28T03:30:00+03:00",
  "views_count": 5, "likes_count": 1, "reports_count": 0, "comments_count": 0,
  "creator_id": "ACA1061A-9D32-4ECF-8C3F-A2BB32D7BE63", "created_at": "2025-11-26T11:00:08.983295-02:30",
  "updated_at": "2025-12-01T10:00:00Z",
  "snapshots": [{"id": "466BB586-2D3F-47FD-85F1-1CA0DC1E6629", "video_id": "ecd8a4e4-1f24-4b97-a944-35d17078ce7c",
    "views_count": 5, "likes_count": 1, "reports_count": 0, "comments_count": 0,
    "delta_views_count": 5, "delta_likes_count": 1, "delta_reports_count": 0, "delta_comments_count": 0,
    "created_at": "2025-11-28T02:00:00.5+03:00", "updated_at": "2025-11-28 02:00:00.500001+0300"}]}]}
EOF
check_load "offsets and id forms" "$T/forms.json"
t_eq "stored forms" "$($PSQL -c "SET TimeZone = 'UTC'; SELECT v.id, v.creator_id, v.video_created_at,
        v.created_at, s.id, s.created_at, s.updated_at FROM videos v JOIN video_snapshots s ON s.video_id = v.id")" \
    "ecd8a4e4-1f24-4b97-a944-35d17078ce7c|aca1061a9d324ecf8c3fa2bb32d7be63|2025-11-28 00:30:00+00|2025-11-26 13:30:08.983295+00|466bb5862d3f47fd85f11ca0dc1e6629|2025-11-27 23:00:00.5+00|2025-11-27 23:00:00.500001+00"

printf '{"videos": []}' >"$T/empty_array.json"
check_load "an empty array" "$T/empty_array.json"
t_eq "an empty array empties the tables" "$(sums | head -2 | tr '\n' ' ')" "videos 0 snapshots 0 "

printf '{"videos": []}' | vabot db load - >"$T/out" 2>"$T/err" && t_ok "standard input" ||
    t_fail "standard input" "$(cat "$T/err")"
grep -q "from -" "$T/err" && t_ok "standard input: summary" || t_fail "standard input: summary" "$(cat "$T/err")"

# ==== Broken files: refused, one line, the data before intact ====

check_load "reload the real slice" "$SAMPLE"
before=$(fingerprint)
# refused NAME FRAGMENT... (the command is in $cmd): exit 1, one line with each fragment.
refused() {
    name=$1
    shift
    lines=$(wc -l <"$T/err")
    if [ "$status" != 1 ] || [ "$lines" != 1 ]; then
        t_fail "$name refused" "exit $status, $lines lines: $(head -c 400 "$T/err")"
    else
        t_ok "$name refused"
    fi
    for want in "$@"; do
        [ -z "$want" ] && continue
        grep -qF -- "$want" "$T/err" && t_ok "$name: says $want" ||
            t_fail "$name: says $want" "$(cat "$T/err")"
    done
    t_eq "$name: data intact" "$(fingerprint)" "$before"
}

mkdir -p "$T/bad"
$EXPECT corpus "$SAMPLE" "$T/bad"
while IFS=$'\t' read -r name file frags; do
    vabot db load "$file" >"$T/out" 2>"$T/err"
    status=$?
    IFS=$'\t' read -r -a want <<<"$frags"
    refused "$name" "load: $file: " "${want[@]}"
done <"$T/bad/cases.tsv"

vabot db load "$T/no/such.json" >"$T/out" 2>"$T/err"
status=$?
refused "missing file" "cannot open"

# VABOT_LOAD_MAX_OBJECT stops at 1 GiB: more is ignored, with a warning.
VABOT_LOAD_MAX_OBJECT=2147483648 vabot db load "$SAMPLE" >"$T/out" 2>"$T/err" &&
    t_ok "a limit over 1 GiB: the load goes on" || t_fail "a limit over 1 GiB: the load goes on" "$(cat "$T/err")"
grep -q "ignoring VABOT_LOAD_MAX_OBJECT=2147483648: expected a whole number in \[64, 1073741824\]" "$T/err" &&
    t_ok "a limit over 1 GiB is ignored" || t_fail "a limit over 1 GiB is ignored" "$(cat "$T/err")"
before=$(fingerprint)

# A video bigger than VABOT_LOAD_MAX_OBJECT is refused where it crosses the limit.
start=$(grep -bo '    {' "$SAMPLE" | head -1 | cut -d: -f1)
VABOT_LOAD_MAX_OBJECT=1000 vabot db load "$SAMPLE" >"$T/out" 2>"$T/err"
status=$?
refused "object limit" "byte $((start + 4 + 1000)):" "video 0 (0-based)" "larger than the limit of 1000 bytes"

# A 1 GB string through a pipe: refused after 64 MB, so memory stays bounded and no
# big file touches the disk. GNU time reports the peak RSS in KB.
{ printf '{"videos": [{"id": "'; head -c 1000000000 /dev/zero | tr '\0' a; printf '"}]}'; } |
    /usr/bin/time -f '%M' -o "$T/rss" "$VABOT" db load - >"$T/out" 2>"$T/err"
status=$?
refused "1 GB string" "load: standard input: byte $((12 + 67108864)):" "larger than the limit of 67108864 bytes"
rss=$(tail -n 1 "$T/rss")
[ "${rss:-999999}" -lt 204800 ] && t_ok "1 GB string: peak RSS under 200 MB" ||
    t_fail "1 GB string: peak RSS under 200 MB" "${rss} KB"

t_done
