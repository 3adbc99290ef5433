// bench/e2e.js: end-to-end answering speed, as a user gets it.
//   node bench/e2e.js ask CLASSES.tsv   `vabot ask --no-llm` once per question, one after
//                                       another: each run starts the process, reads the
//                                       grammar, connects and answers
//   node bench/e2e.js bot CLASSES.tsv   `vabot serve` against tests/e2e/tg-fake.js
// The questions are column 2 of bench/classes.tsv, in turn. DATABASE_URL names the loaded
// database; VABOT the binary (build/vabot). Counts: BENCH_ASK_N (220), BENCH_LATENCY_N (300
// questions one at a time, for latency), BENCH_BOT_N (10000 questions, BENCH_WINDOW (64) in
// flight from 64 chats, for throughput and memory). Prints "name<TAB>value" lines.
//
// The fake runs in this process, so that the moment the bot's sendMessage arrives is
// seen directly: a route placed in front of the package's records it, with the message it
// replies to. Latency is from just before a user's message is injected to that moment.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const E2E = path.join(ROOT, 'tests', 'e2e');
const VABOT = process.env.VABOT || path.join(ROOT, 'build', 'vabot');
const num = (name, dflt) => Number(process.env[name] || dflt);
const REPLY_WAIT_S = 30; // a limit for a failure, not a speed requirement

function questions(file) {
  return fs.readFileSync(file, 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t')[1]);
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(p * s.length) - 1)];
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const out = (name, value) => console.log(`${name}\t${value}`);

// ==== vabot ask ====

function benchAsk(qs) {
  const n = num('BENCH_ASK_N', 220);
  const lat = [];
  let bad = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(VABOT, ['ask', '--no-llm', qs[i % qs.length]], { encoding: 'utf8' });
    lat.push(ms(t));
    if (r.status !== 0 || !/^-?\d+\n$/.test(r.stdout)) bad++;
  }
  out('ask_answers_per_s', (n / (ms(t0) / 1000)).toFixed(1));
  out('ask_p50_ms', percentile(lat, 0.5).toFixed(2));
  out('ask_p99_ms', percentile(lat, 0.99).toFixed(2));
  out('ask_runs', n);
  out('ask_not_a_number', bad);
}

// ==== vabot serve ====

const waiting = new Map(); // message_id -> function(reply text)
const early = new Map(); // message_id -> reply text that came before its waiter

function hookReplies() {
  const { routes } = require(require.resolve('telegram-test-api/lib/routes/index', { paths: [E2E] }));
  routes.unshift((app) => {
    app.post('/bot:token/sendMessage', (req, _res, next) => {
      let rp = req.body.reply_parameters;
      if (typeof rp === 'string') rp = JSON.parse(rp);
      const id = rp && Number(rp.message_id);
      if (waiting.has(id)) {
        waiting.get(id)(String(req.body.text));
        waiting.delete(id);
      } else if (id) {
        early.set(id, String(req.body.text));
      }
      next();
    });
  });
}

// Starts tg-fake.js here; resolves to its port, read from the line it prints.
function startFake() {
  return new Promise((resolve) => {
    const log = console.log;
    console.log = (line, ...rest) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(String(line));
      if (!m) return log(line, ...rest);
      console.log = log;
      return resolve(Number(m[1]));
    };
    process.argv.length = 2; // tg-fake.js takes a port from argv[2]: let it pick one
    // The bot's ledger remembers the update ids it handled (bot_state) across runs on
    // one database: start above any earlier run's ids, or it would skip ours as old.
    process.env.TG_FIRST_UPDATE_ID = String(Date.now() * 100);
    require(path.join(E2E, 'tg-fake.js'));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// A kept-alive socket may be closed by the server just as a request goes out on it; such
// a request never reached the server, and Node's documentation says to send it again.
function post(port, route, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, path: route, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', (e) => {
      if (req.reusedSocket && e.code === 'ECONNRESET') post(port, route, body).then(resolve, reject);
      else reject(e);
    });
    req.end(data);
  });
}

// One question from a chat: resolves to [latency ms, reply text].
async function ask(bot, chat, text) {
  const t0 = process.hrtime.bigint();
  let reply;
  const replied = new Promise((resolve) => { reply = resolve; });
  const r = await post(bot.port, '/test/inject', { token: bot.token, chat: { id: chat, type: 'private' }, text });
  const timer = setTimeout(() => {
    console.error(`e2e: no reply in ${REPLY_WAIT_S} s to "${text}" from chat ${chat}`);
    process.exit(1);
  }, REPLY_WAIT_S * 1000);
  replied.then(() => clearTimeout(timer));
  if (early.has(r.message_id)) {
    reply([ms(t0), early.get(r.message_id)]);
    early.delete(r.message_id);
  } else {
    waiting.set(r.message_id, (t) => reply([ms(t0), t]));
  }
  return replied;
}

function startBot(port) {
  const token = `${process.pid}:BENCH-${Date.now()}`;
  const env = { ...process.env, TELEGRAM_API_URL: `http://127.0.0.1:${port}`, BOT_TOKEN: token,
    VABOT_CHAT_PER_MIN: '0', OPENAI_API_KEY: '' };
  const child = spawn(VABOT, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
      if (/serving @/.test(err)) resolve({ child, port, token });
    });
    child.on('exit', (code) => reject(new Error(`vabot serve exited ${code}: ${err.slice(-300)}`)));
  });
}

// Peak and current resident memory of a process, in kB.
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]);
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

async function benchBot(qs) {
  hookReplies();
  const bot = await startBot(await startFake());
  let bad = 0;
  const check = (text) => { if (!/^-?\d+$/.test(text)) bad++; };
  const lat = [];
  for (let i = 0; i < num('BENCH_LATENCY_N', 300); i++) {
    const [t, text] = await ask(bot, 1, qs[i % qs.length]);
    lat.push(t);
    check(text);
  }
  out('bot_p50_ms', percentile(lat, 0.5).toFixed(2));
  out('bot_p99_ms', percentile(lat, 0.99).toFixed(2));
  out('bot_latency_runs', lat.length);

  // Throughput: a window of questions in flight from many chats; memory at 1 000 and at
  // the end (10 000), counting the questions answered in this phase.
  const total = num('BENCH_BOT_N', 10000), window = num('BENCH_WINDOW', 64);
  let sent = 0, answered = 0, at1000 = null;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (sent < total) {
      const i = sent++;
      const [, text] = await ask(bot, 1000 + (i % window), qs[i % qs.length]);
      check(text);
      if (++answered === 1000) at1000 = memory(bot.child.pid);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const secs = ms(t0) / 1000;
  const end = memory(bot.child.pid);
  out('bot_answers_per_s', (total / secs).toFixed(1));
  out('bot_questions', total);
  out('bot_rss_peak_kb_1000', at1000.peak);
  out('bot_rss_peak_kb_end', end.peak);
  out('bot_rss_now_kb_1000', at1000.now);
  out('bot_rss_now_kb_end', end.now);
  out('bot_not_a_number', bad);
  bot.child.removeAllListeners('exit');
  bot.child.kill('SIGTERM');
  await new Promise((resolve) => bot.child.on('exit', resolve));
}

async function main() {
  const [mode, file] = process.argv.slice(2);
  const qs = questions(file);
  if (mode === 'ask') benchAsk(qs);
  else if (mode === 'bot') await benchBot(qs);
  else throw new Error('usage: node bench/e2e.js ask|bot CLASSES.tsv');
  process.exit(0);
}

main().catch((e) => { console.error(`e2e: ${e.message}`); process.exit(1); });
