// tg-fake.js: a local Telegram Bot API for the end-to-end tests, built around the
// telegram-test-api package (which stores the bot's messages and answers getMe,
// sendMessage, deleteWebhook...). What the package lacks, or does unlike Telegram,
// is done here:
//   - getUpdates honours `offset` (confirming what lies below it) and `timeout` (long
//     polling), so a bot that restarts gets again what it did not confirm;
//   - users' updates are injected through POST /test/inject, which fills in message
//     ids and the entities Telegram would compute (commands, @mentions, in UTF-16);
//   - sendMessage is refused like Telegram refuses it (empty, over 4096 characters);
//   - sendChatAction and setMyCommands exist;
//   - GET /test/events lists the bot's sendMessage and sendChatAction calls in the
//     order they arrived, so that tests can check what came before what;
//   - POST /test/fault arms failures of the next calls of a method.
// Listens on 127.0.0.1, on the port given as the first argument or a free one, and
// prints "tg-fake listening on 127.0.0.1:PORT".
'use strict';
const http = require('http');
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');

const BOT_ID = 666; // what the package's getMe says
const MAX_POLL_S = 25;
let nextUpdateId = Number(process.env.TG_FIRST_UPDATE_ID || 1);
let nextMessageId = 1;
const updates = []; // {update_id, token, field, message}
const pollers = new Set(); // long polls waiting for an update
const faults = {}; // method -> [{code, retry_after, close, delay_ms}]
const events = []; // the bot's accepted sendMessage and sendChatAction calls, in order
const calls = {}; // method -> number of calls

const json = (res, status, body) => res.status(status).json(body);
const apiError = (res, code, description, extra) =>
  json(res, code, { ok: false, error_code: code, description, ...extra });

// Entities as Telegram computes them; JS string offsets are UTF-16 units, as Telegram's.
function entities(text) {
  const out = [];
  const cmd = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  if (cmd) out.push({ type: 'bot_command', offset: 0, length: cmd[0].length });
  for (const m of text.matchAll(/@[A-Za-z0-9_]{3,32}/g)) {
    if (!(cmd && m.index === cmd[0].indexOf('@'))) out.push({ type: 'mention', offset: m.index, length: m[0].length });
  }
  return out;
}

function pending(token, offset) {
  return updates.filter((u) => u.token === token && u.update_id >= offset);
}

function format(u) {
  return { update_id: u.update_id, [u.field]: u.message };
}

function record(req, method) {
  const b = req.body;
  events.push({ seq: events.length + 1, token: req.params.token, method,
    chat_id: Number(b.chat_id), action: b.action,
    reply_to: b.reply_parameters ? b.reply_parameters.message_id : undefined });
}

function wakePollers() {
  for (const p of [...pollers]) p();
}

// Visible length after Telegram's HTML parsing, in UTF-16 units.
function visibleLength(text, parseMode) {
  if (parseMode !== 'HTML') return text.length;
  return text.replace(/<[^>]*>/g, '').replace(/&(lt|gt|amp|quot|#\d+);/g, 'x').length;
}

routes.unshift((app) => {
  app.post('/test/inject', (req, res) => {
    const b = req.body;
    const message = { message_id: nextMessageId++, date: Math.floor(Date.now() / 1000), chat: b.chat,
      from: b.from || { id: b.chat.id, is_bot: false, first_name: 'Test' } };
    if (typeof b.text === 'string') {
      message.text = b.text;
      const ents = entities(b.text);
      if (ents.length) message.entities = ents;
    }
    if (b.sticker) message.sticker = { file_id: 'sticker-1', emoji: '😀', width: 512, height: 512 };
    if (b.photo) message.photo = [{ file_id: 'photo-1', width: 90, height: 90 }];
    if (b.reply_to_bot) message.reply_to_message = { message_id: 1, from: { id: BOT_ID, is_bot: true }, chat: b.chat };
    const u = { update_id: nextUpdateId, token: b.token, field: b.edited ? 'edited_message' : 'message', message };
    nextUpdateId += 1 + (nextUpdateId % 2); // Telegram's ids rise but may skip
    updates.push(u);
    wakePollers();
    if (req.query.format === 'plain') return res.type('text').send(`${u.update_id} ${message.message_id}\n`);
    return json(res, 200, { ok: true, update_id: u.update_id, message_id: message.message_id });
  });

  app.post('/test/fault', (req, res) => {
    const f = req.body;
    const list = (faults[f.method] = faults[f.method] || []);
    for (let i = 0; i < (f.count || 1); i++) list.push(f);
    json(res, 200, { ok: true, armed: list.length });
  });

  // Bot messages in order; with reply_to, waits (up to timeout_ms) for the reply to it
  // and answers 404 if none came. format=lines: "chat<TAB>reply_to<TAB>text" per message,
  // with backslashes and newlines of the text escaped as \\ and \n.
  app.get('/test/messages', (req, res) => {
    const q = req.query;
    const mine = () => server.storage.botMessages
      .filter((m) => m.botToken === q.token && (q.chat === undefined || String(m.message.chat_id) === String(q.chat)))
      .map((m) => ({ chat_id: Number(m.message.chat_id), text: m.message.text, parse_mode: m.message.parse_mode,
        reply_to: m.message.reply_parameters ? m.message.reply_parameters.message_id : null }));
    const done = () => q.reply_to === undefined || mine().some((m) => String(m.reply_to) === String(q.reply_to));
    const deadline = Date.now() + Number(q.timeout_ms || 0);
    const tick = () => {
      if (!done() && Date.now() < deadline) return setTimeout(tick, 20);
      const status = done() ? 200 : 404;
      if (q.format !== 'lines') return json(res, status, { ok: done(), result: mine() });
      const esc = (t) => String(t).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
      return res.status(status).type('text').send(mine().map((m) => `${m.chat_id}\t${m.reply_to}\t${esc(m.text)}\n`).join(''));
    };
    tick();
  });

  app.get('/test/stats', (_req, res) => json(res, 200, { ok: true, calls,
    actions: events.filter((e) => e.method === 'sendChatAction'), queued: updates.length }));

  // The bot's calls in order, "seq<TAB>method<TAB>chat<TAB>action or reply_to" per line.
  app.get('/test/events', (req, res) => {
    const q = req.query;
    const mine = events.filter((e) => e.token === q.token && (q.chat === undefined || String(e.chat_id) === String(q.chat)));
    res.type('text').send(mine.map((e) => `${e.seq}\t${e.method}\t${e.chat_id}\t${e.action || e.reply_to || ''}\n`).join(''));
  });

  app.all('/bot:token/:method', (req, res, next) => {
    const m = req.params.method;
    calls[m] = (calls[m] || 0) + 1;
    const list = faults[m] || [];
    // A fault may name the chat it is for (chat_id): then only that chat's calls take it.
    const i = list.findIndex((f) => f.chat_id === undefined || String(f.chat_id) === String(req.body.chat_id));
    if (i < 0) return next();
    const f = list.splice(i, 1)[0];
    if (f.close) return req.socket.destroy();
    // A client that gave up waiting is gone: like a lost request, it is not processed.
    if (f.delay_ms) return setTimeout(() => (req.socket.destroyed ? null : next()), f.delay_ms);
    if (f.code === 429) return apiError(res, 429, `Too Many Requests: retry after ${f.retry_after || 1}`, { parameters: { retry_after: f.retry_after || 1 } });
    if (f.html) return res.status(f.code).type('html').send('<html>error</html>');
    return apiError(res, f.code, `Injected ${f.code}`);
  });

  app.post('/bot:token/getUpdates', (req, res) => {
    const token = req.params.token;
    const offset = Number(req.body.offset || 0);
    const timeout = Math.min(Number(req.body.timeout || 0), MAX_POLL_S) * 1000;
    for (let i = updates.length - 1; i >= 0; i--) {
      if (updates[i].token === token && updates[i].update_id < offset) updates.splice(i, 1);
    }
    const answer = () => json(res, 200, { ok: true, result: pending(token, offset).slice(0, 100).map(format) });
    if (pending(token, offset).length || timeout === 0) return answer();
    let timer = null;
    const wake = () => {
      pollers.delete(wake);
      clearTimeout(timer);
      if (!res.writableEnded && !res.destroyed) answer();
    };
    timer = setTimeout(wake, timeout);
    pollers.add(wake);
    res.on('close', () => { pollers.delete(wake); clearTimeout(timer); });
  });

  app.post('/bot:token/sendMessage', (req, res, next) => {
    const text = req.body.text;
    if (typeof text !== 'string' || text.trim() === '') return apiError(res, 400, 'Bad Request: message text is empty');
    if (visibleLength(text, req.body.parse_mode) > 4096) return apiError(res, 400, 'Bad Request: message is too long');
    if (req.body.parse_mode && req.body.parse_mode !== 'HTML') return apiError(res, 400, 'Bad Request: unsupported parse_mode');
    record(req, 'sendMessage');
    return next();
  });

  app.post('/bot:token/sendChatAction', (req, res) => {
    record(req, 'sendChatAction');
    json(res, 200, { ok: true, result: true });
  });
  app.post('/bot:token/setMyCommands', (_req, res) => json(res, 200, { ok: true, result: true }));
});

const server = new TelegramServer({ host: '127.0.0.1', port: 1, storeTimeout: 3600 });
// The package listens on config.port, and treats 0 as "use 9000": listen ourselves.
const listener = http.createServer(server.webServer);
listener.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`tg-fake listening on 127.0.0.1:${listener.address().port}`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
