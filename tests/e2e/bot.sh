#!/bin/bash
# The Telegram bot's behaviour against tg-fake.js: commands, hints, long and empty
# messages, group chats, edits, ALLOWED_CHAT_IDS, the per-chat rate limit, SIGTERM.
. "$(dirname "$0")/../lib.sh"
t_init bot
. "$ROOT/tests/tglib.sh"

t_pg_up
vabot db init >/dev/null 2>&1 || t_fail "db init" "$(vabot db init 2>&1 | tail -1)"
# The data matters to the answers only (the loader has tests of its own); it is here so
# that questions with known numbers can be asked through the bot.
vabot db load "$ROOT/data/videos.sample.json" >/dev/null 2>&1
tg_up
export VABOT_BACKOFF_MS=50 VABOT_BACKOFF_MAX_MS=400

# The reply to message MID must be the only message that quotes it.
replies_to() {
    tg_messages "$1" | awk -F'\t' -v m="$2" '$2 == m' | wc -l
}

t_status "serve without BOT_TOKEN is a usage error" 2 env -u BOT_TOKEN "$VABOT" serve
grep -q "BOT_TOKEN is not set" "$T/err" && t_ok "missing token says so" || t_fail "missing token says so" "$(cat "$T/err")"
BOT_TOKEN="bad/token" t_status "a token that would change the URL is refused" 2 "$VABOT" serve
ALLOWED_CHAT_IDS="12,abc" t_status "a malformed ALLOWED_CHAT_IDS is refused" 2 "$VABOT" serve
for list in "," " " " , "; do
    ALLOWED_CHAT_IDS=$list t_status "ALLOWED_CHAT_IDS=\"$list\" (no id) is refused" 2 "$VABOT" serve
done
grep -q "ALLOWED_CHAT_IDS lists no chat id" "$T/err" && t_ok "an empty ALLOWED_CHAT_IDS says why" ||
    t_fail "an empty ALLOWED_CHAT_IDS says why" "$(cat "$T/err")"
# A token must look like one: "digits:rest"; the error never echoes it.
for tok in "q" "zz" "12345" "abc:defghijklmnop" "1:short" ":abcdefghijkl" "12:abc def ghi jkl"; do
    BOT_TOKEN=$tok t_status "BOT_TOKEN \"$tok\" is refused" 2 "$VABOT" serve
    grep -qF -- "$tok" "$T/err" && t_fail "BOT_TOKEN \"$tok\" is not echoed" "$(cat "$T/err")" ||
        t_ok "BOT_TOKEN \"$tok\" is not echoed"
done
grep -q "does not look like a bot token" "$T/err" && t_ok "a malformed token says why" ||
    t_fail "a malformed token says why" "$(cat "$T/err")"
# What cannot start: data files missing is a failure (1), a DATABASE_URL that does not
# parse a configuration error (2).
VABOT_HOME=$T/nowhere t_status "serve without grammar and lexicon exits 1" 1 "$VABOT" serve
grep -q "cannot start worker 0: lexicon: cannot read" "$T/err" && t_ok "serve says which file is missing" ||
    t_fail "serve says which file is missing" "$(tail -3 "$T/err")"
DATABASE_URL='postgresql://u:p%zzSECRET@127.0.0.1:1/none' t_status "serve with a malformed DATABASE_URL exits 2" 2 "$VABOT" serve

bot_start
kill -0 "$BOT_PID" 2>/dev/null && t_ok "serve starts" || t_fail "serve starts" "$(tail -3 "$BOT_LOG")"

# ==== Commands ====
start=$(ask 101 "/start")
case $start in *"Например"*) t_ok "/start lists examples" ;; *) t_fail "/start lists examples" "$start" ;; esac
t_eq "/help is the same text" "$(ask 101 /help)" "$start"
case $(ask 101 /sql) in *"ещё не было вопроса"*) t_ok "/sql before any question" ;;
    *) t_fail "/sql before any question" "$(tg_messages 101 | tail -1)" ;; esac
q="Сколько всего видео есть в системе?"
reply=$(ask 101 "$q")
[ -n "$reply" ] && t_ok "a question gets a reply" || t_fail "a question gets a reply" "none"
if [[ $reply =~ ^-?[0-9]+$ ]] || [[ $reply == *[а-яА-Я]* ]]; then t_ok "the reply is a number or a sentence"; else
    t_fail "the reply is a number or a sentence" "$reply"; fi
sql=$(ask 101 /sql)
case $sql in *"Вопрос: $q"*) t_ok "/sql reports the previous question" ;; *) t_fail "/sql reports the previous question" "$sql" ;; esac
t_eq "/explain is /sql" "$(ask 101 /explain)" "$sql"
case $(ask 101 /frobnicate) in *"Не знаю такой команды"*) t_ok "unknown command" ;; *) t_fail "unknown command" "$(tg_messages 101 | tail -1)" ;; esac

# ==== Hints and hostile sizes ====
ids=$(tg_inject '"chat":{"id":102,"type":"private"},"sticker":true')
case $(tg_wait_reply 102 "${ids#* }") in *"только текст"*) t_ok "sticker gets a hint" ;; *) t_fail "sticker gets a hint" "$(tg_messages 102)" ;; esac
ids=$(tg_inject '"chat":{"id":102,"type":"private"},"photo":true')
case $(tg_wait_reply 102 "${ids#* }") in *"только текст"*) t_ok "photo gets a hint" ;; *) t_fail "photo gets a hint" "$(tg_messages 102)" ;; esac
case $(ask 102 "") in *"пустое"*) t_ok "empty text gets a hint" ;; *) t_fail "empty text gets a hint" "$(tg_messages 102 | tail -1)" ;; esac
case $(ask 102 "   ") in *"пустое"*) t_ok "blank text gets a hint" ;; *) t_fail "blank text gets a hint" "$(tg_messages 102 | tail -1)" ;; esac
long="Сколько видео $(printf 'я%.0s' $(seq 1 4985))?"
t_eq "the long message is 5000 characters" "${#long}" 5000
reply=$(ask 103 "$long")
[ -n "$reply" ] && t_ok "a 5000-character message gets a reply" || t_fail "a 5000-character message gets a reply" "none"
case $(ask 103 /sql) in *"Вопрос: Сколько видео яя"*"…"*) t_ok "/sql shortens a long question" ;; *) t_fail "/sql shortens a long question" "$(tg_messages 103 | tail -1 | head -c 200)" ;; esac
kill -0 "$BOT_PID" 2>/dev/null && t_ok "alive after hostile sizes" || t_fail "alive after hostile sizes" "exited"

# ==== Edits ====
tg_inject '"chat":{"id":104,"type":"private"},"text":"Сколько видео?","edited":true' >/dev/null
wait_log "skipped: edited message" && t_ok "an edit is logged" || t_fail "an edit is logged" "no log line"
ask 104 /help >/dev/null
t_eq "an edit gets no reply" "$(tg_messages 104 | wc -l)" 1

# ==== Groups: only commands, mentions and replies to the bot ====
G=-100777
tg_send $G "Сколько всего видео есть в системе?" group >/dev/null
tg_send $G "/help@OtherBot" group >/dev/null
tg_inject "\"chat\":{\"id\":$G,\"type\":\"group\"},\"sticker\":true" >/dev/null
ask $G /help >/dev/null
t_eq "a group is silent without a mention" "$(tg_messages $G | wc -l)" 1
reply=$(ask $G "@TestNameBot, Сколько всего видео есть в системе?")
[ -n "$reply" ] && t_ok "a mention in a group is answered" || t_fail "a mention in a group is answered" "none"
case $(ask $G "/sql@TestNameBot") in *"Вопрос: Сколько всего видео есть в системе?"*) t_ok "the mention is stripped" ;;
    *) t_fail "the mention is stripped" "$(tg_messages $G | tail -1)" ;; esac
ids=$(tg_inject "\"chat\":{\"id\":$G,\"type\":\"supergroup\"},\"text\":\"а за ноябрь?\",\"reply_to_bot\":true")
tg_wait_reply $G "${ids#* }" >/dev/null && t_ok "a reply to the bot is answered" || t_fail "a reply to the bot is answered" "none"
t_eq "group: exactly the addressed messages answered" "$(tg_messages $G | wc -l)" 4

# ==== Stop ====
last=$(tg_send 105 "/help")
tg_wait_reply 105 "${last#* }" >/dev/null
bot_stop TERM
t_eq "SIGTERM exits 0" "$BOT_RC" 0
grep -q "stopped at offset" "$BOT_LOG" && t_ok "stop is logged" || t_fail "stop is logged" "$(tail -2 "$BOT_LOG")"
t_eq "the offset is persisted past the last update" "$(psql_value "SELECT value FROM bot_state WHERE key = 'offset:666'")" \
    "$((${last% *} + 1))"

# ==== ALLOWED_CHAT_IDS and the rate limit ====
bot_start ALLOWED_CHAT_IDS=1001,2001 VABOT_CHAT_BURST=3 VABOT_CHAT_PER_MIN=1
t_eq "nothing is answered twice after a restart" "$(tg_messages 101 | wc -l)" 7
ask 1001 /help >/dev/null && t_ok "an allowed chat is answered" || t_fail "an allowed chat is answered" "none"
tg_send 1003 /help >/dev/null
wait_log "chat 1003: skipped: chat not in ALLOWED_CHAT_IDS" && t_ok "a chat outside the list is logged" ||
    t_fail "a chat outside the list is logged" "no log line"
t_eq "a chat outside the list gets silence" "$(tg_messages 1003 | wc -l)" 0
for i in 1 2 3 4 5 6; do mids[i]=$(tg_send 2001 "Сколько видео $i?"); done
wait_log "chat 2001: skipped: over the rate limit, silent" 2 && t_ok "messages over the limit are skipped" ||
    t_fail "messages over the limit are skipped" "$(grep -c 'chat 2001' "$BOT_LOG")"
case $(tg_wait_reply 2001 "${mids[4]#* }") in *"Слишком много"*) t_ok "the first one over the limit gets a notice" ;;
    *) t_fail "the first one over the limit gets a notice" "$(tg_messages 2001)" ;; esac
bot_stop TERM
t_eq "rate limit: three answers and one notice" "$(tg_messages 2001 | wc -l)" 4
t_eq "SIGTERM exits 0 again" "$BOT_RC" 0

# ==== Idle chats are forgotten ====
# A chat silent for VABOT_CHAT_IDLE_S is forgotten, its /sql memory with it...
Q="Сколько всего видео есть в системе?"
bot_start VABOT_CHAT_IDLE_S=1 VABOT_CHAT_PER_MIN=0
ask 3001 "$Q" >/dev/null
case $(ask 3001 /sql) in *"ещё не было вопроса"*) t_fail "/sql remembers the question" "$(tg_messages 3001 | tail -1)" ;;
    *) t_ok "/sql remembers the question" ;; esac
sleep 2 # longer than VABOT_CHAT_IDLE_S
case $(ask 3001 /sql) in *"ещё не было вопроса"*) t_ok "an idle chat is forgotten" ;;
    *) t_fail "an idle chat is forgotten" "$(tg_messages 3001 | tail -1)" ;; esac
grep -q "idle chats forgotten: 1, chats known: 0" "$BOT_LOG" && t_ok "forgetting is logged" || t_fail "forgetting is logged" "$(tail -3 "$BOT_LOG")"
bot_stop TERM
# ...unless its rate bucket has not filled up again: that would give it a fresh burst.
bot_start VABOT_CHAT_IDLE_S=1 VABOT_CHAT_BURST=3 VABOT_CHAT_PER_MIN=1
ask 3002 "$Q" >/dev/null
sleep 2
case $(ask 3002 /sql) in *"ещё не было вопроса"*) t_fail "a chat with a partly used rate bucket is kept" "forgotten" ;;
    *) t_ok "a chat with a partly used rate bucket is kept" ;; esac
bot_stop TERM

# ==== Secrets ====
grep -qF "$BOT_TOKEN" "$T"/bot.*.log && t_fail "the token never reaches the log" "it does" ||
    t_ok "the token never reaches the log"
grep -qF "${BOT_TOKEN%%:*}" "$T"/bot.*.log && t_fail "not even the bot id part of the token" "it does" ||
    t_ok "not even the bot id part of the token"

t_done
