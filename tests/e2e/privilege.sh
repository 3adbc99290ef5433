#!/bin/bash
# Least privilege of the query path, on a throwaway cluster: the reader connection
# (db_open_reader) cannot write or escape, whether vabot_reader logs in on a trusted
# socket or with the password `vabot db init` made; and when pg_hba.conf rejects
# vabot_reader, nothing falls back to the owner's login. The hostile statements live in
# tests/unit/test_db.c, run here with both builds.
. "$(dirname "$0")/../lib.sh"
t_init privilege
t_pg_up
PSQL="psql -X -q -At -d $DATABASE_URL"
RPSQL="psql -X -q -At -w -d ${DATABASE_URL/user=postgres/user=vabot_reader}"
HBA=$($PSQL -c 'SHOW hba_file')
cp "$HBA" "$T/hba.orig"
SERVER_LOG=$T/db/pg/server.log

# Statement logging on while db init sets the reader's password: it must not show.
$PSQL -c "ALTER SYSTEM SET log_statement = 'all'" -c 'SELECT pg_reload_conf()' >/dev/null
vabot db init >"$T/init.out" 2>&1 || t_fail "db init" "$(cat "$T/init.out")"
vabot db load "$ROOT/data/videos.sample.json" 2>"$T/load.err" || t_fail "load" "$(cat "$T/load.err")"
PW=$($PSQL -c 'SELECT password FROM reader_login')
t_eq "db init made a reader password of 64 hex digits" "$(printf '%s' "$PW" | grep -cE '^[0-9a-f]{64}$')" 1
if grep -qF "$PW" "$T/init.out" "$SERVER_LOG" 2>/dev/null; then
    t_fail "the reader password is never printed or logged" "found in the output or the server log"
else
    t_ok "the reader password is never printed or logged"
fi
[ -f "$SERVER_LOG" ] && grep -q 'ALTER ROLE\|reader_login' "$SERVER_LOG" && t_ok "statement logging was on" ||
    t_fail "statement logging was on" "no statement in $SERVER_LOG"
# An owner without the right to alter roles: setting the password fails (a warning, not
# an error), and the failed statement in the server log shows no password either.
$PSQL -c "CREATE ROLE app_owner LOGIN" -c "CREATE DATABASE app2 OWNER app_owner" >/dev/null
APP_DB=${DATABASE_URL/\/\/\/vabot\?/\/\/\/app2?}
DATABASE_URL=${APP_DB/user=postgres/user=app_owner} t_status "db init without the right to alter roles" 0 vabot db init
grep -q "warning: db: cannot set the password of vabot_reader: ERROR:  permission denied" "$T/err" &&
    t_ok "a password that cannot be set is a warning" || t_fail "a password that cannot be set is a warning" "$(cat "$T/err")"
APP_PW=$(psql -X -q -At -d "$APP_DB" -c 'SELECT password FROM reader_login')
t_eq "that database has a reader password of its own" "$(printf '%s' "$APP_PW" | grep -cE '^[0-9a-f]{64}$')" 1
grep -q "ERROR:  permission denied" "$SERVER_LOG" && t_ok "the refused ALTER ROLE is in the server log" ||
    t_fail "the refused ALTER ROLE is in the server log" "no error logged"
if grep -qF "${APP_PW:-no password}" "$SERVER_LOG" || grep -qE "PASSWORD '[0-9a-f]{64}'" "$SERVER_LOG"; then
    t_fail "a refused password change logs no password" "$(grep -E "PASSWORD '[0-9a-f]{64}'" "$SERVER_LOG" | head -2)"
else
    t_ok "a refused password change logs no password"
fi
$PSQL -c 'ALTER SYSTEM RESET log_statement' -c 'SELECT pg_reload_conf()' >/dev/null
t_eq "a second db init keeps the password" "$(vabot db init >/dev/null 2>&1; $PSQL -c 'SELECT password FROM reader_login')" "$PW"
$RPSQL -c 'SELECT password FROM reader_login' >/dev/null 2>&1 &&
    t_fail "the reader cannot read its own password" "it could" || t_ok "the reader cannot read its own password"

set_hba() { # the vabot_reader line first, then the original file
    { printf '%s\n' "$1"; cat "$T/hba.orig"; } >"$HBA"
    $PSQL -c 'SELECT pg_reload_conf()' >/dev/null
}

# run_db_test NAME MODE: the unit binary of each build against this cluster.
run_db_test() {
    for bin in "$ROOT/build/tests/test_db" "$ROOT/build/san/tests/test_db"; do
        case $bin in */san/*) b=san ;; *) b=normal ;; esac
        if [ ! -x "$bin" ]; then
            [ $b = normal ] && t_fail "$1 ($b build)" "$bin is not built"
            continue
        fi
        VABOT_TEST_DB=$DATABASE_URL VABOT_TEST_DB_MODE=$2 VABOT_TEST_DIR=$T "$bin" >"$T/unit.out" 2>&1
        rc=$?
        if [ $rc = 0 ] && grep -qE '^[1-9][0-9]* passed, 0 failed$' "$T/unit.out"; then
            t_ok "$1 ($b build)"
        else
            t_fail "$1 ($b build)" "exit $rc: $(tail -n 15 "$T/unit.out")"
        fi
    done
}

export VABOT_NOW=2025-12-01T12:00:00Z
Q="Сколько всего видео есть в системе?"
WANT=$($PSQL -c 'SELECT count(*) FROM videos')

# 1. A trusted local socket: the reader logs in without a password.
run_db_test "trusted login: hostile SQL cannot write or escape" login
t_eq "trusted login: a question is answered" "$(vabot ask --no-llm "$Q" 2>"$T/err")" "$WANT"

# 2. The server wants a password from vabot_reader: the one db init made.
set_hba "local all vabot_reader scram-sha-256"
$RPSQL -c 'SELECT 1' >/dev/null 2>&1 && t_fail "the server now asks vabot_reader for a password" "it did not" ||
    t_ok "the server now asks vabot_reader for a password"
run_db_test "password login: hostile SQL cannot write or escape" login
t_eq "password login: a question is answered" "$(vabot ask --no-llm "$Q" 2>"$T/err")" "$WANT"

# 3. vabot_reader may not log in at all: refuse, never borrow the owner's login.
set_hba "local all vabot_reader reject"
run_db_test "rejected reader: no fallback to the owner" reject
t_status "rejected reader: a question is a backend failure" 4 vabot ask --no-llm "$Q"
grep -q "logs in as vabot_reader only" "$T/err" && t_ok "rejected reader: the error says how to fix it" ||
    t_fail "rejected reader: the error says how to fix it" "$(cat "$T/err")"
grep -qE '^[0-9]+$' "$T/out" && t_fail "rejected reader: no number" "$(cat "$T/out")" || t_ok "rejected reader: no number"

cp "$T/hba.orig" "$HBA"
$PSQL -c 'SELECT pg_reload_conf()' >/dev/null
t_done
