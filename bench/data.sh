#!/bin/bash
# bench/data.sh SCALE FILE: a videos.json of that scale for the benchmarks. From the
# calibrated generator when it sits next to the repository (../shared/data/gen_videos.py,
# two levels up for a git worktree, or GEN_VIDEOS=PATH); else, saying so on stderr, from
# bench/replicate.py over tests/data/videos.json.gz. Prints where the data came from.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
scale=${1:?usage: bench/data.sh SCALE FILE} file=${2:?usage: bench/data.sh SCALE FILE}
gen=${GEN_VIDEOS:-}
for g in "$ROOT/../shared/data/gen_videos.py" "$ROOT/../../shared/data/gen_videos.py"; do
    [ -z "$gen" ] && [ -f "$g" ] && gen=$g
done
if [ -n "$gen" ]; then
    python3 "$gen" -o "$file" --scale "$scale" >/dev/null
    echo "the calibrated generator (gen_videos.py --scale N)"
else
    echo "bench: the calibrated generator (../shared/data/gen_videos.py) is not here;" \
        "scaling tests/data/videos.json.gz with bench/replicate.py instead" >&2
    python3 "$ROOT/bench/replicate.py" "$ROOT/tests/data/videos.json.gz" "$file" "$scale"
    echo "bench/replicate.py: tests/data/videos.json.gz and N-1 copies with new ids"
fi
