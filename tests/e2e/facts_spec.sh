#!/bin/bash
# Every known fact, asked as a hand-written spec through the validator, the SQL
# generator and the reader connection, gives its expected number on the calibrated
# dataset. This proves the spec can express every known question before the grammar
# takes part (tests/data/facts.tsv; "-" marks the one the spec cannot express).
. "$(dirname "$0")/../lib.sh"
t_init facts_spec
t_calibrated_db

while IFS=$'\t' read -r id question expected spec grammar; do
    case $id in ''|'#'*) continue ;; esac
    [ "$spec" = "-" ] && continue
    got=$(printf '%s' "$spec" | vabot spec run - 2>"$T/err")
    if [ "$got" = "$expected" ]; then t_ok "$id"; else
        t_fail "$id" "got '$got' want '$expected' $(head -c 200 "$T/err")"
    fi
done <"$ROOT/tests/data/facts.tsv"
t_done
