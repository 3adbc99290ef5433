#!/bin/bash
# The bot under trouble: kill -9 and restarts, Telegram faults (500, 429, closed
# connections, slow answers, 403), PostgreSQL stopped while serving, and a burst of
# 200 messages from 20 chats. After each: every message answered exactly once, in its
# own chat, in order; the token never logged.
. "$(dirname "$0")/../lib.sh"
t_init bot_faults
. "$ROOT/tests/tglib.sh"

t_pg_up
vabot db init >/dev/null 2>&1 || t_fail "db init" "$(vabot db init 2>&1 | tail -1)"
vabot db load "$ROOT/data/videos.sample.json" >/dev/null 2>&1 # for the answers only
tg_up
export VABOT_BACKOFF_MS=50 VABOT_BACKOFF_MAX_MS=400 VABOT_BOT_WORKERS=4 VABOT_CHAT_BURST=100

# send CHAT TEXT: inject and remember the message id in $T/sent.CHAT
send() {
    local ids
    ids=$(tg_send "$1" "$2") || { t_fail "inject" "chat $1"; return 1; }
    echo "${ids#* }" >>"$T/sent.$1"
    LAST_UID=${ids% *} LAST_MID=${ids#* }
}

# exactly_once NAME CHAT...: the bot's messages in each CHAT quote the messages sent
# there, each exactly once and in the order they were sent.
exactly_once() {
    local name=$1 c bad=
    shift
    for c in "$@"; do
        [ "$(tg_messages "$c" | cut -f 2)" = "$(cat "$T/sent.$c")" ] || bad="$bad $c"
    done
    if [ -z "$bad" ]; then t_ok "$name"; else
        t_fail "$name" "chats$bad: sent $(tr '\n' ' ' <"$T/sent.${bad# }"), replies to $(tg_messages "${bad# }" | cut -f 2 | tr '\n' ' ')"
    fi
}

wait_replies() { # CHAT COUNT
    local i
    for i in $(seq 1 $((TG_WAIT_S * 10))); do
        [ "$(tg_messages "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

offset() {
    psql_value "SELECT value FROM bot_state WHERE key = 'offset:666'"
}

bot_start

# ==== kill -9 between messages, then a restart ====
for c in 301 302 303; do send $c "Сколько видео у чата $c?" && tg_wait_reply $c "$LAST_MID" >/dev/null; done
bot_stop KILL
for c in 301 302 303; do send $c "А сколько лайков у чата $c?"; done
bot_start
for c in 301 302 303; do tg_wait_reply $c "$(tail -1 "$T/sent.$c")" >/dev/null; done
for c in 301 302 303; do send $c "/help" && tg_wait_reply $c "$LAST_MID" >/dev/null; done
exactly_once "kill -9 and restart: nothing lost, nothing twice" 301 302 303

# ==== kill -9 while an earlier update is still in progress ====
# Chat 311's reply hangs in Telegram; chat 312's later update is answered meanwhile.
# The offset must stay at 311's update, and 312's must be remembered as handled.
tg_fault '{"method":"sendMessage","chat_id":311,"delay_ms":60000}'
send 311 "Сколько видео?"
slow_uid=$LAST_UID
send 312 "Сколько видео?"
tg_wait_reply 312 "$LAST_MID" >/dev/null
for i in $(seq 1 $((TG_WAIT_S * 10))); do
    [ "$(psql_value "SELECT count(*) FROM bot_done WHERE update_id = $LAST_UID")" = 1 ] && break
    sleep 0.1
done
t_eq "an update handled out of order is recorded" "$(psql_value "SELECT count(*) FROM bot_done WHERE update_id = $LAST_UID")" 1
t_eq "the offset waits for the update in progress" "$(offset)" "$slow_uid"
bot_stop KILL
bot_start
tg_wait_reply 311 "$(cat "$T/sent.311")" >/dev/null
send 312 "/help" && tg_wait_reply 312 "$LAST_MID" >/dev/null
exactly_once "restart with updates done out of order: nothing lost, nothing twice" 311 312

# ==== Telegram faults ====
tg_fault '{"method":"getUpdates","code":500,"count":3}'
send 321 "Сколько видео?" && tg_wait_reply 321 "$LAST_MID" >/dev/null
wait_log "getUpdates failed: 500" 3 && t_ok "getUpdates 500s are retried" || t_fail "getUpdates 500s are retried" "$(grep -c getUpdates "$BOT_LOG")"
tg_fault '{"method":"getUpdates","code":502,"html":true}'
# Two in a row: curl itself retries once when a reused connection dies without an answer.
tg_fault '{"method":"getUpdates","close":true,"count":2}'
tg_fault '{"method":"getUpdates","delay_ms":1500}'
send 321 "Сколько лайков?" && tg_wait_reply 321 "$LAST_MID" >/dev/null
wait_log "getUpdates failed: http 502" && t_ok "an HTML error page is an HTTP error" || t_fail "an HTML error page is an HTTP error" "no log line"
wait_log "getUpdates failed: Empty reply from server" && t_ok "a closed connection is retried" ||
    t_fail "a closed connection is retried" "$(grep getUpdates "$BOT_LOG" | tail -3)"
send 321 "Сколько комментариев?" && tg_wait_reply 321 "$LAST_MID" >/dev/null
tg_fault '{"method":"getUpdates","code":409}'
send 321 "Сколько жалоб?" && tg_wait_reply 321 "$LAST_MID" >/dev/null
wait_log "getUpdates failed: 409 .*(another process polls with this token, or a webhook is set)" &&
    t_ok "409 on getUpdates says why" || t_fail "409 on getUpdates says why" "$(grep 409 "$BOT_LOG")"
tg_fault '{"method":"sendMessage","chat_id":322,"code":429,"retry_after":1}'
send 322 "Сколько видео?" && tg_wait_reply 322 "$LAST_MID" >/dev/null
grep -q "sendMessage failed: 429 Too Many Requests: retry after 1 (chat 322); retry 1 in 1000 ms" "$BOT_LOG" &&
    t_ok "429 waits retry_after" || t_fail "429 waits retry_after" "$(grep 429 "$BOT_LOG")"
tg_fault '{"method":"sendMessage","chat_id":323,"close":true,"count":2}'
tg_fault '{"method":"sendMessage","chat_id":323,"code":500,"count":2}'
send 323 "Сколько видео?" && tg_wait_reply 323 "$LAST_MID" >/dev/null
t_eq "closed connections and 500s on sendMessage are retried" "$(grep -c "(chat 323); retry" "$BOT_LOG")" 3
tg_fault '{"method":"sendMessage","chat_id":323,"delay_ms":2000}'
send 323 "Сколько лайков?" && tg_wait_reply 323 "$LAST_MID" >/dev/null
tg_fault '{"method":"sendMessage","chat_id":324,"code":403}'
tg_send 324 "Сколько видео?" >/dev/null
wait_log "chat 324): reply dropped (the user blocked the bot)" && t_ok "403 drops the reply" || t_fail "403 drops the reply" "no log line"
send 324 "/help" && tg_wait_reply 324 "$LAST_MID" >/dev/null
exactly_once "after Telegram faults: nothing lost, nothing twice" 321 322 323 324
kill -0 "$BOT_PID" 2>/dev/null && t_ok "alive after Telegram faults" || t_fail "alive after Telegram faults" "exited"

# ==== PostgreSQL stopped while serving ====
# A question the grammar answers from the data: a number before the outage, during it
# exactly the answer layer's apology (not a number, not silence), then the number again.
DB_APOLOGY=$(answer_text db_apology)
[ -n "$DB_APOLOGY" ] && t_ok "the database apology is read from src/answer.c" ||
    t_fail "the database apology is read from src/answer.c" "no db_apology there"
Q="Сколько всего видео есть в системе?"
videos=$(psql_value "SELECT count(*) FROM videos")
send 331 "$Q" && t_eq "before the outage: the number" "$(tg_wait_reply 331 "$LAST_MID")" "$videos"
"$ROOT/scripts/pg.sh" stop "$T/db"
send 331 "$Q"
t_eq "PostgreSQL down: the apology" "$(tg_wait_reply 331 "$LAST_MID")" "$DB_APOLOGY"
wait_log "ledger: cannot save offset" && t_ok "the failed write is logged" || t_fail "the failed write is logged" "no log line"
kill -0 "$BOT_PID" 2>/dev/null && t_ok "alive while PostgreSQL is down" || t_fail "alive while PostgreSQL is down" "exited"
"$ROOT/scripts/pg.sh" start "$T/db" >/dev/null
send 331 "$Q"
t_eq "PostgreSQL back: the number again" "$(tg_wait_reply 331 "$LAST_MID")" "$videos"
t_eq "the offset catches up once PostgreSQL is back" "$(offset)" "$((LAST_UID + 1))"
bot_stop TERM
t_eq "SIGTERM exits 0" "$BOT_RC" 0
tg_fault '{"method":"deleteWebhook","code":409}'
bot_start
grep -q "deleteWebhook failed: 409 Injected 409 (going on with polling)" "$BOT_LOG" &&
    t_ok "a failed deleteWebhook is logged, polling goes on" || t_fail "a failed deleteWebhook is logged" "$(head -3 "$BOT_LOG")"
send 331 "/help" && tg_wait_reply 331 "$LAST_MID" >/dev/null
exactly_once "PostgreSQL outage: nothing lost, nothing twice" 331

# ==== A stop during the wait between two attempts ====
# Chat 342's reply gets a 429 asking for 50 s: SIGTERM ends the wait at once, the update
# stays unhandled, and after a restart Telegram delivers it again and it is answered.
tg_fault '{"method":"sendMessage","chat_id":342,"code":429,"retry_after":50}'
send 342 "Сколько видео?"
wait_log "(chat 342); retry 1 in 50000 ms" || t_fail "a 429 of 50 s is waited for" "$(grep 342 "$BOT_LOG")"
kill -TERM "$BOT_PID"
for i in $(seq 1 $((TG_WAIT_S * 10))); do kill -0 "$BOT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BOT_PID" 2>/dev/null && t_fail "SIGTERM ends the wait for a retry" "still running after $TG_WAIT_S s" ||
    t_ok "SIGTERM ends the wait for a retry"
bot_stop TERM
t_eq "stopped during a wait: exit 0" "$BOT_RC" 0
grep -q "(chat 342); stopping: the reply is left for Telegram to deliver again after a restart" "$BOT_LOG" &&
    t_ok "the interrupted reply is logged" || t_fail "the interrupted reply is logged" "$(grep 342 "$BOT_LOG")"
bot_start
tg_wait_reply 342 "$LAST_MID" >/dev/null
exactly_once "a reply cut short by a stop comes after the restart, once" 342

# ==== One reply that cannot go out ====
# Chat 343's reply keeps getting 429s: it is dropped once VABOT_REPLY_MAX_MS has passed.
# Meanwhile 100 updates of other chats fill the window of getUpdates behind it, which
# the log says; once it is dropped, the last of them comes in too, and all are answered.
bot_stop TERM
bot_start VABOT_REPLY_MAX_MS=12000
tg_fault '{"method":"sendMessage","chat_id":343,"code":429,"retry_after":5,"count":3}'
send 343 "Сколько видео?"
slow_uid=$LAST_UID
wait_log "(chat 343); retry 1 in 5000 ms" || t_fail "a 429 of 5 s is waited for" "$(grep 343 "$BOT_LOG")"
many=$(seq 501 510)
for i in $(seq 1 10); do for c in $many; do send "$c" "Сколько видео вышло $i ноября?"; done; done
wait_log "the window of 100 updates from offset $slow_uid is full: update $slow_uid is still in progress" &&
    t_ok "a full window is logged" || t_fail "a full window is logged" "$(grep -c update "$BOT_LOG") update lines"
wait_log "(chat 343): reply dropped: not delivered within VABOT_REPLY_MAX_MS (12000 ms)" &&
    t_ok "a reply that cannot go out in time is dropped" || t_fail "a reply that cannot go out in time is dropped" "$(grep 343 "$BOT_LOG")"
for c in $many; do wait_replies "$c" 10; done
# shellcheck disable=SC2086
exactly_once "behind a dropped reply: the other chats answered once each, in order" $many
t_eq "the dropped reply never reached chat 343" "$(tg_messages 343 | wc -l)" 0
bot_stop TERM
[ "$(offset)" -gt "$slow_uid" ] && t_ok "the offset moved past the dropped reply" ||
    t_fail "the offset moved past the dropped reply" "offset $(offset), the reply's update $slow_uid"
bot_start

# ==== Burst: 200 messages from 20 chats ====
chats=$(seq 401 420)
for i in $(seq 1 10); do
    for c in $chats; do send "$c" "Сколько видео набрал креатор номер $i?"; done
done
total() { for c in $chats; do tg_messages "$c"; done | wc -l; }
for i in $(seq 1 $((TG_WAIT_S * 10))); do [ "$(total)" -ge 200 ] && break; sleep 0.1; done
bot_stop TERM
t_eq "burst: SIGTERM exits 0" "$BOT_RC" 0
t_eq "burst: exactly 200 replies" "$(total)" 200
# shellcheck disable=SC2086
exactly_once "burst: each reply in its own chat, in order, once" $chats

grep -qF "$BOT_TOKEN" "$T"/bot.*.log && t_fail "the token never reaches the log" "it does" ||
    t_ok "the token never reaches the log"
t_done
