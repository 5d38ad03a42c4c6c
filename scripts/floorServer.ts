/**
 * The performance floor: the match protocol's message pattern on bare `ws` + node:http,
 * with nothing else — no validation beyond JSON.parse, no persistence, no workers, no
 * metrics, trivial scoring, fixed short reveal/leaderboard phases. What the load generator
 * measures against this is "what `ws` alone does with the same message sizes and pattern";
 * the real service can only be slower.
 *
 *   ts-node --transpile-only scripts/floorServer.ts --port 3101 --reveal-ms 1000
 *
 * Implements: POST /matches, GET /matches/:id, GET /health, GET /workers/stats (its own pid,
 * so the load generator samples it without --pids), and the WebSocket at /ws/matches/:id
 * with join, resume (player or host), start, next, answer, ping, leave. Binds 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

// ---- options --------------------------------------------------------------------------

const USAGE = `Usage: ts-node --transpile-only scripts/floorServer.ts [options]

  --port N              listen port on 127.0.0.1            (default 3101)
  --reveal-ms MS        length of each reveal phase          (default 1000)
  --leaderboard-ms MS   length of each leaderboard phase     (default: --reveal-ms)
  --time-scale X        multiplies question time limits      (default 1)
  --finish-grace-ms MS  sockets are closed this long after finished (default 2000)
  --quiet               no log lines
  -h, --help`;

interface FloorOptions {
  port: number;
  revealMs: number;
  leaderboardMs: number;
  timeScale: number;
  finishGraceMs: number;
  quiet: boolean;
}

function parseOptions(argv: string[]): FloorOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      'reveal-ms': { type: 'string' },
      'leaderboard-ms': { type: 'string' },
      'time-scale': { type: 'string' },
      'finish-grace-ms': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (name: string, raw: string | undefined, def: number, min: number, max: number): number => {
    if (raw === undefined) return def;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
      process.stderr.write(`floorServer: --${name} must be a number within ${min}..${max}\n\n${USAGE}\n`);
      process.exit(2);
    }
    return v;
  };
  const revealMs = Math.round(num('reveal-ms', values['reveal-ms'], 1000, 0, 600_000));
  return {
    port: Math.round(num('port', values.port, 3101, 0, 65535)),
    revealMs,
    leaderboardMs: Math.round(num('leaderboard-ms', values['leaderboard-ms'], revealMs, 0, 600_000)),
    timeScale: num('time-scale', values['time-scale'], 1, 0.001, 100),
    finishGraceMs: Math.round(num('finish-grace-ms', values['finish-grace-ms'], 2000, 0, 600_000)),
    quiet: values.quiet ?? false,
  };
}

const opts = parseOptions(process.argv.slice(2));
const log = (line: string) => {
  if (!opts.quiet) process.stderr.write(`[floor] ${line}\n`);
};

// ---- matches --------------------------------------------------------------------------

interface Question {
  text: string;
  choices: string[];
  correct: number;
  timeLimitSec: number;
}
interface Quiz {
  title: string;
  questions: Question[];
}

interface Player {
  id: string;
  name: string;
  token: string;
  ws: WebSocket | null;
  score: number;
  streak: number;
  answer: { choice: number; points: number } | null;
  joinOrder: number;
}

type Phase = 'lobby' | 'question' | 'reveal' | 'leaderboard' | 'finished';

interface Room {
  id: string;
  quiz: Quiz;
  hostToken: string;
  host: WebSocket | null;
  players: Player[];
  byToken: Map<string, Player>;
  names: Set<string>;
  phase: Phase;
  index: number;
  startsAt: number;
  endsAt: number;
  phaseEndsAt: number | null;
  answered: number;
  timer: NodeJS.Timeout | null;
  /** Coalesced broadcasts, flushed once per event-loop turn. */
  dirty: { players: boolean; count: boolean; scheduled: boolean };
}

interface Binding {
  room: Room;
  player: Player | null;
  host: boolean;
}

const rooms = new Map<string, Room>();
const bindings = new Map<WebSocket, Binding>();
const ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const LOBBY_IDLE_MS = 10 * 60_000;

function newMatchId(): string {
  // Bounded: 32^6 ids; give up after 100 collisions.
  for (let i = 0; i < 100; i++) {
    const bytes = randomBytes(6);
    let id = '';
    for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
    if (!rooms.has(id)) return id;
  }
  throw new Error('no free match id');
}

const token = () => randomBytes(16).toString('base64url');

function createRoom(quiz: Quiz): Room {
  const room: Room = {
    id: newMatchId(),
    quiz,
    hostToken: token(),
    host: null,
    players: [],
    byToken: new Map(),
    names: new Set(),
    phase: 'lobby',
    index: -1,
    startsAt: 0,
    endsAt: 0,
    phaseEndsAt: null,
    answered: 0,
    timer: null,
    dirty: { players: false, count: false, scheduled: false },
  };
  rooms.set(room.id, room);
  arm(room, LOBBY_IDLE_MS, () => closeRoom(room, 'lobby idle'));
  return room;
}

function arm(room: Room, ms: number, fn: () => void): void {
  if (room.timer) clearTimeout(room.timer);
  room.timer = setTimeout(() => {
    room.timer = null;
    fn();
  }, Math.max(0, ms));
}

// ---- sending ---------------------------------------------------------------------------

function sendTo(ws: WebSocket | null, msg: object): void {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function sockets(room: Room): WebSocket[] {
  const out: WebSocket[] = [];
  if (room.host) out.push(room.host);
  for (const p of room.players) if (p.ws) out.push(p.ws);
  return out;
}

/** Serializes once for the whole room. */
function broadcast(room: Room, msg: object): void {
  const data = Buffer.from(JSON.stringify(msg));
  for (const ws of sockets(room)) if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: false });
}

/** Shared text with a per-player `you` spliced in (same trick as the real server). */
function broadcastPersonal(room: Room, msg: object, you: (p: Player) => object): void {
  const text = JSON.stringify(msg);
  const head = text.slice(0, -1);
  if (room.host && room.host.readyState === WebSocket.OPEN) room.host.send(text);
  for (const p of room.players) {
    if (p.ws && p.ws.readyState === WebSocket.OPEN) p.ws.send(`${head},"you":${JSON.stringify(you(p))}}`);
  }
}

function markDirty(room: Room, what: 'players' | 'count'): void {
  room.dirty[what] = true;
  if (room.dirty.scheduled) return;
  room.dirty.scheduled = true;
  setImmediate(() => {
    room.dirty.scheduled = false;
    if (room.dirty.players) broadcast(room, { type: 'players', players: playerList(room), locked: false });
    if (room.dirty.count && room.phase === 'question') {
      broadcast(room, { type: 'answer_count', questionIndex: room.index, answered: room.answered, total: room.players.length });
    }
    room.dirty.players = false;
    room.dirty.count = false;
  });
}

function playerList(room: Room) {
  return room.players.map((p) => ({ playerId: p.id, name: p.name, connected: p.ws !== null }));
}

function ranked(room: Room) {
  const sorted = [...room.players].sort((a, b) => b.score - a.score || a.joinOrder - b.joinOrder);
  let rank = 0;
  let last = Number.NaN;
  return sorted.map((p, i) => {
    if (p.score !== last) {
      rank = i + 1;
      last = p.score;
    }
    return { playerId: p.id, name: p.name, score: p.score, rank };
  });
}

function questionView(room: Room) {
  const q = room.quiz.questions[room.index];
  if (!q) return null;
  return {
    index: room.index,
    total: room.quiz.questions.length,
    text: q.text,
    choices: q.choices,
    startsAt: room.startsAt,
    endsAt: room.endsAt,
  };
}

function welcome(room: Room, player: Player | null): object {
  const q = room.phase === 'question' || room.phase === 'reveal' ? questionView(room) : null;
  return {
    type: 'welcome',
    you: player ? { playerId: player.id, name: player.name, role: 'player' } : { role: 'host' },
    token: player ? player.token : room.hostToken,
    serverTime: Date.now(),
    state: {
      matchId: room.id,
      phase: room.phase,
      quiz: { title: room.quiz.title, questionCount: room.quiz.questions.length },
      players: playerList(room),
      locked: false,
      lateJoin: false,
      phaseEndsAt: room.phaseEndsAt,
      question: q,
      answered: room.phase === 'question' ? { answered: room.answered, total: room.players.length } : null,
      reveal: null,
      leaderboard: null,
      standings: room.phase === 'finished' ? ranked(room) : null,
      you: player
        ? {
            score: player.score,
            streak: player.streak,
            rank: null,
            answer: player.answer && room.phase === 'question' ? { questionIndex: room.index, choice: player.answer.choice } : null,
            lastPoints: null,
          }
        : null,
    },
  };
}

// ---- phases ----------------------------------------------------------------------------

function beginQuestion(room: Room, index: number): void {
  const q = room.quiz.questions[index];
  if (!q) return finish(room);
  room.phase = 'question';
  room.index = index;
  room.answered = 0;
  for (const p of room.players) p.answer = null;
  room.startsAt = Date.now();
  room.endsAt = room.startsAt + Math.round(q.timeLimitSec * 1000 * opts.timeScale);
  room.phaseEndsAt = room.endsAt;
  broadcast(room, { type: 'question', ...questionView(room) });
  arm(room, room.endsAt - room.startsAt, () => beginReveal(room));
}

function beginReveal(room: Room): void {
  const q = room.quiz.questions[room.index]!;
  room.phase = 'reveal';
  room.phaseEndsAt = Date.now() + opts.revealMs;
  const counts = q.choices.map(() => 0);
  for (const p of room.players) {
    if (p.answer) counts[p.answer.choice] = (counts[p.answer.choice] ?? 0) + 1;
    const correct = p.answer !== null && p.answer.choice === q.correct;
    p.score += p.answer?.points ?? 0;
    p.streak = correct ? p.streak + 1 : 0;
  }
  broadcastPersonal(room, { type: 'reveal', questionIndex: room.index, correct: q.correct, counts }, (p) => ({
    ...(p.answer ? { choice: p.answer.choice } : {}),
    points: p.answer?.points ?? 0,
    score: p.score,
    streak: p.streak,
  }));
  arm(room, opts.revealMs, () => beginLeaderboard(room));
}

function beginLeaderboard(room: Room): void {
  room.phase = 'leaderboard';
  room.phaseEndsAt = Date.now() + opts.leaderboardMs;
  const all = ranked(room);
  const byId = new Map(all.map((r) => [r.playerId, r]));
  broadcastPersonal(room, { type: 'leaderboard', top: all.slice(0, 10) }, (p) => {
    const r = byId.get(p.id);
    return { rank: r?.rank ?? 0, score: p.score };
  });
  arm(room, opts.leaderboardMs, () => beginQuestion(room, room.index + 1));
}

function finish(room: Room): void {
  room.phase = 'finished';
  room.phaseEndsAt = null;
  broadcast(room, { type: 'finished', standings: ranked(room) });
  arm(room, opts.finishGraceMs, () => closeRoom(room, 'match finished'));
}

function closeRoom(room: Room, reason: string): void {
  if (room.timer) clearTimeout(room.timer);
  room.timer = null;
  for (const ws of sockets(room)) ws.close(1000, reason);
  rooms.delete(room.id);
  log(`match ${room.id} closed: ${reason}`);
}

/** Ends the current phase now (host `next`, or every connected player answered). */
function advance(room: Room): void {
  switch (room.phase) {
    case 'question':
      return beginReveal(room);
    case 'reveal':
      return beginLeaderboard(room);
    case 'leaderboard':
      return beginQuestion(room, room.index + 1);
    default:
      return;
  }
}

// ---- messages --------------------------------------------------------------------------

function error(ws: WebSocket, code: string, ref?: string): void {
  sendTo(ws, { type: 'error', code, message: code, ...(ref ? { ref } : {}) });
}

function onMessage(ws: WebSocket, room: Room, data: RawData): void {
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(data.toString()) as Record<string, unknown>;
  } catch {
    return error(ws, 'BAD_MESSAGE');
  }
  if (typeof msg !== 'object' || msg === null) return error(ws, 'BAD_MESSAGE');
  const type = String(msg.type);
  const b = bindings.get(ws);
  if (!b) return;

  switch (type) {
    case 'ping':
      return sendTo(ws, { type: 'pong', t: msg.t, serverTime: Date.now() });
    case 'join': {
      if (b.player || b.host) return error(ws, 'BAD_MESSAGE', type);
      if (room.phase !== 'lobby') return error(ws, 'MATCH_STARTED', type);
      const name = String(msg.name ?? '').trim();
      if (name.length === 0 || name.length > 20) return error(ws, 'INVALID_NAME', type);
      const key = name.toLowerCase();
      if (room.names.has(key)) return error(ws, 'NAME_TAKEN', type);
      room.names.add(key);
      const player: Player = {
        id: `p${room.players.length + 1}`,
        name,
        token: token(),
        ws,
        score: 0,
        streak: 0,
        answer: null,
        joinOrder: room.players.length,
      };
      room.players.push(player);
      room.byToken.set(player.token, player);
      b.player = player;
      sendTo(ws, welcome(room, player));
      return markDirty(room, 'players');
    }
    case 'resume': {
      if (b.player || b.host) return error(ws, 'BAD_MESSAGE', type);
      const t = String(msg.token ?? '');
      if (t === room.hostToken) {
        if (room.host && room.host !== ws) replace(room.host);
        room.host = ws;
        b.host = true;
        return sendTo(ws, welcome(room, null));
      }
      const player = room.byToken.get(t);
      if (!player) return error(ws, 'TOKEN_INVALID', type);
      if (player.ws && player.ws !== ws) replace(player.ws);
      player.ws = ws;
      b.player = player;
      sendTo(ws, welcome(room, player));
      return markDirty(room, 'players');
    }
    case 'start':
      if (!b.host) return error(ws, b.player ? 'NOT_HOST' : 'NOT_JOINED', type);
      if (room.phase !== 'lobby') return error(ws, 'MATCH_STARTED', type);
      log(`match ${room.id} started with ${room.players.length} players`);
      return beginQuestion(room, 0);
    case 'next':
      if (!b.host) return error(ws, b.player ? 'NOT_HOST' : 'NOT_JOINED', type);
      return advance(room);
    case 'answer': {
      const p = b.player;
      if (!p) return error(ws, 'NOT_JOINED', type);
      const index = msg.questionIndex;
      const choice = Number(msg.choice);
      if (index !== room.index) return error(ws, 'WRONG_QUESTION', type);
      const now = Date.now();
      if (room.phase !== 'question' || now >= room.endsAt) return error(ws, 'QUESTION_CLOSED', type);
      if (p.answer) {
        if (p.answer.choice === choice) return sendTo(ws, { type: 'answer_ack', questionIndex: index, choice });
        return error(ws, 'ALREADY_ANSWERED', type);
      }
      const q = room.quiz.questions[room.index]!;
      const t = now - room.startsAt;
      const limit = room.endsAt - room.startsAt;
      p.answer = { choice, points: choice === q.correct ? Math.round(1000 * (1 - t / limit / 2)) : 0 };
      room.answered++;
      sendTo(ws, { type: 'answer_ack', questionIndex: index, choice });
      markDirty(room, 'count');
      if (room.answered >= room.players.filter((x) => x.ws !== null).length) beginReveal(room);
      return;
    }
    case 'leave': {
      const p = b.player;
      if (!p) return error(ws, 'NOT_JOINED', type);
      p.ws = null;
      b.player = null;
      return markDirty(room, 'players');
    }
    default:
      return error(ws, 'UNKNOWN_TYPE', type.slice(0, 40));
  }
}

function replace(old: WebSocket): void {
  bindings.delete(old);
  old.close(1000, 'replaced by a newer connection');
}

function onClose(ws: WebSocket): void {
  const b = bindings.get(ws);
  bindings.delete(ws);
  if (!b) return;
  if (b.host && b.room.host === ws) b.room.host = null;
  if (b.player && b.player.ws === ws) {
    b.player.ws = null;
    if (rooms.has(b.room.id)) markDirty(b.room, 'players');
  }
}

// ---- HTTP ------------------------------------------------------------------------------

const QUIZ_DIR = path.resolve(__dirname, '..', 'quizzes');
const startedAt = Date.now();

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function httpError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

function loadQuiz(body: Record<string, unknown>): Quiz | string {
  if (body.quiz !== undefined) {
    const q = body.quiz as Quiz;
    if (!q || !Array.isArray(q.questions) || q.questions.length === 0) return 'quiz.questions must be a non-empty array';
    return q;
  }
  if (typeof body.quizId === 'string' && /^[a-z0-9-]{1,40}$/.test(body.quizId)) {
    try {
      return JSON.parse(readFileSync(path.join(QUIZ_DIR, `${body.quizId}.json`), 'utf8')) as Quiz;
    } catch {
      return `Unknown quizId "${body.quizId}".`;
    }
  }
  return 'Give exactly one of "quizId" or "quiz".';
}

async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === '/matches') {
    const text = await readBody(req, 256 * 1024);
    if (text === null) return httpError(res, 413, 'TOO_LARGE', 'Request body is too large.');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return httpError(res, 400, 'BAD_REQUEST', 'Request body is not valid JSON.');
    }
    const quiz = typeof body === 'object' && body !== null ? loadQuiz(body) : 'body must be an object';
    if (typeof quiz === 'string') return httpError(res, 400, 'BAD_REQUEST', quiz);
    const room = createRoom(quiz);
    return json(res, 201, {
      matchId: room.id,
      hostToken: room.hostToken,
      wsPath: `/ws/matches/${room.id}`,
      workerId: 0,
      joinUrl: `http://127.0.0.1:${opts.port}/?join=${room.id}`,
    });
  }
  if (req.method === 'GET') {
    const m = /^\/matches\/([A-Za-z0-9]{6})$/.exec(url.pathname);
    if (m) {
      const room = rooms.get(m[1]!.toUpperCase());
      if (!room) return httpError(res, 404, 'NOT_FOUND', 'No such match.');
      return json(res, 200, {
        matchId: room.id,
        status: room.phase === 'lobby' ? 'lobby' : room.phase === 'finished' ? 'finished' : 'running',
        players: room.players.length,
        workerId: 0,
        quiz: { title: room.quiz.title, questionCount: room.quiz.questions.length },
      });
    }
    if (url.pathname === '/health') {
      return json(res, 200, { status: 'OK', service: 'Floor server (bare ws)', version: '0', workerPool: { totalWorkers: 1, activeWorkers: 1, idleWorkers: 0, totalMatches: rooms.size } });
    }
    if (url.pathname === '/workers/stats') {
      let players = 0;
      for (const r of rooms.values()) players += r.players.filter((p) => p.ws).length;
      return json(res, 200, {
        totalWorkers: 1,
        totalMatches: rooms.size,
        maxWorkers: 1,
        maxMatchesPerWorker: null,
        workers: [{ workerId: 0, pid: process.pid, state: 'active', matches: [...rooms.keys()], players, uptimeMs: Date.now() - startedAt, restarts: 0 }],
      });
    }
  }
  return httpError(res, 404, 'NOT_FOUND', 'No such route.');
}

// ---- wiring ----------------------------------------------------------------------------

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096, clientTracking: false });

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  const body = JSON.stringify({ error: { code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: text } });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const server = createServer((req, res) => {
  onRequest(req, res).catch((err: Error) => {
    log(`request failed: ${err.message}`);
    if (!res.headersSent) httpError(res, 500, 'INTERNAL', 'Something went wrong.');
  });
});
server.keepAliveTimeout = 5000;

server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  const m = /^\/ws\/matches\/([A-Za-z0-9]{6})$/.exec(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
  const room = m ? rooms.get(m[1]!.toUpperCase()) : undefined;
  if (!room) return rejectUpgrade(socket, 404, 'Not Found');
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (!rooms.has(room.id)) return ws.close(1013, 'match gone');
    bindings.set(ws, { room, player: null, host: false });
    ws.on('message', (data, isBinary) => (isBinary ? error(ws, 'BAD_MESSAGE') : onMessage(ws, room, data)));
    ws.on('close', () => onClose(ws));
    ws.on('error', () => ws.terminate());
  });
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log(`${signal}: closing ${rooms.size} matches`);
  for (const room of rooms.values()) {
    if (room.timer) clearTimeout(room.timer);
    room.timer = null;
  }
  for (const ws of bindings.keys()) ws.terminate();
  rooms.clear();
  wss.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

server.on('error', (err: Error) => {
  process.stderr.write(`floorServer: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  log(`listening on http://127.0.0.1:${port} (pid ${process.pid}, reveal ${opts.revealMs} ms, leaderboard ${opts.leaderboardMs} ms, time scale ${opts.timeScale})`);
});
