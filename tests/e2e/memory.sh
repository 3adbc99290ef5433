#!/bin/bash
# The command line under memory checkers, end to end. Under valgrind (--leak-check=full,
# lib.sh's VALGRIND=1): e2e/cli, e2e/hostile (its HOSTILE_QUICK subset) and the public
# checkers' questions of tests/data/facts.tsv on the calibrated data. With the ASan +
# UBSan build (VABOT=build/san/vabot): e2e/cli, e2e/hostile and e2e/privilege in full.
# The suites' own checks count here too; on top, every valgrind and sanitizer report is
# written to a file, and there must be none, whatever the exit status a check looked at.
. "$(dirname "$0")/../lib.sh"
t_init memory
SAN_VABOT=$ROOT/build/san/vabot
mkdir -p "$T/vg" "$T/san"
export VALGRIND_LOG=$T/vg/%p
export ASAN_OPTIONS=log_path=$T/san/asan:detect_leaks=1 UBSAN_OPTIONS=log_path=$T/san/ubsan:print_stacktrace=1

# suite LABEL NAME VAR=VALUE...: runs tests/e2e/NAME.sh with the settings; its summary
# adds to ours, and its failures are shown under LABEL.
suite() {
    label=$1 name=$2
    shift 2
    env "$@" bash "$ROOT/tests/e2e/$name.sh" >"$T/suite.out" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/suite.out" | tail -n 1)
    if [ -z "$summary" ]; then
        t_fail "$label" "no summary (exit $rc): $(tail -n 20 "$T/suite.out")"
        return
    fi
    p=${summary%% passed*} f=${summary#*, }
    f=${f%% failed}
    T_PASS=$((T_PASS + p))
    T_FAIL=$((T_FAIL + f))
    if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
        grep -E '^FAIL' "$T/suite.out" | sed "s|^FAIL |FAIL $label: |" >&2
        [ "$f" = 0 ] && t_fail "$label" "exit $rc: $(tail -n 20 "$T/suite.out")"
    fi
}

suite valgrind/cli cli VALGRIND=1
suite valgrind/hostile hostile VALGRIND=1 HOSTILE_QUICK=1
if [ -x "$SAN_VABOT" ]; then
    suite san/cli cli VABOT="$SAN_VABOT"
    suite san/hostile hostile VABOT="$SAN_VABOT"
    suite san/privilege privilege VABOT="$SAN_VABOT"
else
    t_fail "sanitizer build" "$SAN_VABOT is not built (make SAN=1)"
fi

# The public checkers' questions under valgrind, answers from tests/data/facts.tsv.
t_pg_up
"$VABOT" db init >/dev/null 2>&1 || t_fail "db init" "$("$VABOT" db init 2>&1)"
gzip -dc "$ROOT/tests/data/videos.json.gz" >"$T/videos.json"
"$VABOT" db load "$T/videos.json" 2>"$T/load.err" || t_fail "load calibrated data" "$(cat "$T/load.err")"
rm -f "$T/videos.json"
export VABOT_NOW=2025-12-01T12:00:00Z
while IFS=$'\t' read -r id question expected _; do
    case $id in rlt[0-9] | pps[0-9]) ;; *) continue ;; esac
    got=$(VALGRIND=1 vabot ask --no-llm "$question" 2>"$T/err")
    t_eq "valgrind/facts $id" "$got" "$expected"
done <"$ROOT/tests/data/facts.tsv"

runs=$(find "$T/vg" -type f | wc -l)
[ "$runs" -ge 50 ] && t_ok "valgrind ran ($runs processes)" || t_fail "valgrind ran" "only $runs log files"
reports=$(find "$T/vg" -type f -size +0 | wc -l)
t_eq "valgrind: no report in any run" "$reports" 0
[ "$reports" != 0 ] && find "$T/vg" -type f -size +0 | head -n 3 | xargs cat >&2
t_eq "sanitizers: no report in any run" "$(find "$T/san" -type f | wc -l)" 0
find "$T/san" -type f | head -n 3 | xargs -r cat >&2
t_done
