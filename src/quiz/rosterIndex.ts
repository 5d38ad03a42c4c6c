/**
 * What the engine asks about a match's players on every message, answered without walking the
 * player list: a player by id or token, whether a name is taken, how many are connected, how
 * many answered the current question and how many it still waits for, when the next reconnect
 * grace runs out, and each player's place in the standings. Walking the list for these on each
 * join and answer made a 10,000-player match do some 10^8 steps per question (PROTOCOL.md
 * Part 2, "Big matches").
 *
 * Derived data, never part of the state (snapshots stay plain JSON): built from the state the
 * first time it is asked for, so a restored match or a snapshot of any age gets one, then kept
 * in step by the roster's changes, which all go through the functions below. A state whose
 * player list or answers were replaced wholesale (a removal, a new question) is noticed and
 * recounted; so is a clock that runs backwards (tests drive the engine with any `now`).
 */
import type { RankedPlayer } from '../protocol/messages';
import { nameKey } from './names';
import { rank } from './scoring';
import type { AnswerRecord, MatchSnapshot, PlayerRecord } from './state';
import { isPresent } from './state';

/** Dropped players whose reconnect grace ends at one moment, by whether they answered. */
interface GraceEnd {
  answered: number;
  unanswered: number;
}

/** The counts that depend on the current question's answers and on the time. */
interface Counts {
  /** The answers they were counted from; another object (a new question) means recount. */
  answers: Record<string, AnswerRecord>;
  /** As of this moment: every grace that ended by then has been taken off. */
  asOf: number;
  present: number;
  /** Present players who have not answered. */
  waiting: number;
  /** Answers recorded (a kicked player's answer is deleted with it). */
  answered: number;
  /** Dropped players still within their grace, by the moment it ends. */
  graceEnds: Map<number, GraceEnd>;
  /** The earliest grace end, of anyone and of a player who has not answered; undefined: work it out. */
  nextEnd: number | null | undefined;
  nextUnansweredEnd: number | null | undefined;
}

interface Index {
  /** The player list it was built from; another array, or another length, means rebuild. */
  players: PlayerRecord[];
  size: number;
  byId: Map<string, PlayerRecord>;
  byToken: Map<string, PlayerRecord>;
  names: Set<string>;
  connected: number;
  counts: Counts | null;
  /** The standings, best first, while no score and no membership changed; null: work them out. */
  ranking: { list: RankedPlayer[]; byId: Map<string, RankedPlayer> } | null;
  /** Answers per choice to the current question (a reveal's `counts`), for the answers they were counted from. */
  choices: { answers: Record<string, AnswerRecord>; counts: number[] } | null;
}

const indexes = new WeakMap<MatchSnapshot, Index>();

function indexOf(s: MatchSnapshot): Index {
  const found = indexes.get(s);
  if (found && found.players === s.players && found.size === s.players.length) return found;
  const idx: Index = { players: s.players, size: 0, byId: new Map(), byToken: new Map(), names: new Set(), connected: 0, counts: null, ranking: null, choices: null };
  for (const p of s.players) addToMaps(idx, p);
  indexes.set(s, idx);
  return idx;
}

function addToMaps(idx: Index, p: PlayerRecord): void {
  idx.byId.set(p.id, p);
  idx.byToken.set(p.token, p);
  idx.names.add(nameKey(p.name));
  if (p.connected) idx.connected++;
  idx.size++;
}

function countsOf(s: MatchSnapshot, now: number): Counts {
  const idx = indexOf(s);
  const c = idx.counts;
  if (c && c.answers === s.answers && now >= c.asOf) {
    endGraces(c, now);
    return c;
  }
  const fresh: Counts = { answers: s.answers, asOf: now, present: 0, waiting: 0, answered: Object.keys(s.answers).length, graceEnds: new Map(), nextEnd: null, nextUnansweredEnd: null };
  for (const p of s.players) contribute(s, fresh, p, 1, now);
  idx.counts = fresh;
  return fresh;
}

/** Adds (`sign` 1) or takes off (-1) what one player counts for at `now`. */
function contribute(s: MatchSnapshot, c: Counts, p: PlayerRecord, sign: 1 | -1, now: number): void {
  if (!isPresent(s, p, now)) return;
  const answered = s.answers[p.id] !== undefined;
  c.present += sign;
  if (!answered) c.waiting += sign;
  if (p.connected || p.droppedAt === null) return;
  const end = p.droppedAt + s.timing.reconnectGraceMs;
  const bucket = c.graceEnds.get(end) ?? { answered: 0, unanswered: 0 };
  if (answered) bucket.answered += sign;
  else bucket.unanswered += sign;
  if (bucket.answered === 0 && bucket.unanswered === 0) c.graceEnds.delete(end);
  else c.graceEnds.set(end, bucket);
  c.nextEnd = c.nextUnansweredEnd = undefined;
}

/** Players whose grace ended by `now` are no longer present. */
function endGraces(c: Counts, now: number): void {
  c.asOf = now;
  const next = nextEnd(c, false);
  if (next === null || next > now) return;
  for (const [end, bucket] of c.graceEnds) {
    if (end > now) continue;
    c.present -= bucket.answered + bucket.unanswered;
    c.waiting -= bucket.unanswered;
    c.graceEnds.delete(end);
  }
  c.nextEnd = c.nextUnansweredEnd = undefined;
}

function nextEnd(c: Counts, unansweredOnly: boolean): number | null {
  if (c.nextEnd === undefined || c.nextUnansweredEnd === undefined) {
    c.nextEnd = c.nextUnansweredEnd = null;
    for (const [end, bucket] of c.graceEnds) {
      if (c.nextEnd === null || end < c.nextEnd) c.nextEnd = end;
      if (bucket.unanswered > 0 && (c.nextUnansweredEnd === null || end < c.nextUnansweredEnd)) c.nextUnansweredEnd = end;
    }
  }
  return unansweredOnly ? c.nextUnansweredEnd : c.nextEnd;
}

// ---- changes: every change to who is in, connected, dropped or gone comes through here ----

export function addPlayer(s: MatchSnapshot, p: PlayerRecord, now: number): void {
  const c = countsOf(s, now);
  const idx = indexOf(s);
  s.players.push(p);
  addToMaps(idx, p);
  contribute(s, c, p, 1, now);
  // A newcomer has no points and the latest join order: last in the standings, tied with
  // everyone else on 0 (scores are never negative), so the others keep their places.
  if (idx.ranking) {
    const last = idx.ranking.list.at(-1);
    const entry: RankedPlayer = { playerId: p.id, name: p.name, score: p.score, rank: last && last.score === p.score ? last.rank : idx.ranking.list.length + 1 };
    if (p.score === 0) {
      idx.ranking.list.push(entry);
      idx.ranking.byId.set(p.id, entry);
    } else idx.ranking = null;
  }
}

/** Keeps only the players `keep` accepts (kick, a lobby leave, seats given back). */
export function removePlayers(s: MatchSnapshot, keep: (p: PlayerRecord) => boolean): void {
  s.players = s.players.filter(keep);
  indexes.delete(s);
}

/** Changes whether `p` is connected, dropped (since when) or gone by `leave`. */
export function updatePlayer(s: MatchSnapshot, p: PlayerRecord, change: Partial<Pick<PlayerRecord, 'connected' | 'droppedAt' | 'left'>>, now: number): void {
  const c = countsOf(s, now);
  const idx = indexOf(s);
  contribute(s, c, p, -1, now);
  if (p.connected) idx.connected--;
  Object.assign(p, change);
  if (p.connected) idx.connected++;
  contribute(s, c, p, 1, now);
}

/** Records `p`'s answer to the current question. */
export function recordAnswer(s: MatchSnapshot, p: PlayerRecord, answer: AnswerRecord, now: number): void {
  const c = countsOf(s, now);
  contribute(s, c, p, -1, now);
  s.answers[p.id] = answer;
  c.answered++;
  contribute(s, c, p, 1, now);
  const choices = indexOf(s).choices;
  if (choices?.answers === s.answers) choices.counts[answer.choice] = (choices.counts[answer.choice] ?? 0) + 1;
}

/** Scores changed (a reveal): the standings are worked out again when next asked for. */
export function scoresChanged(s: MatchSnapshot): void {
  indexOf(s).ranking = null;
}

// ---- questions --------------------------------------------------------------------------

export function findPlayer(s: MatchSnapshot, id: string): PlayerRecord | undefined {
  return indexOf(s).byId.get(id);
}

export function playerByToken(s: MatchSnapshot, token: string): PlayerRecord | undefined {
  return indexOf(s).byToken.get(token);
}

/** Whether a player in the match has a name that collides with `key` (a `nameKey`). */
export function nameTaken(s: MatchSnapshot, key: string): boolean {
  return indexOf(s).names.has(key);
}

/** Players currently holding a connection (the host not counted). */
export function connectedPlayers(s: MatchSnapshot): number {
  return indexOf(s).connected;
}

/**
 * Answers recorded for the current question, present players who have not answered yet, and
 * present players in all (PROTOCOL.md Part 2, "Who counts").
 */
export function answerTally(s: MatchSnapshot, now: number): { answered: number; waiting: number; present: number } {
  const c = countsOf(s, now);
  return { answered: c.answered, waiting: c.waiting, present: c.present };
}

/**
 * The earliest moment after `now` at which the reconnect grace of a dropped player runs out
 * (of one who has not answered the current question, with `unansweredOnly`), or null.
 */
export function nextGraceEnd(s: MatchSnapshot, now: number, unansweredOnly: boolean): number | null {
  return nextEnd(countsOf(s, now), unansweredOnly);
}

/**
 * How many answers each of `choiceCount` choices got (a reveal's `counts`): every welcome during
 * a reveal shows them, and 10,000 players resuming then must not each count 10,000 answers.
 */
export function choiceCounts(s: MatchSnapshot, choiceCount: number): number[] {
  const idx = indexOf(s);
  if (idx.choices?.answers !== s.answers) {
    const counts: number[] = [];
    for (const a of Object.values(s.answers)) counts[a.choice] = (counts[a.choice] ?? 0) + 1;
    idx.choices = { answers: s.answers, counts };
  }
  return Array.from({ length: choiceCount }, (_, i) => idx.choices!.counts[i] ?? 0);
}

/** Every player, best first: competition ranking, ties in join order (`scoring.ts`). */
export function ranking(s: MatchSnapshot): readonly RankedPlayer[] {
  return rankingOf(s).list;
}

/** One player's place in the standings. */
export function rankOf(s: MatchSnapshot, playerId: string): RankedPlayer | undefined {
  return rankingOf(s).byId.get(playerId);
}

function rankingOf(s: MatchSnapshot): NonNullable<Index['ranking']> {
  const idx = indexOf(s);
  if (!idx.ranking) {
    const list = rank(s.players.map((p) => ({ playerId: p.id, name: p.name, score: p.score, joinOrder: p.joinOrder }))).map(
      (r): RankedPlayer => ({ playerId: r.playerId, name: r.name, score: r.score, rank: r.rank }),
    );
    idx.ranking = { list, byId: new Map(list.map((r) => [r.playerId, r])) };
  }
  return idx.ranking;
}
