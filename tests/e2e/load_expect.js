// tests/e2e/load_expect.js: what `vabot db load` must produce, computed from the JSON
// independently of the C code (used by load.sh).
//   node load_expect.js rows FILE DIR     canonical rows in DIR/videos.txt, DIR/snapshots.txt
//   node load_expect.js sums FILE         "name value" lines: counts, sums, time range
//   node load_expect.js corpus FILE DIR   broken variants of FILE in DIR, listed in DIR/cases.tsv
// Canonical rows: fields joined by '|' in the column order of the queries in load.sh,
// ids in their stored forms, times as microseconds since the epoch (UTC).
'use strict';
const fs = require('fs');
const path = require('path');

function read(file) {
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
}

function hex32(id) {
    return id.toLowerCase().replace(/-/g, '');
}

function uuid(id) {
    const h = hex32(id);
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
}

// ISO 8601 with an optional fraction and offset, to microseconds (a BigInt).
function micros(s) {
    const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?(Z|([+-])(\d\d):?(\d\d))?$/.exec(s);
    if (!m) throw new Error('unexpected time ' + s);
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    let us = BigInt(ms) * 1000n + BigInt((m[7] || '').padEnd(6, '0'));
    if (m[9]) us -= BigInt((m[9] === '-' ? -1 : 1) * (+m[10] * 60 + +m[11]) * 60) * 1000000n;
    return us;
}

function rows(file, dir) {
    const v = [], s = [];
    for (const x of read(file).videos) {
        v.push([uuid(x.id), hex32(x.creator_id), micros(x.video_created_at), x.views_count,
            x.likes_count, x.comments_count, x.reports_count, micros(x.created_at),
            micros(x.updated_at)].join('|'));
        for (const y of x.snapshots)
            s.push([hex32(y.id), uuid(y.video_id), y.views_count, y.likes_count, y.comments_count,
                y.reports_count, y.delta_views_count, y.delta_likes_count, y.delta_comments_count,
                y.delta_reports_count, micros(y.created_at), micros(y.updated_at)].join('|'));
    }
    fs.writeFileSync(path.join(dir, 'videos.txt'), v.map((r) => r + '\n').join(''));
    fs.writeFileSync(path.join(dir, 'snapshots.txt'), s.map((r) => r + '\n').join(''));
}

function sums(file) {
    const out = {videos: 0, snapshots: 0, views: 0, likes: 0, comments: 0, reports: 0,
        delta_views: 0, delta_likes: 0, delta_comments: 0, delta_reports: 0,
        negative_deltas: 0, first_us: null, last_us: null};
    for (const x of read(file).videos) {
        out.videos++;
        out.views += x.views_count;
        out.likes += x.likes_count;
        out.comments += x.comments_count;
        out.reports += x.reports_count;
        for (const y of x.snapshots) {
            out.snapshots++;
            out.delta_views += y.delta_views_count;
            out.delta_likes += y.delta_likes_count;
            out.delta_comments += y.delta_comments_count;
            out.delta_reports += y.delta_reports_count;
            if (y.delta_views_count < 0 || y.delta_likes_count < 0) out.negative_deltas++;
            const t = micros(y.created_at);
            if (out.first_us === null || t < out.first_us) out.first_us = t;
            if (out.last_us === null || t > out.last_us) out.last_us = t;
        }
    }
    for (const [k, v] of Object.entries(out)) console.log(k + ' ' + (v === null ? '' : v));
}

// ==== Broken files ====
// Each case is written as {"videos": [v0, v1, ...]} with every video on one line, so
// the byte offset of any value is known here: the checks name it exactly.

function corpus(file, dir) {
    const base = read(file).videos;
    const cases = [];
    const clone = () => JSON.parse(JSON.stringify(base));
    const head = '{"videos": [\n';

    // Writes the videos and returns the byte offset of video k's text plus `within`.
    function layout(videos, texts) {
        texts = texts || videos.map((v) => JSON.stringify(v));
        const starts = [];
        let off = Buffer.byteLength(head);
        for (const t of texts) {
            starts.push(off);
            off += Buffer.byteLength(t) + 2;
        }
        return {text: head + texts.join(',\n') + '\n]}\n', starts, texts};
    }
    // The offset of the value of key in video k (snapshot j when given).
    function at(l, k, key, j) {
        let t = l.texts[k], base = l.starts[k];
        if (j !== undefined) {
            const i = t.indexOf(JSON.stringify(l.videos[k].snapshots[j]));
            if (i < 0) throw new Error('snapshot not found');
            base += i;
            t = JSON.stringify(l.videos[k].snapshots[j]);
            if (key === null) return base;
        }
        const i = t.indexOf('"' + key + '":');
        if (i < 0) throw new Error('key not found ' + key);
        return base + Buffer.byteLength(t.slice(0, i)) + key.length + 3;
    }
    function add(name, text, ...want) {
        const f = path.join(dir, name + '.json');
        fs.writeFileSync(f, text);
        cases.push([name, f, ...want].join('\t'));
    }
    function mutated(name, edit, want) {
        const v = clone();
        edit(v);
        const l = layout(v);
        l.videos = v;
        add(name, l.text, ...want(l, v));
    }
    const who = (v, k) => `video ${k} (0-based, id ${uuid(v[k].id)})`;

    mutated('negative_video_views', (v) => { v[3].views_count = -7; },
        (l, v) => [`byte ${at(l, 3, 'views_count')}:`, who(v, 3), 'views_count: -7 is negative']);
    mutated('negative_snapshot_likes', (v) => { v[2].snapshots[4].likes_count = -1; },
        (l, v) => [`byte ${at(l, 2, 'likes_count', 4)}:`, who(v, 2), 'snapshots[4].likes_count: -1 is negative']);
    mutated('string_count', (v) => { v[1].snapshots[0].views_count = '12'; },
        (l, v) => [`byte ${at(l, 1, 'views_count', 0)}:`, who(v, 1), 'expected an integer, got a string']);
    mutated('fractional_count', (v) => { v[1].comments_count = 1.5; },
        (l, v) => [`byte ${at(l, 1, 'comments_count')}:`, '1.5 is not an integer']);
    mutated('numeric_creator', (v) => { v[4].creator_id = 12345; },
        (l, v) => [`byte ${at(l, 4, 'creator_id')}:`, who(v, 4), 'creator_id: expected a string, got a number']);
    mutated('bad_creator', (v) => { v[4].creator_id = 'not-an-id'; },
        (l, v) => [`byte ${at(l, 4, 'creator_id')}:`, 'creator_id: "not-an-id" is not an id']);
    mutated('missing_field', (v) => { delete v[5].snapshots[7].delta_views_count; },
        (l, v) => [`byte ${at(l, 5, null, 7)}:`, who(v, 5), 'snapshots[7]: missing key "delta_views_count"']);
    mutated('missing_snapshots', (v) => { delete v[1].snapshots; },
        (l, v) => [`byte ${l.starts[1]}:`, who(v, 1), 'missing key "snapshots"']);
    mutated('unknown_key', (v) => { v[0].title = 'x'; },
        (l, v) => [`byte ${at(l, 0, 'title')}:`, who(v, 0), 'title: unknown key']);
    mutated('bad_timestamp', (v) => { v[0].snapshots[1].created_at = '2025-11-31T10:00:00+00:00'; },
        (l, v) => [`byte ${at(l, 0, 'created_at', 1)}:`, who(v, 0), 'snapshots[1].created_at: "2025-11-31T10:00:00+00:00" is not an ISO 8601 timestamp']);
    mutated('duplicate_video_id', (v) => {
        v[4].id = v[1].id;
        for (const s of v[4].snapshots) s.video_id = v[1].id;
    }, (l, v) => [`byte ${l.starts[4]}:`, who(v, 4), 'duplicate video id (first seen as video 1)']);
    mutated('duplicate_snapshot_id', (v) => { v[3].snapshots[2].id = v[0].snapshots[5].id; },
        (l, v) => [`byte ${l.starts[3]}:`, who(v, 3), `duplicate snapshot id ${hex32(v[0].snapshots[5].id)} (also in video 0)`]);
    mutated('duplicate_snapshot_in_video', (v) => { v[2].snapshots[3].id = v[2].snapshots[1].id; },
        (l, v) => [`byte ${l.starts[2]}:`, who(v, 2), `snapshot id ${hex32(v[2].snapshots[1].id)} appears twice`]);
    mutated('foreign_video_id', (v) => { v[2].snapshots[0].video_id = v[1].id; },
        (l, v) => [`byte ${at(l, 2, 'video_id', 0)}:`, who(v, 2), 'snapshots[0].video_id: "' + v[1].id + '" is not the id of its video']);
    mutated('deep_nesting', (v) => { v[2].snapshots[0].views_count = [[1]]; },
        (l, v) => [`byte ${at(l, 2, 'views_count', 0)}:`, 'video 2 (0-based)', 'nesting deeper than 3 levels']);

    // Textual edits that JSON.stringify cannot make.
    {
        const l = layout(base);
        const t = l.texts.slice();
        const key = `"likes_count":${base[1].likes_count},`;
        t[1] = t[1].replace(key, key + key);
        add('duplicate_key', layout(base, t).text, `byte ${l.starts[1]}:`, who(base, 1), 'duplicate key "likes_count"');
        const t2 = l.texts.slice();
        const i = t2[2].indexOf(',"likes_count"');
        t2[2] = t2[2].slice(0, i) + ' ' + t2[2].slice(i + 1);
        add('malformed', layout(base, t2).text, `byte ${l.starts[2] + i + 1}:`, 'video 2 (0-based)', 'malformed JSON');
        const full = l.text;
        const inside = l.starts[3] + 100;
        for (const n of [1, 5, 30, inside, full.length - 3, full.length - 2])
            add('truncated_at_' + n, full.slice(0, n), `byte ${n}:`, 'truncated',
                n === inside ? 'video 3 (0-based)' : '');
    }
    add('not_json', 'this is not JSON\n', 'byte 0:', "expected '{' at the start, got 't'");
    add('empty_file', '', 'byte 0:', 'empty input');
    add('empty_object', '{}', 'byte 1:', 'expected the key "videos"');
    add('videos_not_an_array', '{"videos": {}}', 'byte 11:', 'must be an array');
    add('two_keys', '{"videos": [], "more": []}', 'byte 13:', 'it must be the only key');
    add('element_not_object', '{"videos": [1]}', 'byte 12:', 'video 0 (0-based)', 'expected an object');
    fs.writeFileSync(path.join(dir, 'cases.tsv'), cases.map((c) => c + '\n').join(''));
}

const [cmd, file, dir] = process.argv.slice(2);
if (cmd === 'rows') rows(file, dir);
else if (cmd === 'sums') sums(file);
else if (cmd === 'corpus') corpus(file, dir);
else {
    console.error('usage: load_expect.js rows|sums|corpus FILE [DIR]');
    process.exit(2);
}
