#!/bin/bash
# The rule engine alone (--no-llm) answers every known fact on the calibrated dataset,
# declines what it must decline, and both public checkers' runs come out right in
# their own order. The expected numbers are in tests/data/facts.tsv.
. "$(dirname "$0")/../lib.sh"
t_init facts_grammar
t_calibrated_db
# The data ends on 1 Dec 2025: "now" just after it, as when the checkers ran.
export VABOT_NOW=2025-12-01T12:00:00Z

ask_expect() { # NAME QUESTION WANT
    got=$(vabot ask --no-llm "$2" 2>"$T/err")
    if [ "$got" = "$3" ]; then t_ok "$1"; else
        t_fail "$1" "got '$got' want '$3' for: $2 ($(head -c 200 "$T/err"))"
    fi
}

declare -A fact_q fact_want
while IFS=$'\t' read -r id question expected spec grammar; do
    case $id in ''|'#'*) continue ;; esac
    fact_q[$id]=$question
    fact_want[$id]=$expected
    case $grammar in
    ask) ask_expect "$id" "$question" "$expected" ;;
    decline)
        vabot ask --no-llm "$question" >"$T/out" 2>&1
        rc=$?
        [ "$rc" = 3 ] && ! grep -qE '^-?[0-9]+$' "$T/out" && t_ok "$id declined" ||
            t_fail "$id declined" "exit $rc: $(head -c 200 "$T/out")"
        ;;
    esac
done <"$ROOT/tests/data/facts.tsv"

# The two public checkers, in their order, one process each question as a user would.
for run in "rlt1 rlt2 rlt3 rlt4 rlt5 rlt6 rlt7" "pps1 pps2 pps3 pps4 pps5 pps6 pps7 pps8"; do
    for id in $run; do ask_expect "checker $id" "${fact_q[$id]}" "${fact_want[$id]}"; done
done
t_done
