#!/bin/bash
# bench/run.sh [SCALE...]: `make bench`. Prints each table as it is measured and writes
# them all to bench/results.md (BENCH_RESULTS=FILE writes elsewhere). Never part of
# `make test`: it reports figures and ratios and judges nothing.
#
# For each scale (default 1 10 100): a videos.json of that scale (bench/data.sh: the
# calibrated generator when it is there, else bench/replicate.py), then
#   ingest     bench/load.sh: `vabot db load` against `psql \copy` of the same rows;
#   answering  bench/qbench: one question of every query class (bench/classes.tsv), the
#              rule path, our SQL and the SQL peers write, p50/p99 in milliseconds.
# At the largest scale also: EXPLAIN ANALYZE of our SQL; `vabot ask` and `vabot serve`
# end to end (bench/e2e.js, against tests/e2e/tg-fake.js); the bot's memory after 1 000
# and 10 000 questions; and "before": our SQL as vabot wrote it before this benchmark
# (no rollups, the indexes of before, unnamed statements), on the same data.
# One private PostgreSQL cluster (default settings) in a temp directory under TMPDIR
# holds everything; data files are deleted as soon as they are loaded.
# Knobs: BENCH_RUNS (1000 rounds per class), BENCH_BUDGET_MS (1500 ms of peer SQL per
# class), and those of bench/e2e.js.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
QBENCH=${QBENCH:-$ROOT/build/bench/qbench}
RULES=${RULES:-$ROOT/build/bench/bench_rules}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results.md}
CLASSES=$ROOT/bench/classes.tsv
RUNS=${BENCH_RUNS:-1000}
BUDGET=${BENCH_BUDGET_MS:-1500}
SCALES=${*:-1 10 100}
LAST=${SCALES##* }
for tool in "$VABOT" "$QBENCH" "$RULES"; do
    [ -x "$tool" ] || { echo "bench: $tool is missing (make bench builds it)" >&2; exit 2; }
done
for cmd in psql python3 node /usr/bin/time; do
    command -v "$cmd" >/dev/null || { echo "bench: $cmd is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
[ -d "$ROOT/tests/e2e/node_modules" ] ||
    npm ci --prefix "$ROOT/tests/e2e" --no-audit --no-fund >/dev/null 2>&1 ||
    { echo "bench: npm ci --prefix tests/e2e failed" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/vabot-bench.XXXXXX")
chmod 755 "$W"
trap '"$ROOT/scripts/pg.sh" stop "$W/db" >/dev/null 2>&1; rm -rf "$W"' EXIT
DATABASE_URL=$("$ROOT/scripts/pg.sh" start "$W/db")
export DATABASE_URL VABOT
PSQL="psql -X -q -At -v ON_ERROR_STOP=1 -d $DATABASE_URL"
STARTED=$(date +%s)

# ==== Markdown out of the tools' tab-separated lines ====

# md_table "col|col|..." AWK_ROW: a header, then one row per input line (fields $1...).
md_table() {
    printf '| %s |\n' "$(printf '%s' "$1" | sed 's/|/ | /g')"
    printf '%s\n' "$1" | awk -F'|' '{ s = "|"; for (i = 1; i <= NF; i++) s = s "---|"; print s }'
    awk -F'\t' "NR > 1 { $2 }"
}

answer_table() { # TSV of qbench
    md_table "class|rule p50|rule p99|ours p50|ours p99|unnamed p50|peer p50|peer p99|peer/ours p50|peer/ours p99|runs ours/peer|answer|peer answer|grammar" \
        'printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f | %d/%d | %s | %s | %s |\n",
                $1, $5, $6, $8, $9, $10, $13, $14, $15, $16, $7, $12, $3, $4, $2' <"$1"
}

# ==== The rule path over every golden question (no database) ====

echo "bench: the rule path over tests/grammar" >&2
rules_out=$(cd "$ROOT" && "$RULES" 20)
printf '\nrule path\n%s\n' "$rules_out"

# ==== Per scale: ingest and answering ====

: >"$W/load.tsv"
for scale in $SCALES; do
    echo "bench: scale $scale: making the data" >&2
    SOURCE=$("$ROOT/bench/data.sh" "$scale" "$W/videos-$scale.json")
    echo "bench: scale $scale: ingest" >&2
    BENCH_DB=$DATABASE_URL BENCH_TSV=1 "$ROOT/bench/load.sh" "$W/videos-$scale.json" >"$W/load1.tsv"
    [ -s "$W/load.tsv" ] || head -n 1 "$W/load1.tsv" >"$W/load.tsv"
    tail -n 1 "$W/load1.tsv" | sed "s/^videos-$scale.json/$scale/" >>"$W/load.tsv"
    rm -f "$W/videos-$scale.json"
    if [ "$scale" = "$LAST" ]; then
        # End to end first, so that the before/after timings below are taken back to back.
        echo "bench: scale $LAST: vabot ask end to end" >&2
        node "$ROOT/bench/e2e.js" ask "$CLASSES" >"$W/e2e.tsv"
        echo "bench: scale $LAST: vabot serve against the Telegram fake" >&2
        node "$ROOT/bench/e2e.js" bot "$CLASSES" >>"$W/e2e.tsv"
    fi
    echo "bench: scale $scale: answering" >&2
    "$QBENCH" --runs "$RUNS" --budget-ms "$BUDGET" --explain "$W/explain.md" "$CLASSES" >"$W/answer-$scale.tsv"
    answer_table "$W/answer-$scale.tsv" >"$W/answer-$scale.md"
    printf '\nscale %s\n' "$scale"
    cat "$W/answer-$scale.md"
done
load_md=$(md_table "scale|JSON MB|snapshots|psql \\copy s|vabot load s|psql MB/s|vabot MB/s|vabot/psql time|vabot peak RSS MB|psql peak RSS MB" \
    'printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10' <"$W/load.tsv")
printf '\ningest\n%s\n' "$load_md"

# ==== The largest scale: end to end, memory, before, and the goal ====

e2e() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$W/e2e.tsv"; }
e2e_md="| front end | answers/s | p50 ms | p99 ms | runs | not a number |
|---|---|---|---|---|---|
| \`vabot ask\` (a process per question, one at a time) | $(e2e ask_answers_per_s) | $(e2e ask_p50_ms) | $(e2e ask_p99_ms) | $(e2e ask_runs) | $(e2e ask_not_a_number) |
| \`vabot serve\`, one question at a time (latency) | | $(e2e bot_p50_ms) | $(e2e bot_p99_ms) | $(e2e bot_latency_runs) | |
| \`vabot serve\`, $(e2e bot_questions) questions, 64 in flight from 64 chats (throughput) | $(e2e bot_answers_per_s) | | | $(e2e bot_questions) | $(e2e bot_not_a_number) |"
peak1=$(e2e bot_rss_peak_kb_1000) peak2=$(e2e bot_rss_peak_kb_end)
mem_md="| after | peak RSS (VmHWM) | RSS now |
|---|---|---|
| 1 000 questions | $peak1 kB | $(e2e bot_rss_now_kb_1000) kB |
| $(e2e bot_questions) questions | $peak2 kB | $(e2e bot_rss_now_kb_end) kB |

Growth of the peak: $((peak2 - peak1)) kB ($( [ $((peak2 - peak1)) -le 1024 ] && echo "within" || echo "MORE than") 1 MB)."
printf '\nend to end\n%s\n\nmemory of vabot serve\n%s\n' "$e2e_md" "$mem_md"

echo "bench: scale $LAST: before (no rollups, the indexes of before, unnamed statements)" >&2
$PSQL -c "DROP INDEX videos_views, videos_likes, videos_comments, videos_reports, snapshots_negative,
              videos_published_counts" \
      -c "CREATE INDEX videos_published ON videos (video_created_at)" -c "VACUUM ANALYZE videos"
"$QBENCH" --plain --runs "$RUNS" --budget-ms "$BUDGET" "$CLASSES" >"$W/before.tsv"
before_md=$(awk -F'\t' 'NR == FNR { b[$1] = $10 "\t" $11; next } { print $1 "\t" b[$1] "\t" $8 "\t" $9 }' \
        "$W/before.tsv" "$W/answer-$LAST.tsv" |
    md_table "class|before p50|before p99|after p50|after p99|speed-up p50|speed-up p99" \
        'printf "| %s | %.3f | %.3f | %.3f | %.3f | %.1fx | %.1fx |\n", $1, $2, $3, $4, $5, $2 / $4, $3 / $5')
printf '\nbefore and after, scale %s\n%s\n' "$LAST" "$before_md"

# The goal of issue 9 at the largest scale, read off the table rather than asserted.
goal_md=$(awk -F'\t' 'NR > 1 {
        if ($9 > max) { max = $9; slow = $1 }
        if ($15 < 1) low50 = low50 sprintf("%s%s (%.1f)", low50 ? ", " : "", $1, $15)
        if ($16 < 1) low99 = low99 sprintf("%s%s (%.1f)", low99 ? ", " : "", $1, $16) }
    END {
        printf "- p99 of our SQL under 10 ms in every class: %s (largest: %.3f ms, %s).\n",
            max < 10 ? "yes" : "NO", max, slow
        printf "- peer/ours p50 at least 1 in every class: %s.\n", low50 ? "no, below 1: " low50 : "yes"
        printf "- peer/ours p99 at least 1 in every class: %s.\n", low99 ? "no, below 1: " low99 : "yes" }' \
    "$W/answer-$LAST.tsv")
printf '\ngoal at scale %s\n%s\n' "$LAST" "$goal_md"

# ==== bench/results.md ====

{
    echo "# vabot benchmark results"
    echo
    echo "Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d), in $(( $(date +%s) - STARTED )) s."
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, shared with other work;" \
        "PostgreSQL $($PSQL -c 'SHOW server_version' | cut -d' ' -f1) with its default settings" \
        "(shared_buffers $($PSQL -c 'SHOW shared_buffers'), work_mem $($PSQL -c 'SHOW work_mem')), on a unix socket."
    echo "Data: $SOURCE. Times are milliseconds unless a column says otherwise."
    echo
    echo "## The goal at scale $LAST"
    echo
    echo "$goal_md"
    echo
    echo "Where peers' SQL has the very shape of ours (a creator and a threshold, a creator and a"
    echo "publication range, negative deltas, distinct creators over a threshold, max likes), it also"
    echo "uses the same indexes: there the ratio is about 1 by construction, ours keeps only the edge"
    echo "of a prepared statement (*unnamed* shows the rest), and a p99 below 1 is the noise of a"
    echo "shared 2-CPU machine on 0.1 ms queries."
    echo
    echo "## The rule path"
    echo
    echo "bench/bench_rules: every question of tests/grammar/*.tsv (text -> tokens -> tags ->"
    echo "fragments -> spec -> validator -> SQL, no database), 20 rounds, one thread, timed one by one."
    echo
    echo '```'
    echo "$rules_out"
    echo '```'
    echo
    echo "## Ingest"
    echo
    echo "The same rows: \`vabot db load FILE\` (streams the JSON, COPY into bare tables, builds keys,"
    echo "indexes and rollups, ANALYZE, one transaction) against \`psql \\copy\` of the rows as CSV made"
    echo "beforehand (not timed) into the indexed tables, TRUNCATE and both COPYs in one transaction."
    echo "MB/s are of the JSON file. Peak RSS is the client's (GNU time), not the server's."
    echo
    echo "$load_md"
    echo
    echo "## Answering, per query class"
    echo
    echo "One question of every class (bench/classes.tsv). *rule*: the rule path, text to SQL without"
    echo "a database. *ours*: our SQL for the class's reference spec as the answerer runs it (a prepared"
    echo "statement on the reader connection, custom plans). *unnamed*: the same SQL sent unnamed and"
    echo "parsed every time. *peer*: the SQL peers commonly write for the question, values inline,"
    echo "sent unnamed as their drivers do. All on one connection, taking turns, client-side wall"
    echo "time of one execution. The peer's SQL stops once it has used $BUDGET ms (*runs ours/peer*)."
    echo "*grammar*: whether the rule path made exactly the reference SQL from the question."
    for scale in $SCALES; do
        echo
        echo "### Scale $scale"
        echo
        cat "$W/answer-$scale.md"
    done
    echo
    echo "## Before and after, scale $LAST"
    echo
    echo "*before*: our SQL without the rollups, with the indexes of before, sent unnamed as the answerer"
    echo "did then; *after*: the *ours* column above. Same data, same run. One part of this work stays in"
    echo "*before*: the publication bound of the raw SQL (bench/choices.md); without it the first hours after"
    echo "publication took 432 ms."
    echo
    echo "$before_md"
    echo
    echo "## End to end, scale $LAST"
    echo
    echo "The questions of bench/classes.tsv in turn, without the LLM. Latency through the bot is from"
    echo "just before the message is injected into the fake to the moment the bot's sendMessage"
    echo "reaches it (bench/e2e.js); the bot runs its default 4 workers."
    echo
    echo "$e2e_md"
    echo
    echo "## Memory of \`vabot serve\`, scale $LAST"
    echo
    echo "$mem_md"
    echo
    echo "## Query plans, scale $LAST"
    echo
    echo "EXPLAIN ANALYZE of our SQL for each class (the values are those of bench/classes.tsv)."
    echo
    cat "$W/explain.md"
    echo
    cat "$ROOT/bench/choices.md"
} >"$RESULTS"
echo "bench: wrote $RESULTS in $(( $(date +%s) - STARTED )) s" >&2
