#!/bin/bash
# The LLM fallback of `vabot ask --dry-run` against a scripted fake OpenAI (fake-http.js):
# request shape, the shared validator on the model's answers, repair, retries, time
# bound, secrets. No database: --dry-run prints the spec, the SQL and its parameters.
. "$(dirname "$0")/../lib.sh"
t_init llm
. "$ROOT/tests/e2e/llmfake.bash"
fake_up

# A question the grammar does not understand, with a quote and a line break that must
# reach the model exactly; and one it does understand.
Q='Сколько видео вышло в "день рождения"
Пушкина?'
GQ='Сколько видео вышло 2 декабря 2025?'
NOW=2025-12-03T08:30:00Z
printf '%s' "$SPEC" >"$T/spec.json"
vabot spec check "$T/spec.json" >"$T/spec.out" 2>&1 || { t_fail "spec check" "$(cat "$T/spec.out")"; t_done; exit; }

declines "the LLM question" "$Q"

# ---- success: the request carries everything; the spec goes through the validator
# and the generator, and comes out as `vabot spec check` prints the same spec
push "$(spec_reply "$SPEC")"
t_status "success exits 0" 0 vabot ask --dry-run --now $NOW "$Q"
t_eq "success prints spec, SQL and params" "$(cat "$T/out")" "$(cat "$T/spec.out")"
t_eq "one request" "$(fake_n)" 1
t_eq "path" "$(fake_q 'log[0].path')" /v1/chat/completions
t_eq "bearer key" "$(fake_q 'log[0].headers.authorization')" "Bearer $KEY"
t_eq "model" "$(fake_q 'JSON.parse(log[0].body).model')" gpt-4o-mini
t_eq "temperature 0" "$(fake_q 'JSON.parse(log[0].body).temperature')" 0
t_eq "strict json_schema" "$(fake_q 'JSON.stringify([JSON.parse(log[0].body).response_format.type,
    JSON.parse(log[0].body).response_format.json_schema.name, JSON.parse(log[0].body).response_format.json_schema.strict])')" \
    '["json_schema","query_spec",true]'
t_eq "schema embedded" "$(fake_q 'JSON.stringify(JSON.parse(log[0].body).response_format.json_schema.schema.required)')" \
    '["supported","reason","table","aggregation","field","filters"]'
t_eq "question sent exactly" "$(fake_q 'JSON.parse(log[0].body).messages[1].content')" "$Q"
t_eq "system prompt has today" "$(fake_q '/Today is 2025-12-03 \(Wednesday\)/.test(JSON.parse(log[0].body).messages[0].content)')" true
t_eq "two messages" "$(fake_q 'JSON.parse(log[0].body).messages.map(m => m.role).join()')" system,user
no_secret "success"

# Users name dates in VABOT_TZ: the model is told the zone, and today and now there.
fake_reset
push "$(spec_reply "$SPEC")"
VABOT_TZ=Europe/Moscow t_status "VABOT_TZ on the LLM path" 0 vabot ask --dry-run --now 2025-12-03T22:30:00Z "$Q"
t_eq "the prompt gives the users' zone, today and now" "$(fake_q '((p) => [/time zone is Europe\/Moscow \(UTC\+03:00 now/.test(p),
     /Today is 2025-12-04 \(Thursday\) there, and the local time now is 2025-12-04T01:30:00\+03:00\./.test(p),
     /convert each bound to UTC/.test(p)].join())(JSON.parse(log[0].body).messages[0].content)')" true,true,true

fake_reset
push "$(spec_reply "$SPEC")"
t_status "--json on the LLM path" 0 vabot ask --dry-run --json --now $NOW "$Q"
t_eq "--json names the source llm" "$(node -e 'const r = JSON.parse(process.argv[1]); console.log(r.status + " " + r.source)' "$(cat "$T/out")")" "ok llm"

fake_reset
push "$(spec_reply "$SPEC")"
OPENAI_MODEL=gpt-test-model t_status "model from OPENAI_MODEL" 0 vabot ask --dry-run "$Q"
t_eq "model from OPENAI_MODEL is sent" "$(fake_q 'JSON.parse(log[0].body).model')" gpt-test-model

# ---- what the grammar understands never reaches the model
fake_reset
push "$(spec_reply "$SPEC")"
t_status "a grammar question with a key" 0 vabot ask --dry-run --json --now $NOW "$GQ"
t_eq "a grammar question: no request" "$(fake_n)" 0
grep -q '"source":"grammar"' "$T/out" && t_ok "a grammar question: source grammar" ||
    t_fail "a grammar question: source grammar" "$(cat "$T/out")"

# ---- the model's answer is unusable: one repair attempt, then "not understood" (3)
fake_reset
push "$(content_reply '{"supported":true, "table":')"
push "$(content_reply 'SELECT count(*) FROM videos')"
t_status "content not JSON is not understood" 3 vabot ask --dry-run "$Q"
t_eq "content not JSON: one repair" "$(fake_n)" 2
t_eq "content not JSON: nothing on stdout" "$(cat "$T/out")" ""
t_eq "repair sends the bad answer back" "$(fake_q 'JSON.parse(log[1].body).messages.map(m => m.role).join()')" \
    system,user,assistant,user
t_eq "repair says why" "$(fake_q '/not a JSON object/.test(JSON.parse(log[1].body).messages[3].content)')" true
grep -q "^llm: not understood" "$T/err" && t_ok "not understood is logged" || t_fail "not understood is logged" "$(cat "$T/err")"
grep -q "^Не понял вопрос" "$T/err" && t_ok "not understood: the user is told" || t_fail "not understood: the user is told" "$(cat "$T/err")"

fake_reset
push "$(spec_reply "$(mkspec '{"table":"videos","aggregation":"count","filters":{"conditions":[{"field":"views_count","op":"gt","value":10}]}}')")"
push "$(spec_reply "$SPEC")"
t_status "a schema-violating spec is repaired" 0 vabot ask --dry-run --now $NOW "$Q"
t_eq "repair carries the validator's reason" \
    "$(fake_q 'JSON.parse(log[1].body).messages[3].content.includes("filters.conditions[0].op: unknown value")')" true
t_eq "repaired spec printed" "$(cat "$T/out")" "$(cat "$T/spec.out")"

# Each of these is rejected by the validator twice: exit 3, nothing printed.
reject() { # NAME SPEC-TEXT WHY-SUBSTRING
    fake_reset
    push "$(spec_reply "$2")"
    push "$(spec_reply "$2")"
    t_status "$1: not understood" 3 vabot ask --dry-run --now $NOW "$Q"
    t_eq "$1: two requests" "$(fake_n)" 2
    t_eq "$1: nothing on stdout" "$(cat "$T/out")" ""
    grep -qF -- "$3" "$T/err" && t_ok "$1: the reason is logged" || t_fail "$1: the reason is logged" "$(cat "$T/err")"
}
reject "another table" "${SPEC/\"table\":\"videos\"/\"table\":\"pg_user\"}" 'table: unknown value'
reject "an extra key carrying SQL" "${SPEC/\"filters\":/\"sql\":\"DROP TABLE videos\",\"filters\":}" 'sql: unknown key'
reject "SQL text in an id" "$(mkspec '{"table":"videos","aggregation":"count","filters":{"creator_ids":["x'"'"'; DROP TABLE videos; --"]}}')" \
    'filters.creator_ids[0]: not an id'
reject "an out-of-whitelist field" "$(mkspec '{"table":"videos","aggregation":"sum","field":"password"}')" 'field: unknown value'
reject "a delta on the videos table" "$(mkspec '{"table":"videos","aggregation":"sum","field":"delta_views_count"}')" \
    'field: not a numeric column of videos'
reject "a schema violation" "$(mkspec '{"supported":"yes","table":"videos","aggregation":"count"}')" \
    'supported: expected true or false'

fake_reset
push "$(spec_reply "$(mkspec '{"supported":false,"reason":"ranking"}')")"
t_status "an unsupported spec is exit 3" 3 vabot ask --dry-run "$Q"
t_eq "an unsupported spec: nothing on stdout" "$(cat "$T/out")" ""
grep -q "Рейтинги" "$T/err" && t_ok "an unsupported spec: the reason is told" || t_fail "an unsupported spec: the reason is told" "$(cat "$T/err")"

fake_reset
push '{"body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I cannot help with that."}}]}}'
push '{"body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I cannot help with that."}}]}}'
t_status "refusal is not understood" 3 vabot ask --dry-run "$Q"
t_eq "refusal goes back to the model" "$(fake_q 'JSON.parse(log[1].body).messages[2].content')" "I cannot help with that."
fake_reset
push '{"body":{"choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"{\"supported\":tr"}}]}}'
push '{"body":{"choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"{\"supported\":tr"}}]}}'
t_status "finish_reason length is not understood" 3 vabot ask --dry-run "$Q"

# ---- a body that is not a chat completion is a backend failure (4), not retried
fake_reset
push '{"body":"{\"choices\":[{\"index\":0,"}'
t_status "invalid JSON body is exit 4" 4 vabot ask --dry-run "$Q"
t_eq "invalid JSON body: no retry" "$(fake_n)" 1
grep -q "^Сейчас могу ответить только на стандартные вопросы" "$T/err" && t_ok "LLM down: the user is told" ||
    t_fail "LLM down: the user is told" "$(cat "$T/err")"

# ---- retries
RATE='{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"1\"},\"body\":$RATE}"
push "$(spec_reply "$SPEC")"
t_status "429 then success" 0 vabot ask --dry-run --now $NOW "$Q"
t_eq "429 then success: the spec" "$(cat "$T/out")" "$(cat "$T/spec.out")"
t_eq "429: exactly one retry" "$(fake_n)" 2
t_eq "429: the retry waited retry-after" "$(fake_q 'log[1].at_ms - log[0].at_ms >= 950')" true

fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"30\",\"retry-after-ms\":\"300\"},\"body\":$RATE}"
push "{\"status\":429,\"headers\":{\"retry-after-ms\":\"300\"},\"body\":$RATE}"
t_status "429 twice is exit 4" 4 vabot ask --dry-run "$Q"
t_eq "retry-after-ms wins, one retry only" "$(fake_n)" 2
t_eq "retry-after-ms honoured" "$(fake_q 'log[1].at_ms - log[0].at_ms >= 280')" true

fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"60\"},\"body\":$RATE}"
t_status "429 asking too long a wait" 4 vabot ask --dry-run "$Q"
t_eq "too long a wait: no retry" "$(fake_n)" 1

fake_reset
push '{"status":429,"body":{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}}'
t_status "insufficient_quota is exit 4" 4 vabot ask --dry-run "$Q"
t_eq "insufficient_quota: no retry" "$(fake_n)" 1
grep -q "http 429 insufficient_quota" "$T/err" && t_ok "quota logged clearly" || t_fail "quota logged clearly" "$(cat "$T/err")"

for code in 401 403; do
    fake_reset
    push "{\"status\":$code,\"body\":{\"error\":{\"message\":\"Incorrect API key provided: $KEY. You can find your API key at https://example.invalid.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}}"
    t_status "$code is exit 4" 4 vabot ask --dry-run "$Q"
    t_eq "$code: no retry" "$(fake_n)" 1
    grep -q "http $code invalid_api_key" "$T/err" && t_ok "$code logged" || t_fail "$code logged" "$(cat "$T/err")"
    no_secret "$code"
done

fake_reset
push '{"status":500,"body":"<html>Internal Server Error</html>"}'
push "$(spec_reply "$SPEC")"
t_status "500 then success" 0 vabot ask --dry-run "$Q"
t_eq "500: one retry" "$(fake_n)" 2
fake_reset
push '{"status":502,"body":"<html>Bad Gateway</html>"}'
push '{"status":503,"body":{"error":{"message":"overloaded","type":"server_error","code":null}}}'
t_status "5xx twice is exit 4" 4 vabot ask --dry-run "$Q"
t_eq "5xx: one retry only" "$(fake_n)" 2

fake_reset
push '{"close":true}'
push '{"close":true}'
t_status "closed connection is exit 4" 4 vabot ask --dry-run "$Q"
t_eq "closed connection: one retry" "$(fake_n)" 2

# ---- a reply that never comes: the whole call ends within VABOT_LLM_TIMEOUT_MS
fake_reset
push '{"hang":true}'
push '{"hang":true}'
push '{"hang":true}'
VABOT_LLM_TIMEOUT_MS=2500 VABOT_LLM_ATTEMPT_TIMEOUT_MS=1000 \
    t_status "no reply is exit 4, not a hang" 4 timeout 60 "$VABOT" ask --dry-run "$Q"
n=$(fake_n)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] && t_ok "no reply: at most one retry" || t_fail "no reply: at most one retry" "$n requests"
grep -qi "timeout\|timed out" "$T/err" && t_ok "timeout logged" || t_fail "timeout logged" "$(cat "$T/err")"

# ---- no key, or --no-llm: not understood, and no network at all
fake_reset
push "$(spec_reply "$SPEC")"
OPENAI_API_KEY= t_status "empty key is not understood" 3 vabot ask --dry-run "$Q"
t_eq "empty key: no request" "$(fake_n)" 0
(unset OPENAI_API_KEY; t_status "unset key is not understood" 3 vabot ask --dry-run "$Q")
t_eq "unset key: no request" "$(fake_n)" 0
t_status "--no-llm is not understood" 3 vabot ask --no-llm --dry-run "$Q"
t_eq "--no-llm: no request" "$(fake_n)" 0

# ---- a server that is not there
OPENAI_BASE_URL=http://127.0.0.1:1/v1 t_status "unreachable server is exit 4" 4 vabot ask --dry-run "$Q"
no_secret "everything"

t_done
