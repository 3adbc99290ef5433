# tests/lib.sh: shared helpers of the end-to-end scripts (sourced by bash).
#   t_init NAME            temp dir in $T, cleanup on exit
#   t_defer CMD            run CMD at exit (servers, clusters)
#   t_pg_up                a throwaway PostgreSQL of its own; exports DATABASE_URL
#   t_calibrated_db        t_pg_up, db init, and the calibrated dataset loaded
#   t_ok NAME / t_fail NAME WHY
#   t_eq NAME GOT WANT     exact string comparison
#   t_done                 prints "N passed, N failed" and exits 1 when anything failed
# VABOT is the binary under test (build/vabot unless set); VALGRIND=1 wraps it.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VABOT=${VABOT:-$ROOT/build/vabot}
T_PASS=0
T_FAIL=0
T_CLEAN=
T=

# t_defer CMD: run CMD at exit, most recent first.
t_defer() {
    T_CLEAN="$1
$T_CLEAN"
}

t_cleanup() {
    rc=$?
    printf '%s\n' "$T_CLEAN" | while IFS= read -r c; do
        [ -n "$c" ] && eval "$c" >/dev/null 2>&1
    done
    [ -n "$T" ] && rm -rf "$T"
    exit $rc
}

t_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/vabot-$1.XXXXXX")
    chmod 755 "$T"
    trap t_cleanup EXIT
    trap 'exit 130' INT TERM
    cd "$T" || exit 2
}

t_pg_up() {
    DATABASE_URL=$(PG_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        "$ROOT/scripts/pg.sh" start "$T/db") || { echo "t_pg_up: cannot start PostgreSQL" >&2; exit 2; }
    export DATABASE_URL
    t_defer "'$ROOT/scripts/pg.sh' stop '$T/db'"
}

# The suite cannot go on without its data: one failure, the summary, and out.
t_calibrated_db() {
    t_pg_up
    if ! vabot db init >"$T/init.out" 2>&1; then
        t_fail "db init" "$(tail -1 "$T/init.out")"
        t_done
        exit
    fi
    gzip -dc "$ROOT/tests/data/videos.json.gz" >"$T/videos.json"
    if ! vabot db load "$T/videos.json" >/dev/null 2>"$T/load.err"; then
        t_fail "load the calibrated dataset" "$(cat "$T/load.err")"
        t_done
        exit
    fi
}

t_ok() {
    T_PASS=$((T_PASS + 1))
    [ -n "${T_VERBOSE:-}" ] && echo "ok $1"
    return 0
}

t_fail() {
    T_FAIL=$((T_FAIL + 1))
    echo "FAIL $1: $2" >&2
    return 0
}

t_eq() {
    if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1" "got '$2', want '$3'"; fi
}

# t_run NAME WANT_EXIT CMD...: the command's exit status must be WANT_EXIT.
t_status() {
    name=$1 want=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" = "$want" ]; then t_ok "$name"; else
        t_fail "$name" "exit $got, want $want; stderr: $(head -c 300 "$T/err")"
    fi
}

# The binary under test, under valgrind when VALGRIND=1.
vabot() {
    if [ -n "${VALGRIND:-}" ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            "$VABOT" "$@"
    else
        "$VABOT" "$@"
    fi
}

t_done() {
    echo "$T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" = 0 ]
}
