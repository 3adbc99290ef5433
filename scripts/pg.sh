#!/bin/sh
# A private PostgreSQL cluster in a directory of ours, reachable only through a unix
# socket (no TCP port).
#   scripts/pg.sh start DIR    initdb on first use, start, create database vabot;
#                              prints the DATABASE_URL to use
#   scripts/pg.sh stop DIR
#   scripts/pg.sh url DIR      the DATABASE_URL of a running cluster
# initdb and postgres refuse to run as root: as root they run as user postgres (the
# postgresql package creates it). When that user cannot reach DIR (say, under root's
# 0700 home), the cluster lives in a temp directory and DIR/pg points at it.
set -eu

cmd=${1:?usage: pg.sh start|stop|url DIR}
dir=${2:?usage: pg.sh start|stop|url DIR}
PGBIN=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | tail -n 1)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

AS=
if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || { echo "pg: user postgres is missing (apt-get install postgresql)" >&2; exit 1; }
    AS="runuser -u postgres --"
fi

# Resolve where the cluster lives (data and socket).
home=$dir/pg
if [ ! -e "$home" ]; then
    if [ -n "$AS" ] && ! $AS test -x "$dir" 2>/dev/null; then
        real=$(mktemp -d "${TMPDIR:-/tmp}/vabot-pg.XXXXXX")
        ln -s "$real" "$home"
    else
        mkdir -p "$home"
    fi
fi
home=$(cd "$home" && pwd -P)
[ -n "$AS" ] && chown postgres: "$home"
data=$home/data
url="postgresql:///vabot?host=$home&user=postgres"

case $cmd in
start)
    if [ ! -f "$data/PG_VERSION" ]; then
        $AS "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            >"$home/initdb.log" 2>&1 || { cat "$home/initdb.log" >&2; exit 1; }
    fi
    if ! $AS "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        $AS "$PGBIN/pg_ctl" -D "$data" -l "$home/server.log" -w -t 60 -o \
            "-k $home -c listen_addresses= -c TimeZone=UTC -c unix_socket_permissions=0777 ${PG_OPTS:-}" \
            start >/dev/null || { tail -n 20 "$home/server.log" >&2; exit 1; }
    fi
    "$PGBIN/psql" -X -q -h "$home" -U postgres -d postgres -tA \
        -c "SELECT 1 FROM pg_database WHERE datname = 'vabot'" | grep -q 1 ||
        "$PGBIN/createdb" -h "$home" -U postgres vabot
    echo "$url"
    ;;
stop)
    if [ -f "$data/PG_VERSION" ]; then
        $AS "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
url)
    echo "$url"
    ;;
*)
    echo "usage: pg.sh start|stop|url DIR" >&2
    exit 2
    ;;
esac
