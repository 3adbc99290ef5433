#!/usr/bin/env python3
"""bench/json2csv.py FILE VIDEOS.csv SNAPSHOTS.csv: the rows of a videos.json as CSV.

The baseline of bench/load.sh: what `psql \\copy` loads, converted outside the timing.
Values are written as the file has them (PostgreSQL parses the ISO 8601 offsets itself).
The file is read in chunks and decoded one video at a time, so memory stays flat even
for the 1.9 GB of scale 100 (json.load of the whole file would take many gigabytes).
Prints the two column lists for COPY, one per line.
"""
import csv
import json
import sys

VIDEO = ["id", "video_created_at", "views_count", "likes_count", "reports_count",
         "comments_count", "creator_id", "created_at", "updated_at"]
SNAPSHOT = ["id", "video_id", "views_count", "likes_count", "reports_count", "comments_count",
            "delta_views_count", "delta_likes_count", "delta_reports_count",
            "delta_comments_count", "created_at", "updated_at"]
CHUNK = 16 << 20


def videos(path):
    """Yields the video objects of {"videos": [...]} one at a time."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8-sig") as f:
        text = f.read(CHUNK)
        while '"videos"' not in text or "[" not in text[text.index('"videos"'):]:
            more = f.read(CHUNK)
            if not more:
                raise ValueError(f"{path}: no \"videos\" array")
            text += more
        at = text.index("[", text.index('"videos"')) + 1
        while True:
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
            if at < len(text) and text[at] == "]":
                return
            try:
                video, end = decoder.raw_decode(text, at)
            except json.JSONDecodeError:
                more = f.read(CHUNK)
                if not more:
                    raise
                text, at = text[at:] + more, 0
                continue
            yield video
            at = end


def main():
    src, vpath, spath = sys.argv[1:4]
    with open(vpath, "w", newline="") as vf, open(spath, "w", newline="") as sf:
        vw, sw = csv.writer(vf), csv.writer(sf)
        for v in videos(src):
            vw.writerow([v[k] for k in VIDEO])
            for s in v["snapshots"]:
                sw.writerow([s[k] for k in SNAPSHOT])
    print(",".join(VIDEO), ",".join(SNAPSHOT), sep="\n")


if __name__ == "__main__":
    main()
