#!/bin/bash
# The LLM client against a scripted fake OpenAI (fake-http.js): request shape, reply
# parsing, repair, retries, time bound, circuit breaker, secrets. No database.
. "$(dirname "$0")/../lib.sh"
t_init llm
. "$ROOT/tests/e2e/llmfake.bash"
fake_up

Q='Сколько "роликов"
вышло вчера?'
NOW=2025-12-03T08:30:00Z

# ---- success: the request carries everything, the spec comes back as is
push "$(spec_reply "$SPEC")"
t_status "success exits 0" 0 vabot llm-probe --now $NOW "$Q"
t_eq "success prints the spec" "$(cat "$T/out")" "$SPEC"
t_eq "one request" "$(fake_q 'log.length')" 1
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

fake_reset
push "$(spec_reply "$SPEC")"
OPENAI_MODEL=gpt-test-model t_status "model from OPENAI_MODEL" 0 vabot llm-probe "$Q"
t_eq "model from OPENAI_MODEL is sent" "$(fake_q 'JSON.parse(log[0].body).model')" gpt-test-model

# ---- the model's answer is unusable: one repair attempt, then "not understood" (3)
fake_reset
push "$(content_reply '{"supported":true, "table":')"
push "$(content_reply 'SELECT count(*) FROM videos')"
t_status "content not JSON is not understood" 3 vabot llm-probe "$Q"
t_eq "content not JSON: one repair" "$(fake_q 'log.length')" 2
t_eq "repair sends the bad answer back" "$(fake_q 'JSON.parse(log[1].body).messages.map(m => m.role).join()')" \
    system,user,assistant,user
t_eq "repair says why" "$(fake_q '/not a JSON object/.test(JSON.parse(log[1].body).messages[3].content)')" true
grep -q "not understood" "$T/err" && t_ok "not understood is logged" || t_fail "not understood is logged" "$(cat "$T/err")"

fake_reset
push "$(spec_reply '{"supported":true,"reason":null,"table":"videos","aggregation":"count","field":null}')"
push "$(spec_reply "$SPEC")"
t_status "a spec without filters is repaired" 0 vabot llm-probe "$Q"
t_eq "repair carries the validator's reason" "$(fake_q '/exactly the keys/.test(JSON.parse(log[1].body).messages[3].content)')" true
t_eq "repaired spec printed" "$(cat "$T/out")" "$SPEC"

fake_reset
BAD_TABLE=${SPEC/\"table\":\"videos\"/\"table\":\"pg_user\"}
push "$(spec_reply "$BAD_TABLE")"
push "$(spec_reply "$BAD_TABLE")"
t_status "another table is rejected" 3 vabot llm-probe "$Q"
t_eq "another table: nothing printed" "$(cat "$T/out")" -
EXTRA=${SPEC/\"filters\":/\"sql\":\"DROP TABLE videos\",\"filters\":}
fake_reset
push "$(spec_reply "$EXTRA")"
push "$(spec_reply "$EXTRA")"
t_status "a field carrying SQL is rejected" 3 vabot llm-probe "$Q"
t_eq "rejected twice, two requests" "$(fake_q 'log.length')" 2

fake_reset
push '{"body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I cannot help with that."}}]}}'
push '{"body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I cannot help with that."}}]}}'
t_status "refusal is not understood" 3 vabot llm-probe "$Q"
t_eq "refusal goes back to the model" "$(fake_q 'JSON.parse(log[1].body).messages[2].content')" "I cannot help with that."
fake_reset
push '{"body":{"choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"{\"supported\":tr"}}]}}'
push '{"body":{"choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"{\"supported\":tr"}}]}}'
t_status "finish_reason length is not understood" 3 vabot llm-probe "$Q"

# ---- a body that is not a chat completion is a backend failure (4), not retried
fake_reset
push '{"body":"{\"choices\":[{\"index\":0,"}'
t_status "invalid JSON body is exit 4" 4 vabot llm-probe "$Q"
t_eq "invalid JSON body: no retry" "$(fake_q 'log.length')" 1

# ---- retries
RATE='{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"1\"},\"body\":$RATE}"
push "$(spec_reply "$SPEC")"
t_status "429 then success" 0 vabot llm-probe "$Q"
t_eq "429: exactly one retry" "$(fake_q 'log.length')" 2
t_eq "429: the retry waited retry-after" "$(fake_q 'log[1].at_ms - log[0].at_ms >= 950')" true

fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"30\",\"retry-after-ms\":\"300\"},\"body\":$RATE}"
push "{\"status\":429,\"headers\":{\"retry-after-ms\":\"300\"},\"body\":$RATE}"
t_status "429 twice is exit 4" 4 vabot llm-probe "$Q"
t_eq "retry-after-ms wins, one retry only" "$(fake_q 'log.length')" 2
t_eq "retry-after-ms honoured" "$(fake_q 'log[1].at_ms - log[0].at_ms >= 280')" true

fake_reset
push "{\"status\":429,\"headers\":{\"retry-after\":\"60\"},\"body\":$RATE}"
t_status "429 asking too long a wait" 4 vabot llm-probe "$Q"
t_eq "too long a wait: no retry" "$(fake_q 'log.length')" 1

fake_reset
push '{"status":429,"body":{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}}'
t_status "insufficient_quota is exit 4" 4 vabot llm-probe "$Q"
t_eq "insufficient_quota: no retry" "$(fake_q 'log.length')" 1
grep -q "http 429 insufficient_quota" "$T/err" && t_ok "quota logged clearly" || t_fail "quota logged clearly" "$(cat "$T/err")"

for code in 401 403; do
    fake_reset
    push "{\"status\":$code,\"body\":{\"error\":{\"message\":\"Incorrect API key provided: $KEY. You can find your API key at https://example.invalid.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}}"
    t_status "$code is exit 4" 4 vabot llm-probe "$Q"
    t_eq "$code: no retry" "$(fake_q 'log.length')" 1
    grep -q "http $code invalid_api_key" "$T/err" && t_ok "$code logged" || t_fail "$code logged" "$(cat "$T/err")"
    no_secret "$code"
done

fake_reset
push '{"status":500,"body":"<html>Internal Server Error</html>"}'
push "$(spec_reply "$SPEC")"
t_status "500 then success" 0 vabot llm-probe "$Q"
t_eq "500: one retry" "$(fake_q 'log.length')" 2
fake_reset
push '{"status":502,"body":"<html>Bad Gateway</html>"}'
push '{"status":503,"body":{"error":{"message":"overloaded","type":"server_error","code":null}}}'
t_status "5xx twice is exit 4" 4 vabot llm-probe "$Q"
t_eq "5xx: one retry only" "$(fake_q 'log.length')" 2

fake_reset
push '{"close":true}'
push '{"close":true}'
t_status "closed connection is exit 4" 4 vabot llm-probe "$Q"
t_eq "closed connection: one retry" "$(fake_q 'log.length')" 2

# ---- a reply that never comes: the whole call ends within VABOT_LLM_TIMEOUT_MS
fake_reset
push '{"hang":true}'
push '{"hang":true}'
push '{"hang":true}'
VABOT_LLM_TIMEOUT_MS=2500 VABOT_LLM_ATTEMPT_TIMEOUT_MS=1000 \
    t_status "no reply is exit 4, not a hang" 4 timeout 60 "$VABOT" llm-probe "$Q"
n=$(fake_q 'log.length')
[ "$n" -ge 1 ] && [ "$n" -le 2 ] && t_ok "no reply: at most one retry" || t_fail "no reply: at most one retry" "$n requests"
grep -qi "timeout\|timed out" "$T/err" && t_ok "timeout logged" || t_fail "timeout logged" "$(cat "$T/err")"

# ---- circuit breaker: after 3 failed calls the fake sees nothing more
fake_reset
for i in 1 2 3 4 5 6; do push '{"status":500,"body":"down"}'; done
push "$(spec_reply "$SPEC")"
t_status "open circuit is exit 4" 4 vabot llm-probe q1 q2 q3 q4 q5
t_eq "open circuit: no request after the 3rd failed call" "$(fake_q 'log.length')" 6
t_eq "open circuit: five failures printed" "$(tr '\n' ' ' <"$T/out")" "- - - - - "
grep -q "circuit open" "$T/err" && t_ok "circuit opening logged" || t_fail "circuit opening logged" "$(cat "$T/err")"
fake_reset
push "$(spec_reply "$SPEC")"
push "$(spec_reply "$SPEC")"
VABOT_LLM_BREAKER_FAILURES=1 t_status "a success keeps the circuit closed" 0 vabot llm-probe q1 q2
t_eq "closed circuit: both asked" "$(fake_q 'log.length')" 2

# ---- no key: disabled, no network at all
fake_reset
push "$(spec_reply "$SPEC")"
OPENAI_API_KEY= t_status "no key is not understood" 3 vabot llm-probe "$Q"
t_eq "no key: no request" "$(fake_q 'log.length')" 0
(unset OPENAI_API_KEY; t_status "unset key is not understood" 3 vabot llm-probe "$Q")
t_eq "unset key: no request" "$(fake_q 'log.length')" 0

# ---- a server that is not there
OPENAI_BASE_URL=http://127.0.0.1:1/v1 t_status "unreachable server is exit 4" 4 vabot llm-probe "$Q"
t_status "llm-probe without a question is a usage error" 2 vabot llm-probe
no_secret "everything"

t_done
