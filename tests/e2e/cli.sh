#!/bin/bash
# The CLI contract: help, version, usage errors, exit codes, db init, reader role.
. "$(dirname "$0")/../lib.sh"
t_init cli

t_status "help exits 0" 0 vabot --help
grep -q "db load FILE" "$T/out" && t_ok "help lists db load" || t_fail "help lists db load" "$(head -3 "$T/out")"
t_status "version exits 0" 0 vabot --version
grep -qE '^vabot [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" && t_ok "version format" || t_fail "version format" "$(cat "$T/out")"
t_status "no command is a usage error" 2 vabot
t_status "unknown command is a usage error" 2 vabot frobnicate
t_status "ask without a question is a usage error" 2 vabot ask --no-llm
t_status "ask with an unknown option is a usage error" 2 vabot ask --bogus "Сколько видео?"
t_status "db load without a file is a usage error" 2 vabot db load

# An unreachable database is exit 4 with one clear line, and no secret in it.
DATABASE_URL="postgresql://u:SECRET-PW@127.0.0.1:1/none?connect_timeout=2" \
    t_status "unreachable database is exit 4" 4 vabot db init
grep -q "cannot connect" "$T/err" && t_ok "unreachable database says why" || t_fail "unreachable database says why" "$(cat "$T/err")"
grep -q "SECRET-PW" "$T/err" "$T/out" && t_fail "password never printed" "it was" || t_ok "password never printed"
DATABASE_URL="mysql://x@y/z" t_status "a foreign DATABASE_URL scheme is a configuration error" 2 vabot db init

# A DATABASE_URL that does not parse is a configuration error (2), and the part libpq
# could not parse (here the password) is never quoted back.
for cmd in "db init" "ask --no-llm Сколько_видео?" "log"; do
    # shellcheck disable=SC2086
    DATABASE_URL='postgresql://u:p%zzSECRET-PW@127.0.0.1:1/none' \
        t_status "malformed DATABASE_URL: $cmd exits 2" 2 vabot $cmd
    grep -q "not a valid connection string: a '%' not followed by two hex digits" "$T/err" &&
        t_ok "malformed DATABASE_URL: $cmd says why" || t_fail "malformed DATABASE_URL: $cmd says why" "$(cat "$T/err")"
    grep -q "zzSECRET-PW" "$T/err" "$T/out" && t_fail "malformed DATABASE_URL: $cmd hides it" "printed" ||
        t_ok "malformed DATABASE_URL: $cmd hides it"
done

# ask: a bad --now is a usage error; data files that are not there are a failure (1),
# not a backend failure (4); a database that does not answer is a backend failure.
t_status "ask --now garbage is a usage error" 2 vabot ask --no-llm --now garbage "Сколько видео?"
grep -q "not an ISO 8601 time" "$T/err" && t_ok "ask --now garbage says why" || t_fail "ask --now garbage says why" "$(cat "$T/err")"
VABOT_NOW=garbage t_status "a bad VABOT_NOW is a usage error" 2 vabot ask --no-llm "Сколько видео?"
VABOT_HOME=$T/nowhere t_status "ask without grammar and lexicon exits 1" 1 vabot ask --no-llm --dry-run "Сколько видео?"
grep -q "cannot read $T/nowhere/" "$T/err" && t_ok "missing data files say which" || t_fail "missing data files say which" "$(cat "$T/err")"
VABOT_HOME=$T/nowhere t_status "chat without grammar and lexicon exits 1" 1 vabot chat </dev/null
DATABASE_URL="postgresql://u:SECRET-PW@127.0.0.1:1/none?connect_timeout=2" \
    t_status "ask with an unreachable database is exit 4" 4 vabot ask --no-llm "Сколько видео?"

# .env is read, and the real environment wins over it.
printf 'DATABASE_URL=postgresql://u:SECRET-PW@127.0.0.1:1/none?connect_timeout=2\n' >"$T/.env"
(unset DATABASE_URL; cd "$T" && t_status "DATABASE_URL from .env" 4 vabot db init)
printf 'this is not a .env line\n' >"$T/.env"
(cd "$T" && t_status "a malformed .env is a usage error" 2 vabot db init)
rm -f "$T/.env"

t_pg_up
t_status "db init" 0 vabot db init
t_status "db init is idempotent" 0 vabot db init
PSQL="psql -X -q -At -d $DATABASE_URL"
t_eq "schema has both tables" "$($PSQL -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('videos','video_snapshots')")" 2
t_eq "reader role exists" "$($PSQL -c "SELECT count(*) FROM pg_roles WHERE rolname = 'vabot_reader'")" 1
# The reader may read the data tables and nothing else.
RPSQL="psql -X -q -At -d ${DATABASE_URL/user=postgres/user=vabot_reader}"
t_eq "reader can select" "$($RPSQL -c 'SELECT count(*) FROM videos' 2>&1)" 0
$RPSQL -c "INSERT INTO videos VALUES ('x','y',now(),0,0,0,0,now(),now())" >/dev/null 2>&1 &&
    t_fail "reader cannot insert" "insert succeeded" || t_ok "reader cannot insert"
$RPSQL -c "SELECT count(*) FROM bot_state" >/dev/null 2>&1 &&
    t_fail "reader cannot read bookkeeping" "select succeeded" || t_ok "reader cannot read bookkeeping"

t_done
