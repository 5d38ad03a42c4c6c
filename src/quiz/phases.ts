/**
 * The match's clock: lobby → intro → question → reveal → leaderboard → … → finished (or
 * closed), the deadline of each phase, and the early close of a question everyone present has
 * answered. `intro` is the suspense moment before a question opens (QUESTION_INTRO_MS); a
 * match without one goes from lobby and leaderboard straight to the question, as in v1.
 *
 * Deadlines are absolute timestamps in the state; `nextDeadline` tells the host when to call
 * `tick` again, and nothing here keeps a timer of its own.
 */
import type { NextPhase, RankedPlayer, RevealYou } from '../protocol/messages';
import { recordRevealed } from './history';
import { nextStreak } from './scoring';
import type { Done, Effect, Failure, MatchSnapshot, ParticipantId } from './state';
import { answerTally, nextGraceEnd, ranking, scoresChanged } from './rosterIndex';
import { HOST_ID, fail, introMs, matchStatus, questionKind, questionLimitMs } from './state';
import { LEADERBOARD_SIZE, introView, isBig, questionView, revealView } from './views';

/** What a host's `next` names as the phase it ends (both optional: a bare `next` is v1's). */
export interface NextTarget {
  phase?: NextPhase | undefined;
  questionIndex?: number | undefined;
}

export function start(s: MatchSnapshot, by: ParticipantId, now: number): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  if (s.phase !== 'lobby') return fail('MATCH_STARTED');
  return { ok: true, effects: beginQuestionOrIntro(s, 0, now) };
}

/**
 * The host moves on without waiting for the phase's deadline. A `next` that names a phase the
 * match has left (the question closed early as the last answer came in, say) is refused, so it
 * cannot end the phase after it, which nobody has seen yet.
 */
export function next(s: MatchSnapshot, by: ParticipantId, now: number, target: NextTarget = {}): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  if (target.phase !== undefined && target.phase !== s.phase) return fail('PHASE_PASSED');
  if (target.questionIndex !== undefined && target.questionIndex !== s.questionIndex) return fail('PHASE_PASSED');
  return { ok: true, effects: advance(s, now, 'host') };
}

/**
 * Moves on from the current phase, whether its deadline passed or the host said `next`. A
 * question whose intro ran out opens at the moment the intro said (`opensAt`), however late
 * the timer fired; one the host opens, opens now.
 */
function advance(s: MatchSnapshot, now: number, why: 'deadline' | 'host'): Effect[] {
  switch (s.phase) {
    case 'intro':
      return beginQuestion(s, s.questionIndex, why === 'deadline' && s.phaseEndsAt !== null ? s.phaseEndsAt : now);
    case 'question':
      return beginReveal(s, now);
    case 'reveal':
      return beginLeaderboard(s, now);
    case 'leaderboard': {
      const nextIndex = s.questionIndex + 1;
      return nextIndex < s.quiz.questions.length ? beginQuestionOrIntro(s, nextIndex, now) : finish(s, now);
    }
    case 'lobby':
    case 'finished':
    case 'closed':
      return [];
  }
}

/**
 * The match had no host for `lostMs` (its host died, or it was moving) and is running again:
 * an open question gets that time back, so it does not run out while nobody could answer it,
 * and its scoring clock (startsAt) moves with it. `lostMs` is measured from the last write, so
 * players get at least the time they had left, and at most the question's whole time again.
 * Other phases keep their clocks: nobody answers during them, and an intro keeps its
 * `opensAt` (PROTOCOL.md Part 2, "The suspense moment").
 */
export function giveTimeBack(s: MatchSnapshot, lostMs: number): void {
  if (lostMs <= 0 || s.phase !== 'question' || s.phaseEndsAt === null || s.questionStartsAt === null) return;
  s.phaseEndsAt += lostMs;
  s.questionStartsAt += lostMs;
}

function beginQuestionOrIntro(s: MatchSnapshot, index: number, now: number): Effect[] {
  return introMs(s) > 0 ? beginIntro(s, index, now) : beginQuestion(s, index, now);
}

/** Everyone sees what comes (text, kind, image) before anyone may answer it. */
function beginIntro(s: MatchSnapshot, index: number, now: number): Effect[] {
  if (!s.quiz.questions[index]) return finish(s, now);
  s.phase = 'intro';
  s.questionIndex = index;
  s.questionStartsAt = null;
  s.phaseEndsAt = now + introMs(s);
  s.answers = {};
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'question_intro', ...introView(s)! } }];
}

function beginQuestion(s: MatchSnapshot, index: number, startsAt: number): Effect[] {
  const question = s.quiz.questions[index];
  if (!question) return finish(s, startsAt);
  s.phase = 'question';
  s.questionIndex = index;
  s.questionStartsAt = startsAt;
  s.phaseEndsAt = startsAt + questionLimitMs(s, question);
  s.answers = {};
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'question', ...questionView(s)! } }];
}

/**
 * Scores the question (points, streaks) and shows everyone the answer and their own result. A
 * poll scores nothing and leaves streaks as they were: it has no right answer to keep one going.
 */
function beginReveal(s: MatchSnapshot, now: number): Effect[] {
  const question = s.quiz.questions[s.questionIndex]!;
  const poll = questionKind(question) === 'poll';
  const personal = new Map<ParticipantId, RevealYou>();
  for (const p of s.players) {
    const a = s.answers[p.id];
    const points = a?.points ?? 0;
    p.score += points;
    if (!poll) p.streak = nextStreak(p.streak, a !== undefined && a.choice === question.correct);
    personal.set(p.id, { ...(a ? { choice: a.choice } : {}), points, score: p.score, streak: p.streak });
  }
  scoresChanged(s);
  recordRevealed(s);
  s.phase = 'reveal';
  s.phaseEndsAt = now + s.timing.revealMs;
  s.revision++;
  return [{ kind: 'broadcast', msg: { type: 'reveal', ...revealView(s)! }, personal }];
}

function beginLeaderboard(s: MatchSnapshot, now: number): Effect[] {
  s.phase = 'leaderboard';
  s.phaseEndsAt = now + s.timing.leaderboardMs;
  s.revision++;
  const standings = ranking(s);
  return [{ kind: 'broadcast', msg: { type: 'leaderboard', top: standings.slice(0, LEADERBOARD_SIZE) }, personal: placesOf(standings) }];
}

/**
 * Everyone gets the final standings; in a big match only the top of them, each player with
 * its own place as `you`, like the leaderboard's (the full list is in the results).
 */
function finish(s: MatchSnapshot, now: number): Effect[] {
  s.phase = 'finished';
  s.phaseEndsAt = now + s.timing.finishGraceMs;
  s.revision++;
  const standings = ranking(s);
  if (!isBig(s)) return [{ kind: 'broadcast', msg: { type: 'finished', standings: [...standings] } }];
  const top = standings.slice(0, s.settings.playerListMax);
  return [{ kind: 'broadcast', msg: { type: 'finished', standings: top, playerCount: standings.length }, personal: placesOf(standings) }];
}

function placesOf(standings: readonly RankedPlayer[]): Map<ParticipantId, { rank: number; score: number }> {
  const places = new Map<ParticipantId, { rank: number; score: number }>();
  for (const r of standings) places.set(r.playerId, { rank: r.rank, score: r.score });
  return places;
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
  const { present, waiting } = answerTally(s, now);
  // With nobody present the question runs its full time rather than racing to the end.
  return present > 0 && waiting === 0 ? beginReveal(s, now) : [];
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
    const graceEnd = nextGraceEnd(s, now, true);
    if (graceEnd !== null) consider(graceEnd);
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
    effects.push(...advance(s, now, 'deadline'));
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
