#!/usr/bin/env python3
"""bench/replicate.py IN OUT N: a videos.json N times as large, for `make bench` from a
clean clone (without the calibrated generator next to the repository).

IN is a videos.json, plain or gzipped (tests/data/videos.json.gz). OUT holds its videos
unchanged, then N-1 replicas of them: every id (video, creator, snapshot) replaced by one
derived from the replica number and the old id with MD5, in the same form (dashed UUID or
32 hex digits); times and counts as they were. The same arguments give the same bytes.
Each video is serialized once; a replica only fills new ids into its text, so scale 100
takes seconds, not minutes, and memory holds the input only.
"""
import gzip
import hashlib
import json
import re
import sys

# Ids as the data has them: dashed UUIDs (video ids) and 32 hex digits (the others).
ID = re.compile(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})"')


def new_id(replica, old):
    h = hashlib.md5(f"{replica}/{old}".encode()).hexdigest()
    if len(old) == 36:
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return h


def templates(videos):
    """Each video's JSON text cut at its ids: (text pieces, the ids between them)."""
    out = []
    for v in videos:
        parts = ID.split(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
        out.append((parts[0::2], parts[1::2]))
    return out


def write_replica(out, replica, cut, first):
    ids = {}
    for pieces, old_ids in cut:
        text = [pieces[0]]
        for old, piece in zip(old_ids, pieces[1:]):
            if old not in ids:
                ids[old] = new_id(replica, old)
            text.append('"' + ids[old] + '"')
            text.append(piece)
        out.write(("" if first else ",\n") + "".join(text))
        first = False


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8-sig") as f:
        videos = json.load(f)["videos"]
    cut = templates(videos)
    with open(dst, "w", encoding="utf-8") as out:
        out.write('{"videos": [\n')
        for replica in range(n):
            # Replica 0 is the input itself: its ids map to themselves.
            if replica == 0:
                for i, v in enumerate(videos):
                    out.write(("" if i == 0 else ",\n") + json.dumps(v, ensure_ascii=False))
            else:
                write_replica(out, replica, cut, False)
        out.write("\n]}\n")


if __name__ == "__main__":
    main()
