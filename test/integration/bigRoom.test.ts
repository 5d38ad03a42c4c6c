/**
 * A big match (issue 13, "Big rooms"; PROTOCOL.md Part 2, "Big matches"): 10,000 players in one
 * match on a pool of ONE worker. Every player gets every question, every answer is
 * acknowledged, the worker is SIGKILLed mid-question and the match goes on on its successor
 * (every player resumes, every acknowledged answer is still there), and the standings in the
 * results are exactly what the players sent. On the way, nobody gets a list of 10,000 players:
 * lists are cut to PLAYER_LIST_MAX, players see counts, and each sees its own final place.
 *
 * Not timed: every wait is bounded, but generously, and no assertion reads a clock. It is heavy
 * (10,000 sockets in this process, 10,000 in the worker): BIG_ROOM_PLAYERS runs it smaller
 * while developing (at least 300, so the match is big at the default PLAYER_LIST_MAX of 200).
 * It prints what it measured (time per stage, bytes the players received, the worker's memory).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type AnswerPolicy } from '../../scripts/lib/answerer';
import { MatchClient } from '../../scripts/lib/matchClient';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { readProcStat, ticksPerSecond } from '../../scripts/lib/procfs';
import { pidAlive } from '../../scripts/lib/processTree';
import { OUTLIVE_RESTARTS } from '../../scripts/lib/retryPolicy';
import { LoadStats } from '../../scripts/lib/stats';
import type { RankedPlayer, ServerMessage } from '../../src/protocol/messages';
import { eventually, ProcessGroup } from '../helpers/processes';
import { type MatchResults, type RunningService, createMatch, json, startMatchService } from '../helpers/servers';

const PLAYERS = Number(process.env.BIG_ROOM_PLAYERS ?? 10_000);
const LIST_MAX = 200;
const QUESTIONS = 2;
const CRASH_Q = 1;
/** Connects in flight at once while the players join. */
const JOIN_BATCH = 200;
/** The bound on each stage's wait: generous, a 2-CPU machine also runs the clients. */
const STAGE_MS = 10 * 60_000;

const quiz = {
  title: 'Big room',
  // The longest limit there is: the question closes when everyone has answered, well before.
  questions: Array.from({ length: QUESTIONS }, (_, i) => ({ text: `Q${i}`, choices: ['a', 'b', 'c', 'd'], correct: (i + 1) % 4, timeLimitSec: 240 })),
};
const correctOf = (i: number) => quiz.questions[i]!.correct;
/** Player k's choice at question i: right unless (k + i) is a multiple of 3. */
const choiceOf = (k: number, i: number) => ((k + i) % 3 !== 0 ? correctOf(i) : (correctOf(i) + 1 + (k % 3)) % 4);
/** The second half of the players hold their answer to the crash question until after the crash. */
const holds = (k: number) => k >= PLAYERS / 2;

const POOL_ENV = {
  MAX_WORKERS: '1',
  MAX_MATCHES: '1',
  MAX_PLAYERS: String(PLAYERS),
  PLAYER_LIST_MAX: String(LIST_MAX),
  // Every duration × 5: a question may stay open 20 minutes (it closes once everyone answered).
  MATCH_TIME_SCALE: '5',
  QUESTION_INTRO_MS: '0',
  REVEAL_MS: '60',
  LEADERBOARD_MS: '60',
  FINISH_GRACE_MS: '60000',
  // Dropped players stay present: the crash question waits for every one of them to answer.
  RECONNECT_GRACE_MS: '600000',
  // The production heartbeat (FAST_ENV's 1.5 s timeout is for small test matches).
  HEARTBEAT_INTERVAL_MS: '1000',
  HEARTBEAT_TIMEOUT_MS: '5000',
  // Every player is on 127.0.0.1: one client address, sending 10,000 players' messages.
  ADDRESS_MSG_RATE_PER_SEC: '1000000',
  ADDRESS_MSG_BURST: '1000000',
  JOIN_DEADLINE_MS: '120000',
  CLIENT_PING_INTERVAL_MS: '120000',
  UPGRADE_HOLD_MS: '10000',
  LOG_LEVEL: 'warn',
};

interface Seen {
  /** Question indexes this player was shown (a `question`, or a welcome during one). */
  questions: Set<number>;
  finished: Extract<ServerMessage, { type: 'finished' }> | null;
  rosterCounts: number;
  /** The longest player list it was sent (`players` messages and welcomes). */
  longestList: number;
}

const group = new ProcessGroup();
const clients: MatchClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop(200)));
  await group.stopAll();
});

/**
 * /workers/stats, asked again on a failed connection: the test process is busy with 10,000
 * sockets, and its fetch may reuse a keep-alive connection the master has closed meanwhile.
 */
function workerStats(svc: RunningService) {
  return eventually(() => fetchWorkerStats(svc.url).catch(() => undefined), 30_000, '/workers/stats');
}

function worker(svc: RunningService) {
  return workerStats(svc).then((s) => s.workers.find((w) => w.matches.length > 0));
}

/** A process' memory (VmRSS, and VmHWM: its peak) in MiB and the CPU time it used so far, for the log. */
function usage(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) / 1024);
  const cpu = (readProcStat(pid)?.ownTicks ?? NaN) / ticksPerSecond();
  return `RSS ${mib('VmRSS')} MiB (peak ${mib('VmHWM')} MiB), CPU ${cpu.toFixed(1)} s so far`;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function allOf(what: string, check: (c: MatchClient, k: number) => boolean): Promise<void> {
  await eventually(() => (clients.every(check) ? true : undefined), STAGE_MS, `${what} (${clients.filter((c, k) => !check(c, k)).length} of ${clients.length} not yet)`);
}

describe(`a big match: ${PLAYERS} players on one worker`, () => {
  it('every player gets every question, every answer is acked, a SIGKILLed worker is replaced mid-question, the standings are exact', { timeout: 6 * STAGE_MS }, async () => {
    expect(PLAYERS, 'a big match needs more players than PLAYER_LIST_MAX').toBeGreaterThan(LIST_MAX);
    const svc = await startMatchService(group, 'pool', POOL_ENV);
    const match = await createMatch(svc, { quiz, settings: { maxPlayers: PLAYERS } });
    const url = svc.wsUrl + match.wsPath;
    const stats = new LoadStats();
    const seen: Seen[] = [];
    const log: string[] = [];
    let stageStarted = Date.now();
    const stage = (what: string) => {
      log.push(`${what}: ${((Date.now() - stageStarted) / 1000).toFixed(1)} s, players received ${mib(stats.bytesIn)} in all`);
      stageStarted = Date.now();
    };

    const host = new MatchClient({ url, hello: { type: 'resume', token: match.hostToken }, role: 'host', retry: OUTLIVE_RESTARTS, keepMessages: true, closeOnFinish: false, connectTimeoutMs: 60_000 });
    await host.connectOrThrow();

    // ---- join ----
    for (let k = 0; k < PLAYERS; k++) {
      const mine: Seen = { questions: new Set(), finished: null, rosterCounts: 0, longestList: 0 };
      seen.push(mine);
      const answer: AnswerPolicy = { delayMs: () => 0, choose: (i) => ({ choice: choiceOf(k, i), intendedCorrect: false }) };
      clients.push(
        new MatchClient({
          url,
          hello: { type: 'join', name: `Player ${k}` },
          role: 'player',
          stats,
          answer,
          hold: holds(k) ? [CRASH_Q] : [],
          retry: OUTLIVE_RESTARTS,
          connectTimeoutMs: 60_000,
          events: {
            welcome: (_c, msg) => {
              mine.longestList = Math.max(mine.longestList, msg.state.players.length);
              if (msg.state.phase === 'question' && msg.state.question) mine.questions.add(msg.state.question.index);
            },
            question: (_c, q) => mine.questions.add(q.index),
            message: (_c, msg) => {
              if (msg.type === 'roster_count') mine.rosterCounts++;
              if (msg.type === 'players') mine.longestList = Math.max(mine.longestList, msg.players.length);
              if (msg.type === 'finished') mine.finished = msg;
            },
          },
        }),
      );
    }
    for (let k = 0; k < PLAYERS; k += JOIN_BATCH) await Promise.all(clients.slice(k, k + JOIN_BATCH).map((c) => c.connectOrThrow()));
    stage(`${PLAYERS} joins`);
    const victim = (await worker(svc))!;
    log.push(`worker after the joins: ${usage(victim.pid)}; master: ${usage(svc.proc.pid)}`);

    // ---- question 0, answered by everyone ----
    host.send({ type: 'start' });
    await allOf('every player to get question 0', (_c, k) => seen[k]!.questions.has(0));
    const beforeAnswers = stats.bytesIn;
    await allOf('every answer to question 0 to be acked', (c) => c.acks.has(0));
    await allOf('every player to get question 1', (_c, k) => seen[k]!.questions.has(CRASH_Q));
    log.push(`question 0 (answers, acks, counts, reveal, leaderboard, question 1): players received ${mib(stats.bytesIn - beforeAnswers)}`);
    stage('question 0 and on to question 1');

    // ---- question 1: half answer, the worker dies, everyone resumes, the other half answer ----
    await allOf('the first half to have their answers to question 1 acked', (c, k) => holds(k) || c.acks.has(CRASH_Q));
    log.push(`worker at the crash: ${usage(victim.pid)}`);
    process.kill(victim.pid, 'SIGKILL');
    await eventually(() => (!pidAlive(victim.pid) ? true : undefined), 10_000, 'the worker to die');
    stage('half of question 1, then SIGKILL');
    await allOf('every player to resume on the new worker', (c) => c.resumes >= 1 && c.phase === 'joined');
    stage('every player resumed');
    const successor = (await worker(svc))!;
    expect(successor.pid).not.toBe(victim.pid);
    // Every answer acknowledged before the crash is in the restored match.
    for (const [k, c] of clients.entries()) {
      if (holds(k)) continue;
      expect(c.welcomes.at(-1)!.state.you?.answer, c.name).toEqual({ questionIndex: CRASH_Q, choice: choiceOf(k, CRASH_Q) });
    }
    for (const [k, c] of clients.entries()) if (holds(k)) c.release(CRASH_Q);
    await allOf('every answer to question 1 to be acked', (c) => c.acks.has(CRASH_Q));
    await allOf('every player to see the end', (_c, k) => seen[k]!.finished !== null);
    stage('the rest of question 1 and the end');
    log.push(`new worker at the end: ${usage(successor.pid)}; master: ${usage(svc.proc.pid)}`);

    // ---- what everyone saw ----
    for (const [k, c] of clients.entries()) {
      expect([...seen[k]!.questions].sort(), c.name).toEqual([0, 1]);
      for (let i = 0; i < QUESTIONS; i++) expect(c.acks.get(i), `${c.name} ack ${i}`).toBe(choiceOf(k, i));
      expect(seen[k]!.longestList, `${c.name}: no list longer than PLAYER_LIST_MAX`).toBeLessThanOrEqual(LIST_MAX);
      expect(seen[k]!.rosterCounts, `${c.name} got the roster counts`).toBeGreaterThan(0);
    }
    for (const m of host.received) if (m.type === 'players') expect(m.players.length).toBeLessThanOrEqual(LIST_MAX);
    const hostLists = host.received.filter((m): m is Extract<ServerMessage, { type: 'players' }> => m.type === 'players');
    expect(hostLists.at(-1)!.playerCount, "the host's latest list says how many there are").toBe(PLAYERS);
    expect(host.welcomes.at(-1)!.state.playerCount).toBe(PLAYERS);

    // ---- the results: exactly what the players sent ----
    // Asked again on a failed connection, as /workers/stats above.
    const results = await eventually(
      () => json<MatchResults>(fetch(`${svc.url}/matches/${match.matchId}/results`)).catch(() => undefined),
      30_000,
      'the results',
    );
    expect(results.standings).toHaveLength(PLAYERS);
    const idOf = new Map(clients.map((c, k) => [c.playerId!, k]));
    const points = new Map<string, number>();
    for (const q of results.questions!) {
      expect(q.answers, `question ${q.index}: one answer per player`).toHaveLength(PLAYERS);
      for (const a of q.answers) {
        const k = idOf.get(a.playerId)!;
        expect(a.choice, `player ${k} question ${q.index}`).toBe(choiceOf(k, q.index));
        expect(a.points > 0, `player ${k} question ${q.index} scored`).toBe(a.choice === correctOf(q.index));
        points.set(a.playerId, (points.get(a.playerId) ?? 0) + a.points);
      }
    }
    for (const q of results.questions!) {
      const sentCorrect = clients.filter((_c, k) => choiceOf(k, q.index) === correctOf(q.index)).length;
      expect(q.answers.filter((a) => a.points > 0), `question ${q.index}: correct answers scored`).toHaveLength(sentCorrect);
    }
    let previous: RankedPlayer | null = null;
    for (const [i, r] of results.standings.entries()) {
      expect(r.score, r.name).toBe(points.get(r.playerId));
      // Competition ranking, best first.
      expect(r.rank).toBe(previous && previous.score === r.score ? previous.rank : i + 1);
      previous = r;
    }

    // ---- what each player was told at the end: the top, and its own place ----
    const byId = new Map(results.standings.map((r) => [r.playerId, r]));
    for (const [k, c] of clients.entries()) {
      const finished = seen[k]!.finished!;
      expect(finished.standings).toEqual(results.standings.slice(0, LIST_MAX));
      expect(finished.playerCount).toBe(PLAYERS);
      const mine = byId.get(c.playerId!)!;
      expect(finished.you, c.name).toEqual({ rank: mine.rank, score: mine.score });
    }
    const restarts = (await workerStats(svc)).workers.reduce((n, w) => n + w.restarts, 0);
    expect(restarts).toBe(1);
    console.log(`big match, ${PLAYERS} players:\n  ${log.join('\n  ')}`);
  });
});
