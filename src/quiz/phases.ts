/**
 * The match's clock: lobby → question → reveal → leaderboard → … → finished (or closed), the
 * deadline of each phase, and the early close of a question everyone present has answered.
 *
 * Deadlines are absolute timestamps in the state; `nextDeadline` tells the host when to call
 * `tick` again, and nothing here keeps a timer of its own.
 */
import type { RevealYou } from '../protocol/messages';
import { nextStreak } from './scoring';
import type { Done, Effect, Failure, MatchSnapshot, ParticipantId } from './state';
import { HOST_ID, fail, isPresent, matchStatus, questionLimitMs } from './state';
import { LEADERBOARD_SIZE, questionView, ranked, revealView } from './views';

export function start(s: MatchSnapshot, by: ParticipantId, now: number): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  if (s.phase !== 'lobby') return fail('MATCH_STARTED');
  return { ok: true, effects: beginQuestion(s, 0, now) };
}

/** The host moves on without waiting for the phase's deadline. */
export function next(s: MatchSnapshot, by: ParticipantId, now: number): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  return { ok: true, effects: advance(s, now) };
}

/** Moves on from the current phase, whether its deadline passed or the host said `next`. */
function advance(s: MatchSnapshot, now: number): Effect[] {
  switch (s.phase) {
    case 'question':
      return beginReveal(s, now);
    case 'reveal':
      return beginLeaderboard(s, now);
    case 'leaderboard': {
      const nextIndex = s.questionIndex + 1;
      return nextIndex < s.quiz.questions.length ? beginQuestion(s, nextIndex, now) : finish(s, now);
    }
    case 'lobby':
    case 'finished':
    case 'closed':
      return [];
  }
}

function beginQuestion(s: MatchSnapshot, index: number, now: number): Effect[] {
  const question = s.quiz.questions[index];
  if (!question) return finish(s, now);
  s.phase = 'question';
  s.questionIndex = index;
  s.questionStartsAt = now;
  s.phaseEndsAt = now + questionLimitMs(s, question);
  s.answers = {};
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'question', ...questionView(s)! } }];
}

/** Scores the question (points, streaks) and shows everyone the answer and their own result. */
function beginReveal(s: MatchSnapshot, now: number): Effect[] {
  const question = s.quiz.questions[s.questionIndex]!;
  const personal = new Map<ParticipantId, RevealYou>();
  for (const p of s.players) {
    const a = s.answers[p.id];
    const correct = a !== undefined && a.choice === question.correct;
    const points = a?.points ?? 0;
    p.score += points;
    p.streak = nextStreak(p.streak, correct);
    personal.set(p.id, { ...(a ? { choice: a.choice } : {}), points, score: p.score, streak: p.streak });
  }
  s.phase = 'reveal';
  s.phaseEndsAt = now + s.timing.revealMs;
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'reveal', ...revealView(s)! }, personal }];
}

function beginLeaderboard(s: MatchSnapshot, now: number): Effect[] {
  s.phase = 'leaderboard';
  s.phaseEndsAt = now + s.timing.leaderboardMs;
  s.revision++;
  const standings = ranked(s);
  const personal = new Map<ParticipantId, { rank: number; score: number }>();
  for (const r of standings) personal.set(r.playerId, { rank: r.rank, score: r.score });
  return [{ kind: 'broadcast', msg: { type: 'leaderboard', top: standings.slice(0, LEADERBOARD_SIZE) }, personal }];
}

function finish(s: MatchSnapshot, now: number): Effect[] {
  s.phase = 'finished';
  s.phaseEndsAt = now + s.timing.finishGraceMs;
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'finished', standings: ranked(s) } }];
}

/** Ends the match for good (lobby idle, or a match its hosts cannot keep alive). */
export function close(s: MatchSnapshot, reason: string): Effect[] {
  if (s.phase === 'closed') return [];
  s.phase = 'closed';
  s.phaseEndsAt = null;
  s.closedReason = reason;
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'match_closed', reason } }, { kind: 'closed', reason }];
}

/** Reveals the question early once everyone present has answered it. */
export function closeQuestionIfAllAnswered(s: MatchSnapshot, now: number): Effect[] {
  if (s.phase !== 'question') return [];
  let present = 0;
  for (const p of s.players) {
    if (!isPresent(s, p, now)) continue;
    present++;
    if (!s.answers[p.id]) return [];
  }
  // With nobody present the question runs its full time rather than racing to the end.
  return present > 0 ? beginReveal(s, now) : [];
}

/**
 * The earliest moment after `now` at which `tick` may have something to do, or null.
 * Grace expiries already past are left out: they changed nothing when they passed (someone
 * connected still had to answer), and reporting them would spin the host's timer at 0 ms.
 */
export function nextDeadline(s: MatchSnapshot, now: number): number | null {
  let next: number | null = s.phaseEndsAt;
  const consider = (t: number) => {
    if (next === null || t < next) next = t;
  };
  if (s.phase === 'lobby' && s.idleSince !== null) consider(s.idleSince + s.timing.lobbyIdleMs);
  const lobbyEnd = lobbyMaxEnd(s);
  if (lobbyEnd !== null) consider(lobbyEnd);
  if (s.phase === 'question') {
    // A player's grace running out can make "everyone present has answered" true.
    for (const p of s.players) {
      if (!p.connected && !p.left && p.droppedAt !== null && !s.answers[p.id]) {
        const expiry = p.droppedAt + s.timing.reconnectGraceMs;
        if (expiry > now) consider(expiry);
      }
    }
  }
  return next;
}

/** Runs every transition whose deadline has passed. */
export function tick(s: MatchSnapshot, now: number): Effect[] {
  const effects: Effect[] = [];
  // Bounded: each pass either moves the phase on or stops.
  for (let guard = 0; guard < 10; guard++) {
    const lobbyEnd = lobbyMaxEnd(s);
    if (lobbyEnd !== null && now >= lobbyEnd) {
      effects.push(...close(s, `The match was not started within ${duration(s.timing.lobbyMaxMs ?? 0)} of being created`));
      break;
    }
    if (s.phase === 'lobby' && s.idleSince !== null && now >= s.idleSince + s.timing.lobbyIdleMs) {
      effects.push(...close(s, 'The lobby was empty for too long'));
      break;
    }
    if (s.phase === 'question') effects.push(...closeQuestionIfAllAnswered(s, now));
    if (matchStatus(s.phase) === 'finished') break;
    if (s.phaseEndsAt === null || now < s.phaseEndsAt) break;
    effects.push(...advance(s, now));
  }
  return effects;
}

/** When a lobby never started must close (LOBBY_MAX_MS), or null (not a lobby, or an older snapshot without the limit). */
function lobbyMaxEnd(s: MatchSnapshot): number | null {
  return s.phase === 'lobby' && s.timing.lobbyMaxMs !== undefined ? s.createdAt + s.timing.lobbyMaxMs : null;
}

/** "30 minutes", "90 seconds": the limit as a person reads it in `match_closed.reason`. */
function duration(ms: number): string {
  const minutes = ms / 60_000;
  if (Number.isInteger(minutes) && minutes >= 1) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  const seconds = Math.round(ms / 1000);
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}

/** True once the match may be forgotten by its host: closed, or finished and past its grace. */
export function isOver(s: MatchSnapshot, now: number): boolean {
  if (s.phase === 'closed') return true;
  return s.phase === 'finished' && s.phaseEndsAt !== null && now >= s.phaseEndsAt;
}
