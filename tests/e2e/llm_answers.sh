#!/bin/bash
# The LLM fallback end to end (issue 6): `vabot ask` and `vabot chat` with a throwaway
# PostgreSQL holding the calibrated dataset and a scripted fake OpenAI. The expected
# numbers come from psql over the same data, never from this file.
. "$(dirname "$0")/../lib.sh"
t_init llm_answers
. "$ROOT/tests/e2e/llmfake.bash"
fake_up
t_calibrated_db
export VABOT_NOW=2025-12-01T12:00:00Z
PSQL="psql -X -q -At -d $DATABASE_URL"
sql() { $PSQL -c "$1"; }
# The newest query_log row: source | answer | whether a spec and SQL were recorded.
last_row() { sql "SELECT source || '|' || coalesce(answer, '-') || '|' || (spec IS NOT NULL) || '|' ||
                  (sql IS NOT NULL) FROM query_log ORDER BY id DESC LIMIT 1"; }
VIDEOS=$(sql "SELECT count(*) FROM videos")
SNAPSHOTS=$(sql "SELECT count(*) FROM video_snapshots")

QP='Сколько просмотров у видео, вышедших в день рождения Пушкина в 2025 году?'
QB='На сколько выросли просмотры видео креатора aca1061a9d324ecf8c3fa2bb32d7be63 в Чёрную пятницу 2025?'
QA='Сколько видео опубликовал автор, чей id начинается на aca1061a, за месяц, в котором была Чёрная пятница 2025?'
QX='Сколько видео вышло в день рождения Лермонтова?'
QN='Сколько видео вышло в День народного единства?'
QR='Какой из авторов любимец публики?'
QH='Сколько видео вышло в Хэллоуин?'
GQ='Сколько видео вышло в ноябре 2025?'
GQ2='Какое общее количество лайков набрали все видео?'
for q in "$QP" "$QB" "$QA" "$QX" "$QN" "$QR" "$QH"; do declines "$q" "$q"; done
G1=$(sql "SELECT count(*) FROM videos WHERE video_created_at >= '2025-11-01Z' AND video_created_at < '2025-12-01Z'")
G2=$(sql "SELECT sum(likes_count) FROM videos")

# ---- success: the model fills the spec, our generator and the database give the number
ask_llm() { # NAME QUESTION SPEC WANT
    fake_reset
    push "$(spec_reply "$(mkspec "$3")")"
    t_status "$1: exit 0" 0 vabot ask "$2"
    t_eq "$1: the number" "$(cat "$T/out")" "$4"
    t_eq "$1: one request" "$(fake_n)" 1
    t_eq "$1: logged as llm" "$(last_row)" "llm|$4|true|true"
}
want=$(sql "SELECT sum(views_count) FROM videos WHERE video_created_at >= '2025-06-06Z' AND video_created_at < '2025-06-07Z'")
[ -n "$want" ] && [ "$want" != 0 ] && t_ok "the data has a video of 6 June" || t_fail "the data has a video of 6 June" "sum '$want'"
ask_llm "a sum of final totals" "$QP" \
    '{"table":"videos","aggregation":"sum","field":"views_count","filters":{"published_from":"2025-06-06T00:00:00Z","published_to":"2025-06-07T00:00:00Z"}}' \
    "$want"
want=$(sql "SELECT sum(s.delta_views_count) FROM video_snapshots s JOIN videos v ON v.id = s.video_id
            WHERE v.creator_id = 'aca1061a9d324ecf8c3fa2bb32d7be63'
              AND s.created_at >= '2025-11-28Z' AND s.created_at < '2025-11-29Z'")
ask_llm "growth of one creator's videos" "$QB" \
    '{"table":"video_snapshots","aggregation":"sum","field":"delta_views_count","filters":{"creator_ids":["aca1061a9d324ecf8c3fa2bb32d7be63"],"measured_from":"2025-11-28T00:00:00Z","measured_to":"2025-11-29T00:00:00Z"}}' \
    "$want"
want=$(sql "SELECT count(*) FROM videos WHERE creator_id LIKE 'aca1061a%'
              AND video_created_at >= '2025-11-01Z' AND video_created_at < '2025-12-01Z'")
ask_llm "a shortened creator id" "$QA" \
    '{"table":"videos","aggregation":"count","filters":{"creator_prefix":"aca1061a","published_from":"2025-11-01T00:00:00Z","published_to":"2025-12-01T00:00:00Z"}}' \
    "$want"

# ---- a cached spec answers in a new process without a request; the data is read fresh
fake_reset
PUSHKIN=$(sql "SELECT answer FROM query_log WHERE question = '$QP'")
t_status "cache hit: exit 0" 0 vabot ask "$QP"
t_eq "cache hit: the same number" "$(cat "$T/out")" "$PUSHKIN"
t_eq "cache hit: no request" "$(fake_n)" 0
t_eq "cache hit: logged as cache" "$(last_row)" "cache|$PUSHKIN|true|true"
sql "UPDATE videos SET views_count = views_count + 1000
     WHERE video_created_at >= '2025-06-06Z' AND video_created_at < '2025-06-07Z'"
t_status "cache hit after a data change" 0 vabot ask "$QP"
t_eq "cache hit: the data is queried fresh" "$(cat "$T/out")" "$((PUSHKIN + 1000))"
sql "UPDATE videos SET views_count = views_count - 1000
     WHERE video_created_at >= '2025-06-06Z' AND video_created_at < '2025-06-07Z'"

# ---- what the grammar understands never reaches the model, and is logged as grammar
fake_reset
t_status "a grammar question with a key" 0 vabot ask "$GQ"
t_eq "a grammar question: the number" "$(cat "$T/out")" "$G1"
t_eq "a grammar question: no request" "$(fake_n)" 0
t_eq "a grammar question: logged as grammar" "$(last_row)" "grammar|$G1|true|true"

# ---- unusable answers: rejected by the shared validator, exit 3, nothing executed
rejected() { # NAME REPLY(a fake reply, given twice: the answer and the repair)
    fake_reset
    push "$2"
    push "$2"
    t_status "$1: exit 3" 3 vabot ask "$QX"
    t_eq "$1: no number" "$(cat "$T/out")" ""
    t_eq "$1: one repair" "$(fake_n)" 2
    t_eq "$1: nothing executed" "$(last_row)" "none|-|false|false"
}
rejected "malformed JSON" "$(content_reply '{"supported":true,"table":"videos","aggregation":"count",')"
rejected "a schema-violating spec" "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"count","filters":{"conditions":[{"field":"views_count","op":">","value":"10 OR 1=1"}]}}')")"
rejected "another table" "$(spec_reply "$(mkspec '{"table":"pg_authid","aggregation":"count"}')")"
rejected "SQL text in a field" "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"count","filters":{"video_ids":["1; DELETE FROM videos"]}}')")"
rejected "SQL text in a time" "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"count","filters":{"published_from":"2025-01-01'"'"'; DROP TABLE videos; --"}}')")"
rejected "an out-of-whitelist field" "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"sum","field":"creator_id"}')")"
rejected "an out-of-whitelist condition" "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"count","filters":{"conditions":[{"field":"id","op":">","value":0}]}}')")"
t_eq "the data is untouched" "$(sql "SELECT count(*) FROM videos") $(sql "SELECT count(*) FROM video_snapshots")" \
    "$VIDEOS $SNAPSHOTS"
t_eq "the reason is logged" "$(sql "SELECT error FROM query_log ORDER BY id DESC LIMIT 1" | grep -c '^llm: not understood: filters.conditions\[0\].field')" 1

fake_reset
push "$(spec_reply "$(mkspec '{"supported":false,"reason":"ranking"}')")"
t_status "an unsupported spec: exit 3" 3 vabot ask "$QR"
t_eq "an unsupported spec: no number" "$(cat "$T/out")" ""
grep -q "^Рейтинги" "$T/err" && t_ok "an unsupported spec: the user is told why" ||
    t_fail "an unsupported spec: the user is told why" "$(cat "$T/err")"
t_eq "an unsupported spec: logged as llm, nothing executed" "$(last_row)" "llm|-|false|false"

# ---- the service fails: retries as documented, exit 4 for "LLM down"
RATE='{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
QUOTA='{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}'
X1=$(sql "SELECT count(*) FROM videos WHERE video_created_at >= '2025-10-15Z' AND video_created_at < '2025-10-16Z'")
# A success caches the spec of QX: each case starts without it.
forget() {
    fake_reset
    sql "DELETE FROM llm_cache WHERE question LIKE '%лермонтова'"
}
XSPEC=$(mkspec '{"table":"videos","aggregation":"count","filters":{"published_from":"2025-10-15T00:00:00Z","published_to":"2025-10-16T00:00:00Z"}}')

forget
push "{\"status\":429,\"headers\":{\"retry-after\":\"1\"},\"body\":$RATE}"
push "$(spec_reply "$XSPEC")"
t_status "429 with retry-after, then a spec: exit 0" 0 vabot ask "$QX"
t_eq "429 with retry-after: the number" "$(cat "$T/out")" "$X1"
t_eq "429 with retry-after: one retry" "$(fake_n)" 2
t_eq "429 with retry-after: the retry waited" "$(fake_q 'log[1].at_ms - log[0].at_ms >= 950')" true

forget
push "{\"status\":429,\"body\":$QUOTA}"
push "$(spec_reply "$XSPEC")"
t_status "429 insufficient_quota: exit 4" 4 vabot ask "$QX"
t_eq "429 insufficient_quota: no retry" "$(fake_n)" 1
t_eq "429 insufficient_quota: no number" "$(cat "$T/out")" ""
t_eq "429 insufficient_quota: logged, nothing executed" "$(last_row)" "none|-|false|false"
t_eq "429 insufficient_quota: the reason is logged" \
    "$(sql "SELECT error FROM query_log ORDER BY id DESC LIMIT 1" | grep -c '^llm: http 429 insufficient_quota')" 1

forget
push '{"status":500,"body":"<html>Internal Server Error</html>"}'
push "$(spec_reply "$XSPEC")"
t_status "500, then a spec: exit 0" 0 vabot ask "$QX"
t_eq "500: one retry, then the number" "$(fake_n) $(cat "$T/out")" "2 $X1"
forget
push '{"status":500,"body":"<html>Internal Server Error</html>"}'
push '{"status":500,"body":"<html>Internal Server Error</html>"}'
push "$(spec_reply "$XSPEC")"
t_status "500 twice: exit 4" 4 vabot ask "$QX"
t_eq "500 twice: one retry only" "$(fake_n)" 2

forget
push '{"hang":true}'
push '{"hang":true}'
push '{"hang":true}'
VABOT_LLM_TIMEOUT_MS=2500 VABOT_LLM_ATTEMPT_TIMEOUT_MS=1000 \
    t_status "a reply that never arrives: exit 4 within the bound" 4 timeout 60 "$VABOT" ask "$QX"
t_eq "a reply that never arrives: no number" "$(cat "$T/out")" ""
grep -q "^Сейчас могу ответить только на стандартные вопросы" "$T/err" &&
    t_ok "a reply that never arrives: the user is told" ||
    t_fail "a reply that never arrives: the user is told" "$(cat "$T/err")"

# ---- one chat process, one circuit breaker: two failed LLM questions open it; then the
# grammar still answers, and the rest get the polite reply without a request
forget # the fake answers 500 to anything not queued
printf '%s\n' "$QX" "$QN" "$GQ" "$QH" "$GQ2" "$QP" >"$T/chat.in"
VABOT_LLM_BREAKER_FAILURES=2 VABOT_LLM_BREAKER_COOLDOWN_MS=600000 \
    t_status "chat through an outage: exit 0" 0 vabot chat <"$T/chat.in"
POLITE='Сейчас могу ответить только на стандартные вопросы: попробуйте спросить проще или позже.'
t_eq "chat: one reply a question" "$(wc -l <"$T/out")" 6
t_eq "chat: the failed LLM questions are told" "$(sed -n 1,2p "$T/out" | sort -u)" "$POLITE"
t_eq "chat: the circuit opened after two failed questions" "$(fake_n)" 4
grep -q "^llm: circuit open" "$T/err" && t_ok "chat: the opening is logged" || t_fail "chat: the opening is logged" "$(cat "$T/err")"
t_eq "chat: the grammar still answers" "$(sed -n 3p "$T/out") $(sed -n 5p "$T/out")" "$G1 $G2"
t_eq "chat: an open circuit gives the polite reply" "$(sed -n 4p "$T/out")" "$POLITE"
t_eq "chat: a cached question still answers" "$(sed -n 6p "$T/out")" "$PUSHKIN"
t_eq "chat: sources in the log" "$(sql "SELECT string_agg(source, ',' ORDER BY id) FROM (SELECT * FROM query_log ORDER BY id DESC LIMIT 6) t")" \
    none,none,grammar,none,grammar,cache
t_eq "chat: the open circuit is logged" "$(sql "SELECT error FROM query_log WHERE question = '$QH'")" \
    "llm: circuit open: not calling for now"

# ---- --no-llm and an empty key never touch the network (not even for a cached question)
fake_reset
push "$(spec_reply "$XSPEC")"
t_status "--no-llm: exit 3" 3 vabot ask --no-llm "$QX"
t_status "--no-llm, a cached question: exit 3" 3 vabot ask --no-llm "$QP"
OPENAI_API_KEY= t_status "empty key: exit 3" 3 vabot ask "$QX"
OPENAI_API_KEY= t_status "empty key, a cached question: exit 3" 3 vabot ask "$QP"
t_eq "empty key, a cached question: logged as none" "$(last_row)" "none|-|false|false"
printf '%s\n' "$QX" "$GQ" >"$T/chat.in"
OPENAI_API_KEY= t_status "empty key: chat" 0 vabot chat <"$T/chat.in"
t_eq "empty key: chat still answers the grammar" "$(sed -n 2p "$T/out")" "$G1"
t_eq "--no-llm and an empty key: no request" "$(fake_n)" 0
no_secret "everything"

t_done
