#!/bin/sh
# The bot container: schema, data (once per data file), then `vabot serve`.
#   /data/videos.json        loaded when mounted, else the sample baked into the image;
#                            loaded again only when the file changed (size, mtime)
#   /var/lib/vabot/loaded    what was loaded last (a volume, so it outlives the container)
set -eu
vabot db init
data=/data/videos.json
[ -f "$data" ] || data=$VABOT_HOME/data/videos.sample.json
stamp="$data $(stat -c '%s %Y' "$data")"
mark=/var/lib/vabot/loaded
if [ "$(cat "$mark" 2>/dev/null)" != "$stamp" ]; then
    vabot db load "$data"
    echo "$stamp" >"$mark"
fi
exec vabot serve
