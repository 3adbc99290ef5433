#!/bin/bash
# The fuzz targets in their CI form: each target of tests/fuzz/ runs for FUZZ_CI_SECONDS
# (default 30) on a copy of its committed seed corpus, FUZZ_JOBS at a time (default: the
# CPUs), through tests/fuzz/run.sh. One check per target; a crash names its input.
. "$(dirname "$0")/../lib.sh"
t_init fuzz
"$ROOT/tests/fuzz/run.sh" "${FUZZ_CI_SECONDS:-30}" >"$T/fuzz.out" 2>&1
rc=$?
while IFS= read -r line; do
    case $line in
    "ok   "*) t_ok "${line#ok   }" ;;
    FAIL*)
        name=${line#FAIL }
        name=${name%% *}
        why=${line#FAIL "$name"}
        t_fail "$name" "${why#"${why%%[! ]*}"}"
        ;;
    esac
done <"$T/fuzz.out"
grep -qE '^[0-9]+ passed, 0 failed$' "$T/fuzz.out" && [ "$rc" = 0 ] ||
    { [ "$T_FAIL" = 0 ] && t_fail "fuzz run" "$(tail -n 20 "$T/fuzz.out")"; }
t_done
