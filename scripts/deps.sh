#!/bin/sh
# Installs, with apt-get, only the Debian packages that are missing.
#   scripts/deps.sh        what building and `make run` need
#   scripts/deps.sh test   plus what `make test` needs (Node.js for the fakes, clang, valgrind)
#   scripts/deps.sh bench  plus what `make bench` needs (Python for the data converters)
set -eu

want="pkg-config gcc make libpcre2-dev libcurl4-openssl-dev libcjson-dev libpq-dev libstemmer-dev
      postgresql ca-certificates"
if [ "${1:-}" = test ] || [ "${1:-}" = bench ]; then
    want="$want clang libclang-rt-14-dev valgrind curl gzip procps time"
    # Node.js may come from Debian or from elsewhere (NodeSource ships npm inside
    # its nodejs): only ask apt for it when the commands are missing.
    command -v node >/dev/null 2>&1 || want="$want nodejs"
    command -v npm >/dev/null 2>&1 || want="$want npm"
fi

[ "${1:-}" = bench ] && want="$want python3"

missing=
for p in $want; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case $st in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine: update once on failure.
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
}
echo "deps: done" >&2
