#!/bin/bash
# Builds every libFuzzer target tests/fuzz/fuzz_NAME.c and runs each for a bounded time.
#   tests/fuzz/run.sh SECONDS [NAME...]     NAME: text, nlu, validate... (default: all)
# Each target links against build/fuzz/libvabot.a (`make FUZZ=1`: clang, ASan, UBSan,
# coverage) and runs on a fresh COPY of its committed seed corpus tests/fuzz/corpus/NAME/
# (the committed corpus never changes), with tests/fuzz/NAME.dict when there is one.
# One line per target, then "N passed, N failed". A crash, leak, hang (-timeout) or
# failed check is a failure; the line names the input libFuzzer saved, which replays
# with: build/fuzz/fuzz_NAME FILE. Committing that file to tests/fuzz/corpus/NAME/ makes
# it a regression input that every later run tries first.
# FUZZ_JOBS targets run at a time (default: the number of CPUs).
cd "$(dirname "$0")/../.." || exit 2
secs=${1:?usage: tests/fuzz/run.sh SECONDS [NAME...]}
shift
case $secs in '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number" >&2; exit 2 ;; esac
out=build/fuzz
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
PKGS="libcurl libcjson libpq libpcre2-8"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

names=$*
if [ -z "$names" ]; then
    for f in tests/fuzz/fuzz_*.c; do
        n=${f#tests/fuzz/fuzz_}
        names="$names ${n%.c}"
    done
fi

build() {
    make --no-print-directory -j"$jobs" FUZZ=1 "$out/libvabot.a" >"$out/build.log" 2>&1 || return 1
    for n in $names; do
        [ -f "tests/fuzz/fuzz_$n.c" ] || { echo "fuzz: no target tests/fuzz/fuzz_$n.c" >>"$out/build.log"; return 1; }
        [ "$out/fuzz_$n" -nt "tests/fuzz/fuzz_$n.c" ] && [ "$out/fuzz_$n" -nt "$out/libvabot.a" ] &&
            ! [ tests/fuzz/speccheck.h -nt "$out/fuzz_$n" ] && continue
        # shellcheck disable=SC2046,SC2086
        clang -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 \
            -fno-omit-frame-pointer $SAN -Isrc \
            $(pkg-config --cflags $PKGS) "tests/fuzz/fuzz_$n.c" "$out/libvabot.a" \
            $(pkg-config --libs $PKGS) -lstemmer -lpthread -lm -o "$out/fuzz_$n" \
            >>"$out/build.log" 2>&1 || return 1
    done
}

# Runs one target; its one-line verdict goes to $out/NAME.result.
run_one() {
    n=$1
    work=$out/work/$n
    log=$out/$n.log
    rm -rf "$work" && mkdir -p "$work" "$out/crashes"
    [ -d "tests/fuzz/corpus/$n" ] && cp tests/fuzz/corpus/"$n"/* "$work"/ 2>/dev/null
    seeds=$(find "$work" -type f | wc -l)
    dict=
    [ -f "tests/fuzz/$n.dict" ] && dict=-dict=tests/fuzz/$n.dict
    VABOT_HOME=$PWD "$out/fuzz_$n" $dict -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/crashes/$n-" "$work" >"$log" 2>&1
    rc=$?
    runs=$(grep -a -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    if [ "$rc" = 0 ]; then
        printf 'ok   fuzz_%-10s %8s runs in %s s, corpus %s -> %s\n' "$n" "${runs:-?}" "$secs" \
            "$seeds" "$(find "$work" -type f | wc -l)" >"$out/$n.result"
    else
        file=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        what=$(grep -a -m 1 -E '^==[0-9]+==ERROR|^fuzz[_a-z]*: |runtime error|ERROR: libFuzzer' "$log")
        printf 'FAIL fuzz_%-10s %s; input: %s; log: %s\n' "$n" "${what:-exit $rc}" \
            "${file:-none saved}" "$log" >"$out/$n.result"
    fi
}

mkdir -p "$out"
if ! build; then
    tail -n 30 "$out/build.log"
    echo "FAIL fuzz: cannot build the targets (see $out/build.log)"
    echo "0 passed, 1 failed"
    exit 1
fi

running=0
for n in $names; do
    rm -f "$out/$n.result"
    run_one "$n" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

pass=0
fail=0
for n in $names; do
    if [ -s "$out/$n.result" ]; then cat "$out/$n.result"; else echo "FAIL fuzz_$n: no verdict"; fi
    if grep -q '^ok ' "$out/$n.result" 2>/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
