# tests/tglib.sh: the Telegram side of the bot's end-to-end tests. Source it after
# lib.sh and t_init (a library, not a suite: hence not under e2e/). The test plays the
# users; tests/e2e/tg-fake.js plays Telegram.
#   tg_up                    start tg-fake.js on a free port; exports TELEGRAM_API_URL,
#                            BOT_TOKEN (random) and TG (the fake's base URL)
#   bot_start [VAR=VALUE...] start `vabot serve` (log $BOT_LOG, pid $BOT_PID) and wait
#                            until it serves
#   bot_stop [SIGNAL]        signal the bot (TERM), wait; its exit status is in BOT_RC
#   tg_send CHAT TEXT [TYPE] a text message from user CHAT (TYPE private, or group with a
#                            negative CHAT); prints "UPDATE_ID MESSAGE_ID"
#   tg_inject FIELDS         any message: FIELDS are JSON members besides the token,
#                            e.g. '"chat":{"id":5,"type":"private"},"sticker":true'
#   tg_wait_reply CHAT MID   wait for the bot's reply to message MID; prints the last
#                            message of CHAT (\n and \\ escaped); status 1 if none came
#   ask CHAT TEXT            tg_send + tg_wait_reply: prints the bot's answer
#   tg_messages [CHAT]       the bot's messages, one per line: CHAT<TAB>REPLY_TO<TAB>TEXT
#   tg_events [CHAT]         the bot's sendMessage and sendChatAction calls in the order
#                            they arrived: SEQ<TAB>METHOD<TAB>CHAT<TAB>ACTION or REPLY_TO
#   tg_fault JSON            arm a fault: {"method":..,"count":N,"code":..,"retry_after":..,
#                            "close":true,"delay_ms":..,"html":true,"chat_id":..}
#   wait_log PATTERN [N]     wait until $BOT_LOG has N (default 1) lines matching PATTERN
#   psql_value SQL           one value from the test database
#   answer_text NAME         a reply text of src/answer.c (`static const char NAME[] =`
#                            with the literal alone on the next line), to compare
#                            replies exactly; empty when there is none
# Waits give up after TG_WAIT_S seconds (default 30): a limit for a failure, never a
# speed requirement.

E2E=$ROOT/tests/e2e
TG_WAIT_S=${TG_WAIT_S:-30}
BOT_N=0

# Installs the fakes' node packages when node_modules is missing or older than the lock.
tg_npm() {
    if [ ! -d "$E2E/node_modules" ] || [ "$E2E/package-lock.json" -nt "$E2E/node_modules" ]; then
        npm ci --prefix "$E2E" --no-audit --no-fund >"$T/npm.log" 2>&1 ||
            { cat "$T/npm.log" >&2; echo "tglib: npm ci failed" >&2; exit 2; }
        touch "$E2E/node_modules"
    fi
}

tg_up() {
    tg_npm
    node "$E2E/tg-fake.js" >"$T/tg.out" 2>"$T/tg.err" &
    local pid=$! port= i
    t_defer "kill $pid"
    for i in $(seq 1 $((TG_WAIT_S * 10))); do
        port=$(sed -n 's/^tg-fake listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/tg.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$T/tg.err" >&2; echo "tglib: tg-fake did not start" >&2; exit 2; }
    TG=http://127.0.0.1:$port
    TELEGRAM_API_URL=$TG
    BOT_TOKEN="$RANDOM$RANDOM:TEST-secret-$RANDOM$RANDOM"
    export TELEGRAM_API_URL BOT_TOKEN
}

wait_log() {
    local want=${2:-1} i
    for i in $(seq 1 $((TG_WAIT_S * 10))); do
        [ "$(grep -c -- "$1" "$BOT_LOG" 2>/dev/null)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

bot_start() {
    BOT_N=$((BOT_N + 1))
    BOT_LOG=$T/bot.$BOT_N.log
    env "$@" ${VALGRIND:+valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite} \
        "$VABOT" serve 2>"$BOT_LOG" &
    BOT_PID=$!
    t_defer "kill -9 $BOT_PID"
    wait_log "serving @" || { tail -5 "$BOT_LOG" >&2; echo "tglib: the bot did not start" >&2; }
}

bot_stop() {
    kill -"${1:-TERM}" "$BOT_PID" 2>/dev/null
    wait "$BOT_PID" 2>/dev/null
    BOT_RC=$?
}

tg_json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}

tg_inject() {
    curl -sf -X POST "$TG/test/inject?format=plain" -H 'Content-Type: application/json' \
        --data-binary "{\"token\":\"$BOT_TOKEN\",$1}"
}

tg_send() {
    tg_inject "\"chat\":{\"id\":$1,\"type\":\"${3:-private}\"},\"text\":$(tg_json_str "$2")"
}

tg_wait_reply() {
    curl -sf "$TG/test/messages?format=lines&token=$BOT_TOKEN&chat=$1&reply_to=$2&timeout_ms=$((TG_WAIT_S * 1000))" \
        >"$T/wait.out" || return 1
    tail -n 1 "$T/wait.out" | cut -f 3-
}

ask() {
    local ids
    ids=$(tg_send "$1" "$2") || return 1
    tg_wait_reply "$1" "${ids#* }"
}

tg_messages() {
    curl -sf "$TG/test/messages?format=lines&token=$BOT_TOKEN${1:+&chat=$1}"
}

tg_events() {
    curl -sf "$TG/test/events?token=$BOT_TOKEN${1:+&chat=$1}"
}

tg_fault() {
    curl -sf -o /dev/null -X POST "$TG/test/fault" -H 'Content-Type: application/json' -d "$1"
}

psql_value() {
    psql -X -q -At -d "$DATABASE_URL" -c "$1"
}

answer_text() {
    sed -n "/^static const char $1\[\] =\$/{n;s/^ *\"\(.*\)\";\$/\1/p;}" "$ROOT/src/answer.c"
}
