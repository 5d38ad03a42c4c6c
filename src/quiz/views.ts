/**
 * What each client may see of a match: the state in its `welcome`, the player list, the
 * question without its answer, the reveal and the rankings. Reads only; nothing here changes
 * the match, so any part may build a message from the state it has just changed.
 */
import type { ClientState, IntroView, PlayerInfo, QuestionView, RankedPlayer, RevealView, ServerMessage } from '../protocol/messages';
import { answerTally, choiceCounts, connectedPlayers, findPlayer, rankOf, ranking } from './rosterIndex';
import type { Effect, MatchSnapshot, ParticipantId, PlayerRecord } from './state';
import { HOST_ID, questionKind, questionLimitMs } from './state';

type AnswerCount = Extract<ServerMessage, { type: 'answer_count' }>;

/** How many places `leaderboard` (and a welcome during reveal or leaderboard) lists. */
export const LEADERBOARD_SIZE = 10;

export function quizInfo(s: MatchSnapshot): { title: string; questionCount: number } {
  return { title: s.quiz.title, questionCount: s.quiz.questions.length };
}

/**
 * A big match has more players than its PLAYER_LIST_MAX (PROTOCOL.md Part 2, "Big matches"):
 * sending each of them the whole player list on every join would cost O(players²) bytes.
 */
export function isBig(s: MatchSnapshot): boolean {
  const max = s.settings.playerListMax;
  return max !== undefined && s.players.length > max;
}

/** Every player; in a big match only the latest PLAYER_LIST_MAX to join (the names a host watches arrive). */
function playerList(s: MatchSnapshot): PlayerInfo[] {
  const players = isBig(s) ? s.players.slice(-s.settings.playerListMax!) : s.players;
  return players.map((p) => ({ playerId: p.id, name: p.name, connected: p.connected }));
}

/**
 * The roster changed (join, drop, leave, kick, lock): everyone gets the whole list; in a big
 * match, everyone gets the counts and the host the latest players (both throttled on the wire).
 */
export function rosterEffects(s: MatchSnapshot): Effect[] {
  if (!isBig(s)) return [{ kind: 'broadcast', msg: { type: 'players', players: playerList(s), locked: s.locked } }];
  const playerCount = s.players.length;
  return [
    { kind: 'broadcast', msg: { type: 'roster_count', players: playerCount, connected: connectedPlayers(s), locked: s.locked } },
    { kind: 'send', to: HOST_ID, msg: { type: 'players', players: playerList(s), locked: s.locked, playerCount } },
  ];
}

/**
 * `answered`: answers recorded for the question. `total`: those plus the present players
 * (connected, or within their reconnect grace) who have not answered yet, i.e. everyone whose
 * answer is in or still awaited. So `answered ≤ total` always, and the question closes early
 * exactly when they meet. A player gone past its grace, or by `leave`, stops counting unless
 * it had answered; a kicked player's answer is deleted with it.
 */
export function answerCount(s: MatchSnapshot, now: number): AnswerCount {
  const { answered, waiting } = answerTally(s, now);
  return { type: 'answer_count', questionIndex: s.questionIndex, answered, total: answered + waiting };
}

/** The question about to open, during its intro: no choices, never the correct one. */
export function introView(s: MatchSnapshot): IntroView | null {
  const q = s.quiz.questions[s.questionIndex];
  if (!q || s.phase !== 'intro' || s.phaseEndsAt === null) return null;
  return {
    index: s.questionIndex,
    total: s.quiz.questions.length,
    text: q.text,
    kind: questionKind(q),
    ...(q.image !== undefined ? { image: q.image } : {}),
    opensAt: s.phaseEndsAt,
  };
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
    kind: questionKind(q),
    ...(q.image !== undefined ? { image: q.image } : {}),
  };
}

export function revealView(s: MatchSnapshot): RevealView | null {
  const q = s.quiz.questions[s.questionIndex];
  if (!q) return null;
  return { questionIndex: s.questionIndex, correct: q.correct ?? null, counts: choiceCounts(s, q.choices.length), kind: questionKind(q) };
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
  const standings = ranking(s);
  const mine = player ? rankOf(s, player.id) : undefined;
  const big = isBig(s);
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
    ...(big ? { playerCount: s.players.length } : {}),
    locked: s.locked,
    lateJoin: s.settings.lateJoin,
    settings: { lateJoin: s.settings.lateJoin, maxPlayers: s.settings.maxPlayers, phoneView: s.settings.phoneView ?? 'full' },
    phaseEndsAt: s.phase === 'finished' ? null : s.phaseEndsAt,
    intro: introView(s),
    question: showQuestion ? questionView(s) : null,
    answered: s.phase === 'question' ? { answered: count.answered, total: count.total } : null,
    reveal: revealed ? revealView(s) : null,
    leaderboard: s.phase === 'leaderboard' || s.phase === 'reveal' ? standings.slice(0, LEADERBOARD_SIZE) : null,
    standings: s.phase === 'finished' ? standings.slice(0, big ? s.settings.playerListMax : undefined) : null,
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
