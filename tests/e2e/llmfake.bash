# llmfake.bash: helpers of the LLM end-to-end scripts (sourced after lib.sh and t_init).
#   fake_up              starts fake-http.js; exports OPENAI_BASE_URL, OPENAI_API_KEY
#                        and short timeouts
#   push JSON            queues one reply (see fake-http.js)
#   fake_reset           forgets replies and requests
#   fake_q EXPR          evaluates a JS expression over `log` (the requests seen)
#   fake_n               how many requests the fake has seen
#   mkspec PARTIAL       a full spec (every key of sql/spec.schema.json) from a partial
#                        one: supported true and everything not given null or empty
#   spec_reply SPEC      a reply whose message content is SPEC (a chat completion)
#   content_reply TEXT   the same for any text
#   no_secret NAME       the key is in neither $T/out nor $T/err
#   declines NAME Q      the grammar alone (--no-llm) does not understand Q, so asking
#                        it with a key reaches the LLM
# SPEC is a valid spec; KEY is the fake API key.

KEY=sk-vabot-test-0123456789abcdefSECRET
SPEC='{"supported":true,"reason":null,"table":"videos","aggregation":"count","field":null,"filters":{"creator_ids":[],"creator_prefix":null,"video_ids":[],"published_from":"2025-12-02T00:00:00Z","published_to":"2025-12-03T00:00:00Z","measured_from":null,"measured_to":null,"hours_after_publication":null,"conditions":[]}}'

fake_up() {
    node "$ROOT/tests/e2e/fake-http.js" >"$T/fake.port" 2>"$T/fake.err" &
    t_defer "kill $!"
    for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
    [ -s "$T/fake.port" ] || { echo "fake-http did not start: $(cat "$T/fake.err")" >&2; exit 2; }
    F=http://127.0.0.1:$(cat "$T/fake.port")
    export OPENAI_BASE_URL=$F/v1 OPENAI_API_KEY=$KEY VABOT_HOME=$ROOT
    export VABOT_LLM_TIMEOUT_MS=8000 VABOT_LLM_ATTEMPT_TIMEOUT_MS=3000 VABOT_LLM_RETRY_MAX_MS=2000
    export VABOT_LLM_BREAKER_FAILURES=3
    unset OPENAI_MODEL VABOT_NOW http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
}

push() {
    curl -sS -f -o /dev/null -X POST "$F/__push" -H 'Content-Type: application/json' --data-binary "$1" ||
        { echo "push failed: $1" >&2; exit 2; }
}

fake_reset() {
    curl -sS -f -o /dev/null -X POST "$F/__reset"
}

fake_q() {
    curl -sS "$F/__log" | node -e '
        let s = "";
        process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const r = new Function("log", "return (" + process.argv[1] + ");")(JSON.parse(s));
            console.log(typeof r === "string" ? r : JSON.stringify(r));
        });' "$1"
}

fake_n() {
    fake_q 'log.length'
}

mkspec() {
    node -e 'const p = JSON.parse(process.argv[1]);
        const f = {creator_ids: [], creator_prefix: null, video_ids: [], published_from: null,
                   published_to: null, measured_from: null, measured_to: null,
                   hours_after_publication: null, conditions: []};
        const s = {supported: true, reason: null, table: null, aggregation: null, field: null};
        process.stdout.write(JSON.stringify(Object.assign(s, p, {filters: Object.assign(f, p.filters)})));' "$1"
}

content_reply() {
    node -e 'process.stdout.write(JSON.stringify({status: 200, body: {id: "chatcmpl-fake",
        object: "chat.completion", model: "fake", choices: [{index: 0, finish_reason: "stop",
        message: {role: "assistant", content: process.argv[1], refusal: null}}]}}))' "$1"
}

spec_reply() {
    content_reply "$1"
}

no_secret() {
    if grep -qF -e "$KEY" -e "0123456789abcdefSECRET" "$T/out" "$T/err"; then
        t_fail "$1: the key is never printed" "$(grep -hF -e "$KEY" -e SECRET "$T/out" "$T/err")"
    else
        t_ok "$1: the key is never printed"
    fi
}

declines() {
    before=$(fake_n)
    vabot ask --no-llm --dry-run --explain "$2" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 3 ] && grep -q '^declined: ' "$T/err"; then t_ok "$1: the grammar declines it"; else
        t_fail "$1: the grammar declines it" "exit $rc: $(head -c 300 "$T/out" "$T/err")"
    fi
    t_eq "$1: --no-llm makes no request" "$(fake_n)" "$before"
}
