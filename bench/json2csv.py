#!/usr/bin/env python3
"""bench/json2csv.py FILE VIDEOS.csv SNAPSHOTS.csv: the rows of a videos.json as CSV.

The baseline of bench/load.sh: what `psql \\copy` loads, converted outside the timing.
Values are written as the file has them (PostgreSQL parses the ISO 8601 offsets itself).
"""
import csv
import json
import sys

VIDEO = ["id", "video_created_at", "views_count", "likes_count", "reports_count",
         "comments_count", "creator_id", "created_at", "updated_at"]
SNAPSHOT = ["id", "video_id", "views_count", "likes_count", "reports_count", "comments_count",
            "delta_views_count", "delta_likes_count", "delta_reports_count",
            "delta_comments_count", "created_at", "updated_at"]


def main():
    src, vpath, spath = sys.argv[1:4]
    with open(src, encoding="utf-8-sig") as f:
        videos = json.load(f)["videos"]
    with open(vpath, "w", newline="") as vf, open(spath, "w", newline="") as sf:
        vw, sw = csv.writer(vf), csv.writer(sf)
        for v in videos:
            vw.writerow([v[k] for k in VIDEO])
            for s in v["snapshots"]:
                sw.writerow([s[k] for k in SNAPSHOT])
    print(",".join(VIDEO), ",".join(SNAPSHOT), sep="\n")


if __name__ == "__main__":
    main()
