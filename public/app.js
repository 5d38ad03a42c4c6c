/**
 * The quiz page's controller: owns the one live match session, turns server messages into
 * state (js/matchState.js) and state into screens (js/screens/*). Nothing here decides game
 * timing; every phase change is a server message.
 */
import { replace } from './js/dom.js';
import * as api from './js/api.js';
import { errorText, isKnownCode } from './js/errors.js';
import { clearErrorIn, showErrorIn } from './js/errorArea.js';
import { ServerClock } from './js/clock.js';
import { MatchConnection } from './js/connection.js';
import * as seats from './js/session.js';
import { applyMessage, isPoll, matchFromWelcome, nextTarget, screenFor } from './js/matchState.js';
import { announce, initAnnouncer } from './js/announcer.js';
import { isValidCode, normalizeCode, ordinal } from './js/format.js';
import { isWide, keyboardLikely, watchDisplay } from './js/display.js';
import { configureSound, playCue, setMusic, unlockOnGesture } from './js/sound.js';
import { initWakeLock, keepScreenOn } from './js/wakeLock.js';
import { homeScreen } from './js/screens/home.js';
import { connectingScreen } from './js/screens/connecting.js';
import { lobbyScreen } from './js/screens/lobby.js';
import { introScreen } from './js/screens/intro.js';
import { questionScreen } from './js/screens/question.js';
import { revealScreen } from './js/screens/reveal.js';
import { leaderboardScreen } from './js/screens/leaderboard.js';
import { finishedScreen } from './js/screens/finished.js';

const SCREENS = {
  home: homeScreen,
  connecting: connectingScreen,
  lobby: lobbyScreen,
  intro: introScreen,
  question: questionScreen,
  reveal: revealScreen,
  leaderboard: leaderboardScreen,
  finished: finishedScreen,
};

const SCREEN_TITLES = {
  home: 'Quiz Rush',
  connecting: 'Reconnecting',
  lobby: 'Lobby',
  intro: 'Get ready',
  question: 'Question',
  reveal: 'Answer',
  leaderboard: 'Leaderboard',
  finished: 'Results',
};

/** Someone typing a code may have it wrong; a player already in a match deserves patience. */
const JOIN_GIVE_UP_MS = 20_000;
const RESUME_GIVE_UP_MS = 120_000;

/** The match service's own close codes (docs/PROTOCOL.md, "Close codes"; src/protocol/errors.ts). */
const CLOSE_REPLACED = 4000;
const CLOSE_FINISHED = 4001;
const CLOSE_CLOSED = 4002;
const CLOSE_KICKED = 4003;

const els = {
  screen: document.getElementById('screen'),
  error: document.getElementById('error'),
  banner: document.getElementById('reconnecting'),
  bannerDetail: document.getElementById('reconnecting-detail'),
  announcer: document.getElementById('announcer'),
  main: document.getElementById('main'),
};

const clock = new ServerClock();

const app = {
  home: {
    quizzes: null,
    quizzesError: null,
    results: null,
    prefillCode: '',
    prefillName: '',
    rejoin: null,
    busy: null,
  },
  /** What this client knows of its match (js/matchState.js), once welcomed. */
  match: null,
  /** The live session: {matchId, conn, joinName, fromStorage, welcomedOnce, synced, ended}. */
  live: null,
  /** What is on screen: {name, key, instance}. */
  view: null,
};

// ---- actions (what screens may ask for) ------------------------------------------------

const actions = {
  showError,

  async join(code, name) {
    clearError();
    seats.rememberName(name);
    Object.assign(app.home, { busy: 'join', prefillCode: code, prefillName: name });
    render();
    try {
      // Asking first turns a wrong code into a clear sentence instead of silent retries
      // (a refused WebSocket upgrade only shows up as a close in the browser).
      const info = await api.getMatch(code);
      if (info?.status === 'finished') throw new api.ApiError('MATCH_FINISHED', 'finished');
    } catch (err) {
      app.home.busy = null;
      render();
      showError(apiErrorText(err));
      return;
    }
    await startLive({ matchId: code, joinName: name, fromStorage: false });
  },

  async create(payload) {
    clearError();
    app.home.busy = 'create';
    render();
    let created;
    try {
      created = await api.createMatch(payload);
    } catch (err) {
      app.home.busy = null;
      render();
      showError(apiErrorText(err));
      return;
    }
    const matchId = seats.takeHostSeat(created);
    // Stays "Creating…" until the host's welcome arrives.
    await startLive({ matchId, wsPath: created.wsPath, fromStorage: false });
  },

  rejoin() {
    const matchId = app.home.rejoin?.matchId;
    if (matchId && seats.loadSeat(matchId)) void startLive({ matchId, fromStorage: true });
    else actions.forgetRejoin();
  },

  forgetRejoin() {
    const matchId = app.home.rejoin?.matchId;
    if (matchId) seats.forgetSeat(matchId);
    if (seats.currentMatchId() === matchId) seats.clearCurrentMatch();
    app.home.rejoin = null;
    render();
  },

  answer(choice) {
    const m = app.match;
    if (!m?.you || m.phase !== 'question' || !m.question) return;
    if (m.you.answerStatus !== 'none') return;
    if (!Number.isInteger(choice) || choice < 0 || choice >= m.question.choices.length) return;
    m.you.pending = { questionIndex: m.question.index, choice };
    m.you.answerStatus = 'sending';
    // Offline: it stays pending and goes out again right after the next welcome.
    app.live?.conn.send({ type: 'answer', questionIndex: m.question.index, choice });
    render();
  },

  start: () => sendCommand({ type: 'start' }),
  // Names the phase it ends, so a second click (or one that crosses the server's own phase
  // change) is answered PHASE_PASSED instead of skipping a phase.
  next: () => sendCommand({ type: 'next', ...(app.match ? nextTarget(app.match) : null) }),
  kick: (playerId) => sendCommand({ type: 'kick', playerId }),
  toggleLock: () => sendCommand({ type: 'lock', locked: !app.match?.locked }),

  leave() {
    const live = app.live;
    const m = app.match;
    if (!live || !m) return;
    if (m.role === 'player') {
      live.conn.send({ type: 'leave' });
      seats.forgetSeat(m.matchId);
    }
    stopLive(live);
    seats.clearCurrentMatch();
    goHomeScreen();
    if (m.role === 'host') {
      // The match runs on without its host; keep the seat so they can come back to it.
      app.home.rejoin = { matchId: m.matchId, role: 'host' };
      render();
    }
    announce('You left the game.');
  },

  goHome() {
    const live = app.live;
    const over = app.match && (app.match.phase === 'finished' || app.match.phase === 'closed');
    if (live) stopLive(live);
    if (over) {
      seats.forgetSeat(app.match.matchId);
      seats.clearCurrentMatch();
    }
    goHomeScreen();
  },
};

function sendCommand(msg) {
  if (!app.live?.conn.send(msg)) showError(errorText('OFFLINE_ACTION'));
}

// ---- the live session --------------------------------------------------------------

async function startLive({ matchId, joinName = null, fromStorage, wsPath }) {
  if (app.live) stopLive(app.live);
  app.match = null;
  let url;
  try {
    url = await api.webSocketUrl(wsPath ?? `/ws/matches/${matchId}`);
  } catch (err) {
    app.home.busy = null;
    goHomeScreen();
    showError(apiErrorText(err));
    return;
  }
  const live = { matchId, joinName, fromStorage, welcomedOnce: false, synced: false, ended: false, failures: 0, status: null, conn: null };
  live.conn = new MatchConnection({
    url,
    clock,
    hello: () => {
      const seat = seats.loadSeat(matchId);
      return seat ? { type: 'resume', token: seat.token } : { type: 'join', name: live.joinName };
    },
    onOpen: () => {
      live.synced = false;
    },
    onMessage: (msg) => onServerMessage(live, msg),
    onClose: (info) => onSocketClose(live, info),
    onStatus: (status) => onConnectionStatus(live, status),
    onGiveUp: () => onGiveUp(live),
    giveUpAfterMs: seats.loadSeat(matchId) ? RESUME_GIVE_UP_MS : JOIN_GIVE_UP_MS,
  });
  app.live = live;
  render();
  live.conn.start();
}

function stopLive(live) {
  live.ended = true;
  live.conn.stop();
  if (app.live === live) app.live = null;
  updateBanner();
}

/** The session is over for a reason the player must hear; back to the home screen. */
function endLive(live, { code, detail, forgetSeat = false }) {
  if (app.live !== live) return;
  stopLive(live);
  if (forgetSeat) {
    seats.forgetSeat(live.matchId);
    seats.clearCurrentMatch();
  }
  app.home.prefillCode = live.matchId;
  goHomeScreen();
  showError(errorText(code, { detail }));
  if (code === 'NAME_TAKEN' || code === 'INVALID_NAME') document.getElementById('player-name')?.focus();
}

function onConnectionStatus(live, status) {
  if (app.live !== live) return;
  live.status = status;
  if (status.state === 'waiting') live.failures++;
  updateBanner();
}

function onSocketClose(live, info) {
  if (app.live !== live) return false;
  live.synced = false;
  const m = app.match;
  if (m && m.matchId === live.matchId && m.phase === 'finished') {
    // The podium stays on screen; the match is over, so there is nothing to go back to.
    live.ended = true;
    seats.forgetSeat(live.matchId);
    seats.clearCurrentMatch();
    updateBanner();
    return false;
  }
  if (info.code === CLOSE_REPLACED) {
    live.ended = true;
    updateBanner();
    showError(errorText('REPLACED'), {
      action: { label: 'Continue here', testid: 'continue-here', onClick: () => void startLive({ matchId: live.matchId, fromStorage: true }) },
    });
    return false;
  }
  if (info.code === CLOSE_FINISHED || info.code === CLOSE_CLOSED) {
    endLive(live, { code: info.code === CLOSE_FINISHED ? 'MATCH_FINISHED' : 'MATCH_CLOSED', forgetSeat: true });
    return false;
  }
  if (info.code === CLOSE_KICKED) {
    endLive(live, { code: 'KICKED', forgetSeat: true });
    return false;
  }
  updateBanner();
  return true;
}

function onGiveUp(live) {
  if (app.live !== live) return;
  endLive(live, { code: live.welcomedOnce || seats.loadSeat(live.matchId) ? 'RECONNECT_FAILED' : 'JOIN_FAILED' });
}

function onServerMessage(live, msg) {
  if (app.live !== live) return;
  switch (msg.type) {
    case 'welcome':
      onWelcome(live, msg);
      return;
    case 'pong':
      return;
    case 'error':
      onServerError(live, msg);
      return;
    case 'kicked':
      endLive(live, { code: 'KICKED', forgetSeat: true });
      return;
    case 'match_closed':
      endLive(live, { code: 'MATCH_CLOSED', detail: msg.reason, forgetSeat: true });
      return;
    default:
      break;
  }
  // Until this socket's welcome, its snapshot is the truth; earlier messages add nothing.
  if (!live.synced || !app.match) return;
  if (applyMessage(app.match, msg)) {
    render();
    announceMessage(msg, app.match);
  }
}

function onWelcome(live, msg) {
  const m = matchFromWelcome(msg);
  const matchId = m.matchId ?? live.matchId;
  const previous = app.match && app.match.matchId === matchId ? app.match : null;
  seats.saveSeat(matchId, { token: msg.token, role: m.role, name: m.name ?? undefined });
  seats.setCurrentMatch(matchId);
  clock.addRough(msg.serverTime, Date.now());
  live.conn.markHealthy({ giveUpAfterMs: RESUME_GIVE_UP_MS });
  Object.assign(live, { synced: true, welcomedOnce: true, failures: 0 });
  app.home.busy = null;

  if (m.phase === 'closed') {
    endLive(live, { code: 'MATCH_CLOSED', forgetSeat: true });
    return;
  }
  resendAnswer(live, m, previous);
  app.match = m;
  // The room listens to the host's screen; phones stay quiet unless their player says otherwise.
  configureSound({ defaultOn: m.role === 'host' });
  updateBanner();
  render();
  announce(phaseAnnouncement(m));
}

/**
 * An answer without an answer_ack may or may not have reached the server before the
 * connection dropped. Sending the same answer again is safe (PROTOCOL.md: it is
 * acknowledged again and changes nothing), and the ack is what says it is recorded.
 */
function resendAnswer(live, m, previous) {
  if (!m.you || m.phase !== 'question' || !m.question) return;
  const index = m.question.index;
  const held = m.you.answer?.questionIndex === index ? m.you.answer : null;
  const before = previous?.you && previous.question?.index === index ? previous.you : null;
  if (held && before?.answerStatus === 'locked' && before.answer?.choice === held.choice) {
    m.you.answerStatus = 'locked';
    return;
  }
  const pending = held ?? (before?.pending?.questionIndex === index ? before.pending : null);
  if (!pending) return;
  m.you.pending = { questionIndex: index, choice: pending.choice };
  m.you.answerStatus = 'sending';
  live.conn.send({ type: 'answer', questionIndex: index, choice: pending.choice });
}

function onServerError(live, msg) {
  const code = msg.code;
  // The host's `next` named a phase the match had already left (a double click, or the
  // timer got there first): nothing went wrong, and the screen already moved on.
  if (code === 'PHASE_PASSED') return;
  const text = isKnownCode(code) ? errorText(code) : msg.message || errorText(code);
  if (msg.ref === 'join' && !live.welcomedOnce) {
    // The join was refused, so this connection has nothing more to offer.
    endLive(live, { code: isKnownCode(code) ? code : 'JOIN_FAILED' });
    return;
  }
  if (msg.ref === 'resume' && code === 'TOKEN_INVALID') {
    endLive(live, { code, forgetSeat: true });
    return;
  }
  if (msg.ref === 'answer' && app.match?.you?.answerStatus === 'sending') {
    const you = app.match.you;
    you.pending = null;
    if (code === 'QUESTION_CLOSED') Object.assign(you, { answerStatus: 'refused', note: '✗ Not counted: time was up' });
    else if (code === 'QUESTION_NOT_OPEN') you.answerStatus = 'none';
    else if (code === 'ALREADY_ANSWERED') Object.assign(you, { answerStatus: 'refused', note: 'Your first answer counts' });
    else you.answerStatus = 'none';
    render();
  }
  showError(text);
}

// ---- rendering ---------------------------------------------------------------------------

function context() {
  return {
    match: app.match,
    home: app.home,
    clock,
    origin: window.location.origin,
    connectingTo: app.live?.matchId ?? null,
    /** The host's window is wide enough to be the room's big screen (projector, TV). */
    bigScreen: isBigScreen(),
    /** Only then are players told about keys 1–4. */
    keyboard: keyboardLikely(),
    actions,
  };
}

function isBigScreen() {
  return app.match?.role === 'host' && isWide();
}

function currentScreen() {
  if (app.match) {
    const { screen, key } = screenFor(app.match);
    // Crossing the big-screen width rebuilds the screen in the other layout.
    return { screen, key: isBigScreen() ? `${key}:big` : key };
  }
  if (app.live && app.live.fromStorage) return { screen: 'connecting', key: `connecting:${app.live.matchId}` };
  return { screen: 'home', key: 'home' };
}

function render() {
  const { screen, key } = currentScreen();
  const ctx = context();
  document.documentElement.classList.toggle('big-screen', ctx.bigScreen);
  syncAmbience();
  if (app.view && app.view.key === key) {
    app.view.instance.update(ctx);
    return;
  }
  const first = app.view === null;
  app.view?.instance.destroy?.();
  const instance = SCREENS[screen](ctx);
  replace(els.screen, instance.root);
  app.view = { name: screen, key, instance };
  document.title = screen === 'home' ? SCREEN_TITLES.home : `${SCREEN_TITLES[screen]} · Quiz Rush`;
  // Errors belong to the screen they were shown on. (Errors that come with a screen change
  // are shown after the render.)
  clearError();
  // Keyboard and screen-reader users start at the new screen's heading (not on first load,
  // where the browser's own start is fine).
  const target = instance.focusTarget ?? (first ? null : instance.root.querySelector('.screen-title'));
  target?.focus();
}

/** Lobby music while in the lobby; the screen kept awake from the lobby to the last question. */
function syncAmbience() {
  const phase = app.match?.phase ?? null;
  setMusic(phase === 'lobby' ? 'lobby' : null);
  keepScreenOn(phase !== null && phase !== 'finished' && phase !== 'closed');
}

function goHomeScreen() {
  app.match = null;
  app.home.busy = null;
  app.home.rejoin = rejoinOffer();
  render();
  void loadResults();
}

function rejoinOffer() {
  const matchId = seats.currentMatchId();
  const seat = matchId ? seats.loadSeat(matchId) : null;
  return seat ? { matchId, role: seat.role } : null;
}

function updateBanner() {
  const live = app.live;
  const down = Boolean(live) && !live.ended && !live.synced;
  // A first join that is simply still connecting is not a "reconnect".
  const show = down && (live.welcomedOnce || live.fromStorage || live.failures > 0);
  els.banner.hidden = !show;
  const status = live?.status;
  els.bannerDetail.textContent =
    show && status?.state === 'waiting' && status.retryInMs !== undefined
      ? `Trying again in ${Math.max(1, Math.round(status.retryInMs / 1000))} s`
      : show
        ? 'Connecting…'
        : '';
}

function showError(text, options) {
  showErrorIn(els.error, text, options);
}

function clearError() {
  clearErrorIn(els.error);
}

function apiErrorText(err) {
  if (err instanceof api.ApiError) {
    return errorText(err.code, {
      detail: err.code === 'BAD_REQUEST' ? err.message : undefined,
      retryAfterSec: err.retryAfterSec,
    });
  }
  return errorText('NETWORK');
}

// ---- announcements -------------------------------------------------------------------

function phaseAnnouncement(m) {
  switch (m.phase) {
    case 'lobby':
      return m.role === 'host'
        ? `Your game ${m.matchId} is ready. Players join with that code.`
        : `You are in game ${m.matchId}. Waiting for the host to start.`;
    case 'intro':
      return `Question ${m.intro.index + 1} of ${m.intro.total}: ${m.intro.text} Answers open in a moment.`;
    case 'question':
      return `Question ${m.question.index + 1} of ${m.question.total}: ${m.question.text}`;
    case 'reveal':
      return revealAnnouncement(m);
    case 'leaderboard':
      return m.you?.rank ? `Leaderboard. You are ${ordinal(m.you.rank)} with ${m.you.score} points.` : 'Leaderboard.';
    case 'finished': {
      const winner = m.standings?.find((s) => s.rank === 1);
      return winner ? `Game over. ${winner.name} wins with ${winner.score} points.` : 'Game over.';
    }
    default:
      return '';
  }
}

function revealAnnouncement(m) {
  const r = m.reveal;
  const q = m.question?.index === r.questionIndex ? m.question : null;
  if (isPoll(m)) {
    const counts = r.counts ?? [];
    const top = counts.length ? counts.indexOf(Math.max(...counts)) : -1;
    const most = top >= 0 && counts[top] > 0 ? ` Most votes: ${q ? q.choices[top] : `answer ${top + 1}`}.` : '';
    return `Time is up. Poll results are in.${most}`;
  }
  let text = `Time is up. The answer is ${q ? q.choices[r.correct] : `answer ${r.correct + 1}`}.`;
  if (m.you) {
    const mine = m.you.answer?.questionIndex === r.questionIndex ? m.you.answer.choice : null;
    if (mine === null) text += ' You did not answer.';
    else if (mine === r.correct) text += ` You got it right: plus ${m.you.lastPoints ?? 0} points.`;
    else text += ' Your answer was wrong.';
  }
  return text;
}

/** What the room hears when the match moves on (nothing plays before the first click or tap). */
const CUE_FOR_MESSAGE = { question_intro: 'intro', reveal: 'reveal', finished: 'fanfare' };

function announceMessage(msg, m) {
  if (msg.type === 'answer_ack') announce(isPoll(m) ? 'Vote counted.' : 'Answer locked in.');
  else if (['question_intro', 'question', 'reveal', 'leaderboard', 'finished'].includes(msg.type)) announce(phaseAnnouncement(m));
  if (CUE_FOR_MESSAGE[msg.type]) playCue(CUE_FOR_MESSAGE[msg.type]);
}

// ---- start-up ------------------------------------------------------------------------------

async function loadQuizzes() {
  try {
    const quizzes = await api.listQuizzes();
    app.home.quizzes = Array.isArray(quizzes) ? quizzes : [];
    app.home.quizzesError = null;
  } catch {
    app.home.quizzes = [];
    app.home.quizzesError = 'unavailable';
  }
  if (app.view?.name === 'home') render();
}

async function loadResults() {
  try {
    const results = await api.recentResults();
    app.home.results = Array.isArray(results) ? results : null;
  } catch {
    // Recent results are a nicety; without the match service there are none to show.
    app.home.results = null;
  }
  if (app.view?.name === 'home') render();
}

function onKeyDown(event) {
  if (app.view?.name !== 'question' || app.match?.role !== 'player') return;
  if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
  if (event.target instanceof Element && event.target.closest('input, textarea, select, [contenteditable]')) return;
  const n = Number(event.key);
  if (!Number.isInteger(n) || n < 1 || n > 4) return;
  event.preventDefault();
  actions.answer(n - 1);
  document.querySelector(`[data-testid="choice-${n - 1}"]`)?.focus();
}

function boot() {
  initAnnouncer(els.announcer);
  initWakeLock(els.main);
  unlockOnGesture();
  watchDisplay(() => render());
  document.addEventListener('keydown', onKeyDown);

  const params = new URLSearchParams(window.location.search);
  const joinCode = normalizeCode(params.get('join') ?? '');
  app.home.prefillCode = isValidCode(joinCode) ? joinCode : '';
  app.home.prefillName = seats.lastName();

  void loadQuizzes();
  const current = seats.currentMatchId();
  // A refresh lands back in the match; a share link for another match wins over that.
  if (current && seats.loadSeat(current) && (!app.home.prefillCode || app.home.prefillCode === current)) {
    void startLive({ matchId: current, fromStorage: true });
    void loadResults();
  } else {
    goHomeScreen();
  }
}

boot();
