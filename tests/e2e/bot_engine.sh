#!/bin/bash
# The bot on the real engine and the calibrated dataset, through tg-fake.js:
#   - both public checkers' runs, asked as the checkers ask them: in order, about a
#     second apart, one chat per run, each reply read as the last message of the chat;
#   - the same with the LLM rate-limited (429 to everything), plus the polite reply to
#     a question the grammar does not understand;
#   - a slow LLM call in one chat while other chats get grammar answers, with "typing"
#     kept up in the slow chat until its reply, and never after it;
#   - a sendChatAction that hangs must not cost the answer.
# Questions and expected numbers come from tests/data/facts.tsv; the backend apology
# is read from src/answer.c. The fake OpenAI is fake-http.js (llmfake.bash).
. "$(dirname "$0")/../lib.sh"
t_init bot_engine
. "$ROOT/tests/tglib.sh"
. "$ROOT/tests/e2e/llmfake.bash"

t_calibrated_db
tg_up
fake_up
# The data ends on 1 Dec 2025: "now" just after it, as when the checkers ran.
export VABOT_NOW=2025-12-01T12:00:00Z VABOT_BACKOFF_MS=50 VABOT_BACKOFF_MAX_MS=400

declare -A fact_q fact_want
DECLINE=
while IFS=$'\t' read -r id question expected _ grammar; do
    case $id in '' | '#'*) continue ;; esac
    fact_q[$id]=$question
    fact_want[$id]=$expected
    [ "$grammar" = decline ] && [ -z "$DECLINE" ] && DECLINE=$id
done <"$ROOT/tests/data/facts.tsv"
RLT="rlt1 rlt2 rlt3 rlt4 rlt5 rlt6 rlt7"
PPS="pps1 pps2 pps3 pps4 pps5 pps6 pps7 pps8"
for id in $RLT $PPS $DECLINE; do
    [ -n "${fact_q[$id]}" ] || { t_fail "facts.tsv has $id" "missing"; t_done; exit; }
done
[ -n "$DECLINE" ] || { t_fail "facts.tsv has a question the grammar declines" "none"; t_done; exit; }

LLM_APOLOGY=$(answer_text llm_apology)
[ -n "$LLM_APOLOGY" ] && t_ok "the LLM apology is read from src/answer.c" ||
    t_fail "the LLM apology is read from src/answer.c" "no llm_apology there"

# A spec counting every video, as the model would send it (every key present).
ALL_VIDEOS='{"supported":true,"reason":null,"table":"videos","aggregation":"count","field":null,"filters":{"creator_ids":[],"creator_prefix":null,"video_ids":[],"published_from":null,"published_to":null,"measured_from":null,"measured_to":null,"hours_after_publication":null,"conditions":[]}}'
ALL_WANT=${fact_want[pps3]} # "Сколько всего видео есть в системе?"

# wait_for CMD...: until CMD succeeds, for at most TG_WAIT_S seconds.
wait_for() {
    local i
    for i in $(seq 1 $((TG_WAIT_S * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

llm_requests() { fake_q 'log.length'; }
llm_requests_at_least() { [ "$(llm_requests)" -ge "$1" ]; }
typing_count() { tg_events "$1" | awk -F'\t' '$2 == "sendChatAction" && $4 == "typing"' | wc -l; }
typing_at_least() { [ "$(typing_count "$1")" -ge "$2" ]; }
# seq of the bot's (first) reply in CHAT in the fake's event log; "none" when none
reply_seq() { tg_events "$1" | awk -F'\t' '$2 == "sendMessage" { s = $1; exit } END { print s ? s : "none" }'; }

# checker NAME CHAT ID...: asks the facts ID... in CHAT, in order and about a second
# apart. Each reply is read as the last message of the chat once the bot has replied
# to that question (the wait is a limit for a failure, not a pace), and must be the
# expected number exactly, quoting its question.
checker() {
    local name=$1 chat=$2 id ids n=0
    shift 2
    for id in "$@"; do
        [ $n -gt 0 ] && sleep 1
        n=$((n + 1))
        ids=$(tg_send "$chat" "${fact_q[$id]}") || { t_fail "$name $id" "inject failed"; continue; }
        tg_wait_reply "$chat" "${ids#* }" >/dev/null
        t_eq "$name $id" "$(tg_messages "$chat" | tail -n 1)" "$chat	${ids#* }	${fact_want[$id]}"
    done
    t_eq "$name: one message per question" "$(tg_messages "$chat" | wc -l)" "$n"
    t_eq "$name: every answer by the grammar" "$(grep -c "chat $chat: answered by grammar" "$BOT_LOG")" "$n"
}

# ==== Both checkers' runs, LLM configured but never needed ====
# The fake OpenAI answers 500 to anything not scripted: a checker question that
# reached it would come back wrong.
bot_start
checker "checker 1" 501 $RLT
checker "checker 2" 502 $PPS
t_eq "checker runs: the LLM was never asked" "$(llm_requests)" 0

# ==== The LLM rate-limited ====
fake_reset
RATE='{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
curl -sS -f -o /dev/null -X POST "$F/__default" -H 'Content-Type: application/json' \
    --data-binary "{\"status\":429,\"headers\":{\"retry-after\":\"1\"},\"body\":$RATE}"
t_eq "rate-limited: a question the grammar declines gets the apology" "$(ask 511 "${fact_q[$DECLINE]}")" "$LLM_APOLOGY"
asked=$(llm_requests)
[ "$asked" -ge 1 ] && t_ok "rate-limited: the LLM was asked and said 429" ||
    t_fail "rate-limited: the LLM was asked and said 429" "no request"
grep -q "llm: http 429 rate_limit_exceeded" "$BOT_LOG" && t_ok "rate-limited: the 429 is logged" ||
    t_fail "rate-limited: the 429 is logged" "$(grep llm: "$BOT_LOG" | tail -2)"
checker "rate-limited checker 1" 512 $RLT
checker "rate-limited checker 2" 513 $PPS
t_eq "rate-limited: no checker question waited for the LLM" "$(llm_requests)" "$asked"
t_eq "rate-limited: asked again, the apology again" "$(ask 511 "${fact_q[$DECLINE]}")" "$LLM_APOLOGY"
bot_stop TERM
t_eq "rate-limited: SIGTERM exits 0" "$BOT_RC" 0

# ==== A slow LLM call in one chat, grammar answers in others ====
# A fresh bot (the circuit breaker opened above) with room for a long LLM call: the
# fake holds the model's reply until the test releases it.
fake_reset
bot_start VABOT_LLM_TIMEOUT_MS=12000 VABOT_LLM_ATTEMPT_TIMEOUT_MS=12000
push "$(spec_reply "$ALL_VIDEOS" | sed 's/^{/{"hold":true,/')"
S=521
slow=$(tg_send $S "${fact_q[$DECLINE]}")
wait_for llm_requests_at_least 1 && t_ok "slow: the LLM call is in flight" ||
    t_fail "slow: the LLM call is in flight" "no request reached the fake"
others="522:pps1 523:rlt4 524:pps6"
for o in $others; do mids[${o%%:*}]=$(tg_send "${o%%:*}" "${fact_q[${o#*:}]}"); done
for o in $others; do
    c=${o%%:*}
    t_eq "slow: chat $c answered meanwhile" "$(tg_wait_reply "$c" "${mids[c]#* }")" "${fact_want[${o#*:}]}"
done
t_eq "slow: the slow chat is still waiting" "$(tg_messages $S | wc -l)" 0
wait_for typing_at_least $S 1 && t_ok "slow: the slow chat sees typing" ||
    t_fail "slow: the slow chat sees typing" "no sendChatAction"
# Telegram drops the indicator after five seconds: it must be renewed while waiting.
wait_for typing_at_least $S 2 && t_ok "slow: typing is renewed while waiting" ||
    t_fail "slow: typing is renewed while waiting" "$(typing_count $S) sendChatAction"
t_eq "slow: still waiting after the renewal" "$(tg_messages $S | wc -l)" 0
curl -sS -f -o /dev/null -X POST "$F/__release"
t_eq "slow: the slow chat gets its number" "$(tg_wait_reply $S "${slow#* }")" "$ALL_WANT"
t_eq "slow: answered by the LLM" "$(grep -c "chat $S: answered by llm" "$BOT_LOG")" 1
t_eq "slow: one LLM request" "$(llm_requests)" 1
order="$(reply_seq $S)"
for o in $others; do order="$order $(reply_seq "${o%%:*}")"; done
late=$(echo "$order" | awk '{ for (i = 2; i <= NF; i++) if ($i == "none" || $i + 0 >= $1 + 0) print $i }')
t_eq "slow: every other chat was answered before the slow one" "$late" ""
t_eq "slow: grammar answers show no typing" "$(for o in $others; do typing_count "${o%%:*}"; done | sort -u)" 0

# ==== A sendChatAction that hangs ====
# The LLM's time budget runs from its hook on: an indicator the bot waited for would
# eat it. The model answers at once; the indicator hangs longer than the whole budget.
S2=531
Q2="Сколько видео снял мой кот?"
t_status "the second question is one the grammar declines" 3 vabot ask --no-llm "$Q2"
fake_reset
push "$(spec_reply "$ALL_VIDEOS")"
tg_fault "{\"method\":\"sendChatAction\",\"chat_id\":$S2,\"delay_ms\":60000}"
t_eq "hung typing: the answer is still the number" "$(ask $S2 "$Q2")" "$ALL_WANT"
grep -q "sendChatAction failed: .* (chat $S2) (typing indicator skipped)" "$BOT_LOG" &&
    t_ok "hung typing: logged and skipped" || t_fail "hung typing: logged and skipped" "$(grep -i typing "$BOT_LOG")"

bot_stop TERM
t_eq "SIGTERM exits 0" "$BOT_RC" 0
after=$(tg_events $S | awk -F'\t' -v r="$(reply_seq $S)" '$2 == "sendChatAction" && $1 > r' | wc -l)
t_eq "slow: no typing after the reply" "$after" 0

# ==== Secrets ====
grep -qF "$BOT_TOKEN" "$T"/bot.*.log && t_fail "the token never reaches the log" "it does" ||
    t_ok "the token never reaches the log"
grep -qF -e "$KEY" -e "0123456789abcdefSECRET" "$T"/bot.*.log && t_fail "the API key never reaches the log" "it does" ||
    t_ok "the API key never reaches the log"
t_done
