// fake-http.js: a scripted HTTP server for the end-to-end tests (plain Node, no packages).
//
//   node fake-http.js            listens on 127.0.0.1, a free port; prints the port
//
// Control routes (never logged):
//   POST /__push     one reply object, or an array of them, queued in order
//   POST /__default  the reply used when the queue is empty (initially a 500)
//   GET  /__log      the requests seen: [{method, path, headers, body, at_ms}]
//   POST /__reset    empties the queue and the log, restores the default
//   POST /__release  sends the replies held so far (see hold)
// Every other request is logged when its body has arrived, then takes the next queued
// reply. A reply is {status, headers, body, delay_ms, close, hang, hold}: body is sent
// as is when it is a string and as JSON otherwise; delay_ms waits before answering;
// close drops the connection without a reply; hang never answers (the client must time
// out); hold answers when the test says so (POST /__release), so that a test can keep
// a request in flight for exactly as long as it needs.
'use strict';
const http = require('http');

const FALLBACK = {
  status: 500,
  body: { error: { message: 'fake-http: no reply queued', type: 'server_error', code: null } },
};
let queue = [];
let seen = [];
let fallback = FALLBACK;
let held = []; // replies waiting for /__release: functions that send them
const started = Date.now();

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function send(res, r) {
  if (r.hang) return; // keep the socket open and say nothing
  if (r.close) {
    res.socket.destroy();
    return;
  }
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body === undefined ? {} : r.body);
  const headers = Object.assign({ 'Content-Type': 'application/json' }, r.headers || {});
  headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(r.status || 200, headers);
  res.end(body);
}

function control(req, res, body) {
  const ok = (x) => send(res, { body: x === undefined ? { ok: true } : x });
  try {
    if (req.url === '/__push' && req.method === 'POST') {
      const r = JSON.parse(body);
      queue = queue.concat(Array.isArray(r) ? r : [r]);
      return ok({ ok: true, queued: queue.length });
    }
    if (req.url === '/__default' && req.method === 'POST') {
      fallback = JSON.parse(body);
      return ok();
    }
    if (req.url === '/__log') return ok(seen);
    if (req.url === '/__release' && req.method === 'POST') {
      const n = held.length;
      held.forEach((f) => f());
      held = [];
      return ok({ ok: true, released: n });
    }
    if (req.url === '/__reset' && req.method === 'POST') {
      queue = [];
      held = [];
      seen = [];
      fallback = FALLBACK;
      return ok();
    }
  } catch (e) {
    return send(res, { status: 400, body: { error: String(e) } });
  }
  return send(res, { status: 404, body: { error: 'unknown control route' } });
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  if (req.url.startsWith('/__')) return control(req, res, body);
  seen.push({ method: req.method, path: req.url, headers: req.headers, body, at_ms: Date.now() - started });
  const r = queue.length ? queue.shift() : fallback;
  if (r.hold) held.push(() => send(res, r));
  else if (r.delay_ms) setTimeout(() => send(res, r), r.delay_ms);
  else send(res, r);
});

// A hanging reply keeps its socket; do not let it keep the process alive on shutdown.
server.keepAliveTimeout = 1000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
