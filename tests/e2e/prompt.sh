#!/bin/bash
# The worked examples of the LLM prompt (prompts/system.md) teach what the grammar does:
# every answer is a spec in the full form the strict schema makes the model write, the
# shared validator accepts it, and where the grammar understands the question itself it
# gives the same spec. No database, no network.
. "$(dirname "$0")/../lib.sh"
t_init prompt
export VABOT_HOME=$ROOT
unset OPENAI_API_KEY VABOT_NOW VABOT_TZ
PROMPT=$ROOT/prompts/system.md
NOW=2025-12-03T08:30:00Z # the "today" the examples state, checked below

grep -q 'assume that today is 2025-12-03 (a Wednesday) and the time is 08:30, in$' "$PROMPT" &&
    grep -q '^zone UTC: their bounds need no conversion\.' "$PROMPT" &&
    t_ok "the examples state their today" || t_fail "the examples state their today" "not found in $PROMPT"
for v in '{{today}}' '{{weekday}}' '{{now}}' '{{zone}}' '{{offset}}'; do
    grep -qF "$v" "$PROMPT" && t_ok "the prompt has $v" || t_fail "the prompt has $v" "missing"
done

# The pretty spec `spec check` prints, as one line in schema order; "" when it fails.
full_form() {
    printf '%s' "$1" >"$T/spec.json"
    vabot spec check "$T/spec.json" 2>/dev/null | node -e '
        let s = "";
        process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const end = s.indexOf("\n}\n");
            console.log(end < 0 ? "" : JSON.stringify(JSON.parse(s.slice(0, end + 2))));
        });'
}

n=0
understood=0
while IFS= read -r line; do
    case $line in
    'Q: '*) q=${line#Q: } ;;
    'A: '*)
        a=${line#A: }
        n=$((n + 1))
        if [ "$(node -e 'console.log(JSON.parse(process.argv[1]).supported)' "$a")" = false ]; then
            printf '%s' "$a" >"$T/spec.json"
            vabot spec check "$T/spec.json" >/dev/null 2>"$T/err"
            t_eq "example $n is a valid unsupported spec" "$? $(grep -c 'unsupported' "$T/err")" "3 1"
        else
            t_eq "example $n is a valid spec in full form" "$(full_form "$a")" "$a"
        fi
        vabot ask --no-llm --dry-run --json --now $NOW "$q" >"$T/out" 2>/dev/null
        got=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            console.log(r.status === "ok" ? JSON.stringify(r.spec) : r.status)' "$T/out")
        case $got in
        not_understood) ;; # the LLM's to answer
        unsupported)
            understood=$((understood + 1))
            t_eq "example $n: the grammar also declines to give a number" \
                "$(node -e 'console.log(JSON.parse(process.argv[1]).supported)' "$a")" false
            ;;
        *)
            understood=$((understood + 1))
            t_eq "example $n: the grammar gives the same spec ($q)" "$got" "$a"
            ;;
        esac
        ;;
    esac
done <"$PROMPT"
[ "$n" -ge 10 ] && t_ok "the prompt has worked examples" || t_fail "the prompt has worked examples" "$n found"
[ "$understood" -ge 5 ] && t_ok "the grammar checks most examples" ||
    t_fail "the grammar checks most examples" "only $understood of $n understood"

t_done
