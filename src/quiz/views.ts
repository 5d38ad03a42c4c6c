/**
 * What each client may see of a match: the state in its `welcome`, the player list, the
 * question without its answer, the reveal and the rankings. Reads only; nothing here changes
 * the match, so any part may build a message from the state it has just changed.
 */
import type { ClientState, PlayerInfo, QuestionView, RankedPlayer, RevealView, ServerMessage } from '../protocol/messages';
import { rank } from './scoring';
import type { Effect, MatchSnapshot, ParticipantId, PlayerRecord } from './state';
import { HOST_ID, findPlayer, isPresent, questionLimitMs } from './state';

type AnswerCount = Extract<ServerMessage, { type: 'answer_count' }>;

/** How many places `leaderboard` (and a welcome during reveal or leaderboard) lists. */
export const LEADERBOARD_SIZE = 10;

export function quizInfo(s: MatchSnapshot): { title: string; questionCount: number } {
  return { title: s.quiz.title, questionCount: s.quiz.questions.length };
}

export function ranked(s: MatchSnapshot): RankedPlayer[] {
  return rank(s.players.map((p) => ({ playerId: p.id, name: p.name, score: p.score, joinOrder: p.joinOrder }))).map((r) => ({
    playerId: r.playerId,
    name: r.name,
    score: r.score,
    rank: r.rank,
  }));
}

function playerList(s: MatchSnapshot): PlayerInfo[] {
  return s.players.map((p) => ({ playerId: p.id, name: p.name, connected: p.connected }));
}

/** The roster changed (join, drop, leave, kick, lock): everyone gets the whole list. */
export function playersEffect(s: MatchSnapshot): Effect {
  return { kind: 'broadcast', msg: { type: 'players', players: playerList(s), locked: s.locked } };
}

/**
 * `answered`: answers recorded for the question. `total`: those plus the present players
 * (connected, or within their reconnect grace) who have not answered yet, i.e. everyone whose
 * answer is in or still awaited. So `answered ≤ total` always, and the question closes early
 * exactly when they meet. A player gone past its grace, or by `leave`, stops counting unless
 * it had answered; a kicked player's answer is deleted with it.
 */
export function answerCount(s: MatchSnapshot, now: number): AnswerCount {
  let waiting = 0;
  for (const p of s.players) if (!s.answers[p.id] && isPresent(s, p, now)) waiting++;
  const answered = Object.keys(s.answers).length;
  return { type: 'answer_count', questionIndex: s.questionIndex, answered, total: answered + waiting };
}

/** The current question as players may see it: never the correct choice. */
export function questionView(s: MatchSnapshot): QuestionView | null {
  const q = s.quiz.questions[s.questionIndex];
  if (!q || s.questionStartsAt === null) return null;
  return {
    index: s.questionIndex,
    total: s.quiz.questions.length,
    text: q.text,
    choices: [...q.choices],
    startsAt: s.questionStartsAt,
    endsAt: s.questionStartsAt + questionLimitMs(s, q),
  };
}

export function revealView(s: MatchSnapshot): RevealView | null {
  const q = s.quiz.questions[s.questionIndex];
  if (!q) return null;
  const counts = q.choices.map(() => 0);
  for (const a of Object.values(s.answers)) counts[a.choice] = (counts[a.choice] ?? 0) + 1;
  return { questionIndex: s.questionIndex, correct: q.correct, counts };
}

export function welcome(s: MatchSnapshot, id: ParticipantId, now: number): ServerMessage {
  const player = id === HOST_ID ? undefined : findPlayer(s, id);
  return {
    type: 'welcome',
    you: player
      ? { playerId: player.id, name: player.name, role: 'player' }
      : { ...(s.settings.hostName ? { name: s.settings.hostName } : {}), role: 'host' },
    token: player ? player.token : s.hostToken,
    serverTime: now,
    state: clientState(s, player, now),
  };
}

/** `player` undefined: the host's view. */
function clientState(s: MatchSnapshot, player: PlayerRecord | undefined, now: number): ClientState {
  const standings = ranked(s);
  const mine = player ? standings.find((r) => r.playerId === player.id) : undefined;
  const answer = player ? s.answers[player.id] : undefined;
  const showQuestion = s.phase === 'question' || s.phase === 'reveal';
  // The correct choice exists in the state only once its question has been revealed.
  const revealed = s.phase === 'reveal' || s.phase === 'leaderboard';
  const count = answerCount(s, now);
  return {
    matchId: s.id,
    phase: s.phase,
    quiz: quizInfo(s),
    players: playerList(s),
    locked: s.locked,
    lateJoin: s.settings.lateJoin,
    phaseEndsAt: s.phase === 'finished' ? null : s.phaseEndsAt,
    question: showQuestion ? questionView(s) : null,
    answered: s.phase === 'question' ? { answered: count.answered, total: count.total } : null,
    reveal: revealed ? revealView(s) : null,
    leaderboard: s.phase === 'leaderboard' || s.phase === 'reveal' ? standings.slice(0, LEADERBOARD_SIZE) : null,
    standings: s.phase === 'finished' ? standings : null,
    you: player
      ? {
          score: player.score,
          streak: player.streak,
          rank: mine?.rank ?? null,
          answer: answer && s.phase !== 'leaderboard' ? { questionIndex: s.questionIndex, choice: answer.choice } : null,
          lastPoints: revealed ? (answer?.points ?? 0) : null,
        }
      : null,
  };
}
