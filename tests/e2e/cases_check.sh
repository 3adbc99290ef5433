#!/bin/bash
# The golden question cases (tests/grammar/*.tsv) are well formed, so a runner of the
# language engine can trust them: every file sets `# now:` before its first case, every
# case is "question<TAB>expected", every expected spec passes the validator, no question
# repeats under the same now and zone, every known fact's question is there, and the
# set keeps the size the task asks for. Needs no database.
. "$(dirname "$0")/../lib.sh"
t_init cases_check
CASES=$ROOT/tests/grammar
MIN_CASES=450
MIN_NEGATIVE=100

# check_expected FILE:LINE SPEC: NOT_UNDERSTOOD, or a spec the validator accepts (a valid
# unsupported spec exits 3 with its own message, an invalid one says "invalid spec").
check_expected() {
    [ "$2" = NOT_UNDERSTOOD ] && return 0
    printf '%s' "$2" | vabot spec check - >/dev/null 2>"$T/err"
    rc=$?
    [ "$rc" = 0 ] && return 0
    [ "$rc" = 3 ] && grep -q 'the spec says the question is unsupported' "$T/err" && return 0
    t_fail "$1" "$(head -c 300 "$T/err")"
    return 1
}

is_negative() {
    [ "$1" = NOT_UNDERSTOOD ] || printf '%s' "$1" | grep -q '"supported": *false'
}

total=0
negative=0
: >"$T/keys"
for f in "$CASES"/*.tsv; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    now= tz=UTC lineno=0 bad=0
    while IFS= read -r line; do
        lineno=$((lineno + 1))
        case $line in
        '# now: '*)
            now=${line#'# now: '}
            [[ $now =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
                { t_fail "$name:$lineno" "bad now '$now'"; bad=1; }
            continue ;;
        '# tz: '*) tz=${line#'# tz: '}; continue ;;
        '#'* | '') continue ;;
        esac
        IFS=$'\t' read -r q e extra <<<"$line"
        if [ -z "$now" ]; then
            t_fail "$name:$lineno" "a case before any '# now:' line"; bad=1
        elif [ -z "$q" ] || [ -z "$e" ] || [ -n "$extra" ]; then
            t_fail "$name:$lineno" "want question<TAB>expected"; bad=1
        else
            check_expected "$name:$lineno" "$e" || bad=1
            printf '%s\t%s\t%s\t%s:%s\n' "$now" "$tz" "$q" "$name" "$lineno" >>"$T/keys"
            total=$((total + 1))
            is_negative "$e" && negative=$((negative + 1))
        fi
    done <"$f"
    [ "$bad" = 0 ] && t_ok "$name"
done

dups=$(cut -f1-3 "$T/keys" | sort | uniq -d | head -n 3)
[ -z "$dups" ] && t_ok "no question twice under one now and zone" ||
    t_fail "no question twice under one now and zone" "$dups"

# Every question of the known facts, less the ones carrying a reading note in
# parentheses after the question mark, is among the checker cases.
missing=$(grep -v '^#' "$ROOT/tests/data/facts.tsv" | cut -f2 | grep -v '? (.*)$' |
    while IFS= read -r q; do
        cut -f1 "$CASES/checkers.tsv" | grep -qxF -- "$q" || printf '%s\n' "$q"
    done | head -n 3)
[ -z "$missing" ] && t_ok "every known fact is a checker case" ||
    t_fail "every known fact is a checker case" "missing: $missing"

[ "$total" -ge "$MIN_CASES" ] && t_ok "at least $MIN_CASES cases" ||
    t_fail "at least $MIN_CASES cases" "$total"
[ "$negative" -ge "$MIN_NEGATIVE" ] && t_ok "at least $MIN_NEGATIVE negative cases" ||
    t_fail "at least $MIN_NEGATIVE negative cases" "$negative"
t_done
