#!/bin/sh
# `make run`: database, schema, data, then the bot or a terminal chat.
#   DATABASE_URL unset  -> a private PostgreSQL cluster under ./var (unix socket only)
#   data/videos.json    -> loaded when present, else the bundled data/videos.sample.json;
#                          loaded again only when the file changed since the last load
#   BOT_TOKEN set       -> vabot serve, else vabot chat
set -eu
cd "$(dirname "$0")/.."
VABOT=./build/vabot

# .env may hold DATABASE_URL and BOT_TOKEN; the real environment wins.
env_get() {
    eval "v=\${$1:-}"
    if [ -z "$v" ] && [ -f .env ]; then
        v=$(sed -n "s/^[[:space:]]*\(export[[:space:]]\+\)\?$1[[:space:]]*=[[:space:]]*//p" .env |
            tail -n 1 | sed "s/^[\"']//; s/[\"'][[:space:]]*\$//")
    fi
    printf '%s' "$v"
}

if [ -z "$(env_get DATABASE_URL)" ]; then
    echo "run: starting the private PostgreSQL cluster under ./var" >&2
    DATABASE_URL=$(scripts/pg.sh start var)
    export DATABASE_URL
fi

$VABOT db init

data=data/videos.json
[ -f "$data" ] || data=data/videos.sample.json
mkdir -p var
stamp=$(ls -l --time-style=+%s "$data" | awk '{print $5 "-" $6}')
dbid=$(printf '%s' "$DATABASE_URL" | cksum | cut -d' ' -f1)
mark=var/loaded.$dbid
if [ "$(cat "$mark" 2>/dev/null)" != "$data $stamp" ]; then
    $VABOT db load "$data"
    echo "$data $stamp" >"$mark"
else
    echo "run: $data is already loaded" >&2
fi

if [ -n "$(env_get BOT_TOKEN)" ]; then
    exec $VABOT serve
fi
exec $VABOT chat
