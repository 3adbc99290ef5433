#!/bin/bash
# The spec cache and the query log in PostgreSQL, through `vabot ask` / `vabot chat`
# and the fake OpenAI; `vabot log` and `vabot log --fallbacks`.
. "$(dirname "$0")/../lib.sh"
t_init qlog
. "$ROOT/tests/e2e/llmfake.bash"
fake_up
t_pg_up
t_status "db init" 0 vabot db init
PSQL="psql -X -q -At -d $DATABASE_URL"
DAY1=2025-12-03T08:30:00Z
DAY2=2025-12-04T09:00:00Z
# Questions the grammar declines (checked below), and one it understands.
Q1='Сколько видео вышло в прошлый вторник?'
Q2='Сколько видео вышло с момента основания платформы?'
Q3='Сколько видео вышло за последние полчаса?'
Q4='Как дела?'
GQ='Сколько видео вышло 2 декабря 2025?'
for q in "$Q1" "$Q2" "$Q3" "$Q4"; do declines "$q" "$q"; done
printf '%s' "$SPEC" >"$T/spec.json"
SQL=$(vabot spec check "$T/spec.json" | tail -n 2 | head -n 1)

# ---- a cached spec costs no request, across processes and wordings
push "$(spec_reply "$SPEC")"
t_status "first ask goes to the LLM" 0 vabot ask --now $DAY1 "$Q1"
t_eq "first ask: one request" "$(fake_n)" 1
first=$(cat "$T/out")
t_status "same question, new process" 0 vabot ask --now $DAY1 "  сколько видео ВЫШЛО в прошлый вторник"
t_eq "cache hit: no request" "$(fake_n)" 1
t_eq "cache hit: the same answer" "$(cat "$T/out")" "$first"
t_eq "stored for its day" "$($PSQL -c "SELECT question || '|' || day FROM llm_cache")" \
    "сколько видео вышло в прошлый вторник|2025-12-03"
t_eq "the reader cannot see the cache" \
    "$(psql -X -q -At -d "${DATABASE_URL/user=postgres/user=vabot_reader}" -c 'SELECT 1 FROM llm_cache' 2>&1 | grep -c 'permission denied')" 1

# "в прошлый вторник" may be another day tomorrow: a dated spec is not reused, and old
# days are dropped
push "$(spec_reply "$SPEC")"
t_status "next day asks again" 0 vabot ask --now $DAY2 "$Q1"
t_eq "next day: a request" "$(fake_n)" 2
t_eq "old day dropped" "$($PSQL -c "SELECT string_agg(day, ',') FROM llm_cache")" 2025-12-04

# no time bounds: for ever; bounds inside a day: never stored, not even in memory
FOREVER=${SPEC//\"2025-12-0[23]T00:00:00Z\"/null}
push "$(spec_reply "$FOREVER")"
t_status "a spec without dates" 0 vabot ask --now $DAY1 "$Q2"
t_status "a spec without dates, another day" 0 vabot ask --now $DAY2 "${Q2,,}"
t_eq "no dates: cached for ever" "$(fake_n)" 3
HOURS=${SPEC//T00:00:00Z/T05:30:00Z}
push "$(spec_reply "$HOURS")"
push "$(spec_reply "$HOURS")"
printf '%s\n%s\n' "$Q3" "$Q3" >"$T/chat.in"
VABOT_NOW=$DAY1 t_status "hours inside a day, twice in one chat" 0 vabot chat <"$T/chat.in"
t_eq "hours inside a day: never cached" "$(fake_n)" 5

# ---- the query log: one row per question with the right source
t_status "a grammar question" 0 vabot ask --now $DAY1 "$GQ"
t_eq "a grammar question: no request" "$(fake_n)" 5
push "$(content_reply 'not json')"
push "$(content_reply 'still not json')"
t_status "not understood" 3 vabot ask --now $DAY1 "$Q4"
t_eq "sources in order" "$($PSQL -c "SELECT string_agg(source, ',' ORDER BY id) FROM query_log")" \
    llm,cache,llm,llm,cache,llm,llm,grammar,none
t_eq "the spec is logged" "$($PSQL -c "SELECT bool_and(spec::jsonb = '$SPEC'::jsonb) FROM query_log WHERE question_key LIKE '%вторник'")" t
t_eq "the SQL is logged" "$($PSQL -c "SELECT DISTINCT sql FROM query_log WHERE question_key LIKE '%вторник'")" "$SQL"
t_eq "the answer is logged" "$($PSQL -c "SELECT DISTINCT answer FROM query_log WHERE question_key LIKE '%вторник'")" "$first"
t_eq "not understood: nothing ran" "$($PSQL -c "SELECT count(*) FROM query_log WHERE source = 'none' AND spec IS NULL AND sql IS NULL AND answer IS NULL")" 1
t_eq "the reason is logged" "$($PSQL -c "SELECT error LIKE 'llm: not understood:%' FROM query_log WHERE source = 'none'")" t
t_eq "latencies are logged" "$($PSQL -c "SELECT bool_and(ms_total > 0 AND ms_total >= ms_llm) FROM query_log")" t
t_eq "LLM time is logged" "$($PSQL -c "SELECT bool_and(ms_llm > 0) FROM query_log WHERE source = 'llm'")" t
t_eq "no chat id outside Telegram" "$($PSQL -c "SELECT count(chat_id) FROM query_log")" 0

# what the grammar missed, most frequent first, then the most recent
t_status "log --fallbacks on real questions" 0 vabot log --fallbacks
t_eq "fallbacks: the grammar's question left out" "$(tail -n +2 "$T/out" | cut -f1,3,4 | tr '\t\n' '|;')" \
    "3|cache,llm|$Q1;2|llm|$Q3;2|cache,llm|${Q2,,};1|none|$Q4;"

# ---- a log that cannot be written does not stop the answer
$PSQL -c "CREATE FUNCTION qlog_full() RETURNS trigger LANGUAGE plpgsql AS
          \$\$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END\$\$;
          CREATE TRIGGER qlog_full BEFORE INSERT ON query_log FOR EACH ROW EXECUTE FUNCTION qlog_full()"
t_status "answers with a full log" 0 vabot ask --now $DAY2 "$Q1"
t_eq "full log: the answer is still printed" "$(cat "$T/out")" "$first"
t_eq "full log: one log line" "$(grep -c '^qlog: cannot record the question: .*No space left' "$T/err")" 1
$PSQL -c "DROP TRIGGER qlog_full ON query_log"

# ---- vabot log
t_status "log" 0 vabot log
t_eq "log header" "$(head -1 "$T/out")" "$(printf 'time\tsource\tresult\tms\tchat\tquestion')"
t_eq "log: newest first" "$(sed -n 2p "$T/out" | cut -f2,6)" "$(printf 'none\t%s' "$Q4")"
t_eq "log: the error is shown" "$(sed -n 2p "$T/out" | cut -f3 | grep -c '^error: llm: not understood')" 1
t_status "log --limit 2" 0 vabot log --limit 2
t_eq "log --limit 2: two rows" "$(tail -n +2 "$T/out" | wc -l)" 2
$PSQL -c "UPDATE query_log SET at = now() - interval '3 days' WHERE source = 'cache'"
t_status "log --since 1d" 0 vabot log --since 1d
t_eq "log --since 1d: old rows left out" "$(tail -n +2 "$T/out" | cut -f2 | sort -u | tr '\n' ,)" grammar,llm,none,
t_status "log --since ISO" 0 vabot log --since 2000-01-01T00:00:00Z --limit 100
t_eq "log --since ISO: all rows" "$(tail -n +2 "$T/out" | wc -l)" 9

# ---- vabot log --fallbacks: what the grammar missed, most frequent first
$PSQL -c "TRUNCATE query_log"
ins() { $PSQL -c "INSERT INTO query_log (question, question_key, source, at)
                  VALUES ('$1', '$2', '$3', now() - interval '$4 minutes')"; }
for i in 1 2 3 4 5; do ins 'Сколько видео?' 'сколько видео' grammar $i; done
for i in 1 2 3; do ins 'Топ авторов?' 'топ авторов' llm $i; done
ins 'Погода в Москве' 'погода в москве' none 1
ins 'погода   в МОСКВЕ?' 'погода в москве' cache 2
ins 'Старый вопрос' 'старый вопрос' llm 10
ins 'Новый вопрос' 'новый вопрос' none 0
t_status "log --fallbacks" 0 vabot log --fallbacks
t_eq "fallbacks header" "$(head -1 "$T/out")" "$(printf 'count\tlast\tsources\tquestion')"
t_eq "fallbacks: grammar left out, most frequent first, then most recent" \
    "$(tail -n +2 "$T/out" | cut -f1,3,4 | tr '\t\n' '|;')" \
    "3|llm|Топ авторов?;2|cache,none|Погода в Москве;1|none|Новый вопрос;1|llm|Старый вопрос;"
t_status "log --fallbacks --limit 1" 0 vabot log --fallbacks --limit 1
t_eq "fallbacks --limit 1" "$(tail -n +2 "$T/out" | cut -f1,4)" "$(printf '3\tТоп авторов?')"
$PSQL -c "UPDATE query_log SET at = now() - interval '2 days' WHERE question_key = 'топ авторов'"
t_status "log --fallbacks --since 1d" 0 vabot log --fallbacks --since 1d
t_eq "fallbacks --since 1d" "$(tail -n +2 "$T/out" | cut -f1 | tr '\n' ,)" 2,1,1,

t_status "log --since nonsense is a usage error" 2 vabot log --since yesterday
t_status "log --limit 0 is a usage error" 2 vabot log --limit 0
t_status "log with an unknown option is a usage error" 2 vabot log --all
DATABASE_URL="postgresql://u@127.0.0.1:1/none?connect_timeout=2" \
    t_status "log without a database is exit 4" 4 vabot log

t_done
