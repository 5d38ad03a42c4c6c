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
    // A big match (more players than the server lists, PROTOCOL.md "Big matches"): how many
    // there are in all, and how many are connected once a roster_count says; null otherwise.
    playerCount: typeof s.playerCount === 'number' ? s.playerCount : null,
    connectedCount: null,
    locked: Boolean(s.locked),
    lateJoin: Boolean(s.lateJoin),
    // PROTOCOL.md Part 2: a server without `settings` (or without phoneView) means "full".
    phoneView: s.settings?.phoneView === 'shapes' ? 'shapes' : 'full',
    // The suspense moment before answers open (phase "intro"); null on servers without it.
    intro: s.phase === 'intro' && s.intro ? introFrom(s.intro) : null,
    question: s.question ? questionFrom(s.question) : null,
    answered: s.answered ?? null,
    reveal: s.reveal ? revealFrom(s.reveal, s.question) : null,
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
      m.playerCount = typeof msg.playerCount === 'number' ? msg.playerCount : null;
      m.locked = Boolean(msg.locked);
      return true;

    case 'roster_count':
      m.playerCount = msg.players;
      m.connectedCount = msg.connected;
      m.locked = Boolean(msg.locked);
      return true;

    case 'question_intro':
      m.phase = 'intro';
      m.intro = introFrom(msg);
      m.question = null;
      freshQuestion(m);
      return true;

    case 'question':
      m.phase = 'question';
      m.question = questionFrom(msg);
      m.intro = null;
      freshQuestion(m);
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
      m.reveal = revealFrom(msg, m.question);
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
        // A big match lists only the top: each player's own place comes as `you`.
        const mine = msg.you ?? m.standings.find((r) => r.playerId === m.playerId);
        if (mine) {
          m.you.rank = mine.rank;
          m.you.score = mine.score;
        }
      }
      if (typeof msg.playerCount === 'number') m.playerCount = msg.playerCount;
      return true;

    default:
      return false;
  }
}

/** Which screen shows this match, and a key that changes whenever that screen must be rebuilt. */
export function screenFor(m) {
  const screen = m.phase === 'closed' ? 'finished' : m.phase;
  const index = m.intro?.index ?? m.question?.index ?? m.reveal?.questionIndex ?? '';
  return { screen, key: `${screen}:${index}` };
}

/**
 * The question a `next` from the host ends, named so a late or doubled click cannot end the
 * phase after it (PROTOCOL.md Part 2: `next` with `phase` and `questionIndex`). Null when
 * there is nothing to name (lobby, finished).
 */
export function nextTarget(m) {
  const index =
    m.phase === 'intro' ? m.intro?.index : m.phase === 'question' ? m.question?.index : m.reveal?.questionIndex ?? m.question?.index;
  if (!['intro', 'question', 'reveal', 'leaderboard'].includes(m.phase) || !Number.isInteger(index)) return null;
  return { phase: m.phase, questionIndex: index };
}

/** A poll has no right answer: the server sends `correct: null` (and `kind: "poll"`). */
export function isPoll(m) {
  return m.reveal ? m.reveal.kind === 'poll' : (m.question?.kind ?? m.intro?.kind) === 'poll';
}

const KINDS = new Set(['choice', 'truefalse', 'poll']);

function kindOf(value) {
  return KINDS.has(value) ? value : 'choice';
}

function introFrom(x) {
  return { index: x.index, total: x.total, text: x.text, kind: kindOf(x.kind), image: x.image ?? null, opensAt: x.opensAt };
}

function questionFrom(x) {
  return {
    index: x.index,
    total: x.total,
    text: x.text,
    choices: Array.isArray(x.choices) ? x.choices : [],
    kind: kindOf(x.kind),
    image: x.image ?? null,
    startsAt: x.startsAt,
    endsAt: x.endsAt,
  };
}

/** `question`: the question being revealed, when known (a v1 server says the kind nowhere else). */
function revealFrom(x, question) {
  const sameQuestion = question && question.index === x.questionIndex ? question : null;
  const kind = x.kind ? kindOf(x.kind) : x.correct === null ? 'poll' : (sameQuestion ? kindOf(sameQuestion.kind) : 'choice');
  return {
    questionIndex: x.questionIndex,
    correct: kind === 'poll' || !Number.isInteger(x.correct) ? null : x.correct,
    counts: Array.isArray(x.counts) ? x.counts : [],
    kind,
  };
}

/** A new question (or its intro) starts: nothing of the last one's answer is current. */
function freshQuestion(m) {
  m.answered = null;
  m.reveal = null;
  if (m.you) {
    m.you.answer = null;
    m.you.lastPoints = null;
    m.you.answerStatus = 'none';
    m.you.pending = null;
    m.you.note = null;
  }
}
