#!/bin/sh
# Runs every suite and adds up their "N passed, N failed" lines.
#   tests/run.sh [SUITE...]   all (default), unit, e2e, or names: test_utc, cli ...
# A suite is a unit test binary (normal and sanitizer builds) or an end-to-end script
# tests/e2e/*.sh. A suite that ends without a summary line counts as one failure.
cd "$(dirname "$0")/.." || exit 2
pass=0
fail=0
failed_suites=

run_suite() {
    name=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$summary" ]; then
        printf '%s\n' "$out" | tail -n 30
        echo "FAIL $name: no summary (exit $rc)"
        fail=$((fail + 1))
        failed_suites="$failed_suites $name"
        return
    fi
    p=${summary%% passed*}
    f=${summary#*, }
    f=${f%% failed}
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
        printf '%s\n' "$out" | grep -v -E '^ok ' | tail -n 60
        [ "$f" = 0 ] && fail=$((fail + 1))
        failed_suites="$failed_suites $name"
    fi
    printf '%-28s %s\n' "$name" "$summary"
}

suites=${*:-all}
for t in build/tests/test_* build/san/tests/test_*; do
    [ -x "$t" ] || continue
    case " $suites " in *" all "*|*" unit "*|*" $(basename "$t") "*) run_suite "${t#build/}" "$t" ;; esac
done
for s in tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    n=$(basename "$s" .sh)
    case " $suites " in *" all "*|*" e2e "*|*" $n "*) run_suite "e2e/$n" bash "$s" ;; esac
done
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
