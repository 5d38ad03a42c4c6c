/**
 * The quiz match pattern on Colyseus 0.16 (`@colyseus/core` with its `ws` transport), as a
 * Colyseus user would write it: one Room per match, created by the host with the quiz in its
 * create options, players joining by room id, and the match's events as Colyseus messages
 * (`this.broadcast` for what every client gets, `client.send` for what is personal).
 *
 * Why messages and not schema state sync: the pattern is discrete events with a deadline
 * (a question with its `startsAt`), a reply to one client (`answer_ack`) and per-player
 * parts of `reveal` and `leaderboard`. Colyseus' state is one shared tree sent every
 * `patchRate` (50 ms by default), so a question in it would reach players up to 50 ms later,
 * and per-player parts need a StateView per client; messages are Colyseus' tool for events.
 * The messages carry the same fields as scripts/floorServer.ts's (Colyseus frames them with
 * msgpack instead of JSON). Phase timers are Node timers, exact like the floor server's;
 * Colyseus' own `this.clock` only ticks with the patch loop and would end each phase up to
 * 50 ms late. Everything else is Colyseus' default (patch loop, 3 s pings, matchmaking).
 *
 * Besides Colyseus' own routes it answers GET /health and GET /workers/stats like the floor
 * server, so the benchmark can watch it. Binds 127.0.0.1. Flags as the floor server's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { type Client, Room, Server, ServerError } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3102' },
    'reveal-ms': { type: 'string', default: '1000' },
    'leaderboard-ms': { type: 'string' },
    'time-scale': { type: 'string', default: '1' },
    'finish-grace-ms': { type: 'string', default: '2000' },
    quiet: { type: 'boolean', default: false },
  },
});
const num = (name: string, raw: string | undefined, def: number): number => {
  const v = raw === undefined ? def : Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`colyseus peer: --${name} must be a non-negative number\n`);
    process.exit(2);
  }
  return v;
};
const opts = {
  port: num('port', values.port, 3102),
  revealMs: num('reveal-ms', values['reveal-ms'], 1000),
  leaderboardMs: num('leaderboard-ms', values['leaderboard-ms'] ?? values['reveal-ms'], 1000),
  timeScale: num('time-scale', values['time-scale'], 1),
  finishGraceMs: num('finish-grace-ms', values['finish-grace-ms'], 2000),
  quiet: values.quiet ?? false,
};
const log = (line: string) => {
  if (!opts.quiet) process.stderr.write(`[colyseus] ${line}\n`);
};

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
  client: Client | null;
  score: number;
  streak: number;
  answer: { choice: number; points: number } | null;
  joinOrder: number;
}
type Phase = 'lobby' | 'question' | 'reveal' | 'leaderboard' | 'finished';

/** What GET /workers/stats reports: live rooms and connected players, over every room. */
const live = { rooms: new Set<string>(), players: 0 };

class QuizRoom extends Room {
  private quiz!: Quiz;
  private host: Client | null = null;
  private readonly players: Player[] = [];
  private readonly bySession = new Map<string, Player>();
  private readonly names = new Set<string>();
  private phase: Phase = 'lobby';
  private index = -1;
  private startsAt = 0;
  private endsAt = 0;
  private answered = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly dirty = { players: false, count: false, scheduled: false };

  override onCreate(options: { quiz?: Quiz; players?: number }): void {
    const quiz = options.quiz;
    if (!quiz || !Array.isArray(quiz.questions) || quiz.questions.length === 0) throw new ServerError(400, 'quiz.questions must be a non-empty array');
    this.quiz = quiz;
    // The players asked for plus the host; the room leaves matchmaking once started.
    if (typeof options.players === 'number' && options.players > 0) this.maxClients = options.players + 1;
    live.rooms.add(this.roomId);
    this.onMessage('start', (client) => this.onStart(client));
    this.onMessage('next', (client) => (client === this.host ? this.advance() : this.error(client, 'NOT_HOST', 'next')));
    this.onMessage('answer', (client, msg: { questionIndex?: unknown; choice?: unknown }) => this.onAnswer(client, msg));
    this.onMessage('ping', (client, msg: { t?: unknown }) => client.send('pong', { t: msg?.t, serverTime: Date.now() }));
  }

  override onJoin(client: Client, options: { role?: string; name?: unknown }): void {
    if (options.role === 'host' && this.host === null && this.players.length === 0) {
      this.host = client;
      client.send('welcome', this.welcome(null));
      return;
    }
    if (this.phase !== 'lobby') throw new ServerError(409, 'MATCH_STARTED');
    const name = String(options.name ?? '').trim();
    if (name.length === 0 || name.length > 20) throw new ServerError(400, 'INVALID_NAME');
    const key = name.toLowerCase();
    if (this.names.has(key)) throw new ServerError(409, 'NAME_TAKEN');
    this.names.add(key);
    const player: Player = { id: `p${this.players.length + 1}`, name, client, score: 0, streak: 0, answer: null, joinOrder: this.players.length };
    this.players.push(player);
    this.bySession.set(client.sessionId, player);
    live.players++;
    client.send('welcome', this.welcome(player));
    this.markDirty('players');
  }

  override onLeave(client: Client): void {
    if (client === this.host) this.host = null;
    const player = this.bySession.get(client.sessionId);
    if (!player || player.client !== client) return;
    player.client = null;
    live.players--;
    this.markDirty('players');
  }

  override onDispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    live.rooms.delete(this.roomId);
  }

  // ---- messages ----------------------------------------------------------------------

  private error(client: Client, code: string, ref: string): void {
    client.send('error', { code, message: code, ref });
  }

  private onStart(client: Client): void {
    if (client !== this.host) return this.error(client, 'NOT_HOST', 'start');
    if (this.phase !== 'lobby') return this.error(client, 'MATCH_STARTED', 'start');
    void this.lock();
    this.beginQuestion(0);
  }

  private onAnswer(client: Client, msg: { questionIndex?: unknown; choice?: unknown }): void {
    const p = this.bySession.get(client.sessionId);
    if (!p) return this.error(client, 'NOT_JOINED', 'answer');
    const index = msg?.questionIndex;
    const choice = Number(msg?.choice);
    if (index !== this.index) return this.error(client, 'WRONG_QUESTION', 'answer');
    const now = Date.now();
    if (this.phase !== 'question' || now >= this.endsAt) return this.error(client, 'QUESTION_CLOSED', 'answer');
    if (p.answer) {
      if (p.answer.choice === choice) return client.send('answer_ack', { questionIndex: index, choice });
      return this.error(client, 'ALREADY_ANSWERED', 'answer');
    }
    const q = this.quiz.questions[this.index]!;
    const limit = this.endsAt - this.startsAt;
    p.answer = { choice, points: choice === q.correct ? Math.round(1000 * (1 - (now - this.startsAt) / limit / 2)) : 0 };
    this.answered++;
    client.send('answer_ack', { questionIndex: index, choice });
    this.markDirty('count');
    if (this.answered >= this.players.filter((x) => x.client !== null).length) this.beginReveal();
  }

  // ---- phases (the floor server's, message for message) ------------------------------

  private arm(ms: number, fn: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      fn();
    }, Math.max(0, ms));
  }

  private questionView() {
    const q = this.quiz.questions[this.index];
    if (!q) return null;
    return { index: this.index, total: this.quiz.questions.length, text: q.text, choices: q.choices, startsAt: this.startsAt, endsAt: this.endsAt };
  }

  private beginQuestion(index: number): void {
    const q = this.quiz.questions[index];
    if (!q) return this.finish();
    this.phase = 'question';
    this.index = index;
    this.answered = 0;
    for (const p of this.players) p.answer = null;
    this.startsAt = Date.now();
    this.endsAt = this.startsAt + Math.round(q.timeLimitSec * 1000 * opts.timeScale);
    this.broadcast('question', this.questionView());
    this.arm(this.endsAt - this.startsAt, () => this.beginReveal());
  }

  private beginReveal(): void {
    const q = this.quiz.questions[this.index]!;
    this.phase = 'reveal';
    const counts = q.choices.map(() => 0);
    for (const p of this.players) {
      if (p.answer) counts[p.answer.choice] = (counts[p.answer.choice] ?? 0) + 1;
      p.score += p.answer?.points ?? 0;
      p.streak = p.answer !== null && p.answer.choice === q.correct ? p.streak + 1 : 0;
    }
    const shared = { questionIndex: this.index, correct: q.correct, counts };
    this.sendPersonal('reveal', shared, (p) => ({
      ...(p.answer ? { choice: p.answer.choice } : {}),
      points: p.answer?.points ?? 0,
      score: p.score,
      streak: p.streak,
    }));
    this.arm(opts.revealMs, () => this.beginLeaderboard());
  }

  private beginLeaderboard(): void {
    this.phase = 'leaderboard';
    const all = this.ranked();
    const byId = new Map(all.map((r) => [r.playerId, r]));
    this.sendPersonal('leaderboard', { top: all.slice(0, 10) }, (p) => ({ rank: byId.get(p.id)?.rank ?? 0, score: p.score }));
    this.arm(opts.leaderboardMs, () => this.beginQuestion(this.index + 1));
  }

  private finish(): void {
    this.phase = 'finished';
    this.broadcast('finished', { standings: this.ranked() });
    // Clients leave on `finished`; whoever has not is disconnected, and the empty room disposes.
    this.arm(opts.finishGraceMs, () => void this.disconnect());
  }

  private advance(): void {
    if (this.phase === 'question') this.beginReveal();
    else if (this.phase === 'reveal') this.beginLeaderboard();
    else if (this.phase === 'leaderboard') this.beginQuestion(this.index + 1);
  }

  /** The shared part to the host, the shared part plus `you` to each player (one encode each). */
  private sendPersonal(type: string, shared: object, you: (p: Player) => object): void {
    this.host?.send(type, shared);
    for (const p of this.players) p.client?.send(type, { ...shared, you: you(p) });
  }

  private ranked() {
    const sorted = [...this.players].sort((a, b) => b.score - a.score || a.joinOrder - b.joinOrder);
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

  private playerList() {
    return this.players.map((p) => ({ playerId: p.id, name: p.name, connected: p.client !== null }));
  }

  /** `players` and `answer_count` coalesced once per event-loop turn, as the floor server does. */
  private markDirty(what: 'players' | 'count'): void {
    this.dirty[what] = true;
    if (this.dirty.scheduled) return;
    this.dirty.scheduled = true;
    setImmediate(() => {
      this.dirty.scheduled = false;
      if (this.dirty.players) this.broadcast('players', { players: this.playerList(), locked: false });
      if (this.dirty.count && this.phase === 'question') {
        this.broadcast('answer_count', { questionIndex: this.index, answered: this.answered, total: this.players.length });
      }
      this.dirty.players = false;
      this.dirty.count = false;
    });
  }

  private welcome(player: Player | null) {
    return {
      you: player ? { playerId: player.id, name: player.name, role: 'player' } : { role: 'host' },
      serverTime: Date.now(),
      state: {
        matchId: this.roomId,
        phase: this.phase,
        quiz: { title: this.quiz.title, questionCount: this.quiz.questions.length },
        players: this.playerList(),
        locked: false,
        question: this.phase === 'question' ? this.questionView() : null,
        you: player ? { score: player.score, streak: player.streak, rank: null, answer: null, lastPoints: null } : null,
      },
    };
  }
}

// ---- HTTP: Colyseus' matchmaking routes, plus the two the benchmark reads ----------------

const startedAt = Date.now();

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const matches = live.rooms.size;
  if (req.method === 'GET' && url.pathname === '/health') {
    return json(res, 200, { status: 'OK', service: 'Colyseus peer', workerPool: { totalWorkers: 1, activeWorkers: 1, idleWorkers: 0, totalMatches: matches } });
  }
  if (req.method === 'GET' && url.pathname === '/workers/stats') {
    return json(res, 200, {
      totalWorkers: 1,
      totalMatches: matches,
      maxWorkers: 1,
      maxMatchesPerWorker: null,
      workers: [{ workerId: 0, pid: process.pid, state: 'active', matches: [...live.rooms], players: live.players, uptimeMs: Date.now() - startedAt, restarts: 0 }],
    });
  }
  json(res, 404, { error: { code: 'NOT_FOUND', message: 'No such route.' } });
}

// Colyseus moves the server's 'request' listeners behind its own, which takes /matchmake/*.
const http = createServer(onRequest);
const gameServer = new Server({ transport: new WebSocketTransport({ server: http }), greet: false });
gameServer.define('quiz', QuizRoom);
gameServer.listen(opts.port, '127.0.0.1').then(
  () => {
    const addr = http.address();
    log(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : opts.port} (pid ${process.pid})`);
  },
  (err: Error) => {
    process.stderr.write(`colyseus peer: ${err.message}\n`);
    process.exit(1);
  },
);
