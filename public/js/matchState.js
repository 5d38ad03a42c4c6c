/**
 * The match as this client knows it, built from `welcome.state` (ClientState in
 * src/protocol/messages.ts) and kept current by the server's messages. Plain data and
 * plain functions: no DOM, no sockets, so a welcome after a refresh rebuilds exactly what
 * a long-connected client has.
 *
 * `you.answerStatus` tracks the player's answer to the current question:
 *   'none'    nothing sent
 *   'sending' sent (or waiting to be re-sent after a reconnect), no answer_ack yet
 *   'locked'  answer_ack received: the server holds it durably
 *   'refused' the server said no (too late, or an earlier answer counts); `note` says why
 */

/** A fresh match from a `welcome` message. */
export function matchFromWelcome(msg) {
  const s = msg.state;
  const isPlayer = msg.you?.role === 'player';
  return {
    matchId: s.matchId,
    role: isPlayer ? 'player' : 'host',
    playerId: msg.you?.playerId ?? null,
    name: msg.you?.name ?? null,
    phase: s.phase,
    quiz: s.quiz ?? { title: '', questionCount: 0 },
    players: Array.isArray(s.players) ? s.players : [],
    locked: Boolean(s.locked),
    lateJoin: Boolean(s.lateJoin),
    question: s.question ?? null,
    answered: s.answered ?? null,
    reveal: s.reveal ?? null,
    leaderboard: s.leaderboard ?? null,
    standings: s.standings ?? null,
    you: isPlayer
      ? {
          score: s.you?.score ?? 0,
          streak: s.you?.streak ?? 0,
          rank: s.you?.rank ?? null,
          // The answer the server holds for the current or just-revealed question.
          answer: s.you?.answer ?? null,
          lastPoints: s.you?.lastPoints ?? null,
          answerStatus: 'none',
          pending: null,
          note: null,
        }
      : null,
  };
}

/**
 * Applies one server message. Returns true when it changed something on screen.
 * (welcome, pong, error, kicked and match_closed are the app's business, not state's.)
 */
export function applyMessage(m, msg) {
  switch (msg.type) {
    case 'players':
      m.players = Array.isArray(msg.players) ? msg.players : [];
      m.locked = Boolean(msg.locked);
      return true;

    case 'question':
      m.phase = 'question';
      m.question = {
        index: msg.index,
        total: msg.total,
        text: msg.text,
        choices: msg.choices,
        startsAt: msg.startsAt,
        endsAt: msg.endsAt,
      };
      m.answered = null;
      m.reveal = null;
      if (m.you) {
        m.you.answer = null;
        m.you.lastPoints = null;
        m.you.answerStatus = 'none';
        m.you.pending = null;
        m.you.note = null;
      }
      return true;

    case 'answer_ack':
      if (!m.you || !m.question || msg.questionIndex !== m.question.index) return false;
      m.you.answer = { questionIndex: msg.questionIndex, choice: msg.choice };
      m.you.answerStatus = 'locked';
      m.you.pending = null;
      return true;

    case 'answer_count':
      if (m.question && msg.questionIndex !== m.question.index) return false;
      m.answered = { answered: msg.answered, total: msg.total };
      return true;

    case 'reveal':
      m.phase = 'reveal';
      m.reveal = { questionIndex: msg.questionIndex, correct: msg.correct, counts: msg.counts ?? [] };
      if (m.you && msg.you) {
        m.you.answer = msg.you.choice === undefined ? null : { questionIndex: msg.questionIndex, choice: msg.you.choice };
        m.you.lastPoints = msg.you.points;
        m.you.score = msg.you.score;
        m.you.streak = msg.you.streak;
      }
      if (m.you) m.you.pending = null;
      return true;

    case 'leaderboard':
      m.phase = 'leaderboard';
      m.leaderboard = Array.isArray(msg.top) ? msg.top : [];
      if (m.you && msg.you) {
        m.you.rank = msg.you.rank;
        m.you.score = msg.you.score;
      }
      return true;

    case 'finished':
      m.phase = 'finished';
      m.standings = Array.isArray(msg.standings) ? msg.standings : [];
      m.question = null;
      if (m.you) {
        const mine = m.standings.find((r) => r.playerId === m.playerId);
        if (mine) {
          m.you.rank = mine.rank;
          m.you.score = mine.score;
        }
      }
      return true;

    default:
      return false;
  }
}

/** Which screen shows this match, and a key that changes whenever that screen must be rebuilt. */
export function screenFor(m) {
  const screen = m.phase === 'closed' ? 'finished' : m.phase;
  const index = m.question?.index ?? m.reveal?.questionIndex ?? '';
  return { screen, key: `${screen}:${index}` };
}
