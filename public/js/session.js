/**
 * What survives a page refresh in this tab: the seat (token + role) per match, and which
 * match the tab is in. sessionStorage, not localStorage, so two tabs can be two players.
 * Storage can be unavailable (privacy modes); then the game still works, minus refresh.
 */

const SEAT_PREFIX = 'quizrush.seat.';
const CURRENT_KEY = 'quizrush.currentMatch';
const NAME_KEY = 'quizrush.lastName';

function read(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function write(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    /* storage full or disabled: nothing to do */
  }
}

/** `seat` = {token, role: 'player'|'host', name?} */
export function saveSeat(matchId, seat) {
  write(sessionStorage, SEAT_PREFIX + matchId, JSON.stringify(seat));
}

export function loadSeat(matchId) {
  const raw = read(sessionStorage, SEAT_PREFIX + matchId);
  if (!raw) return null;
  try {
    const seat = JSON.parse(raw);
    return seat && typeof seat.token === 'string' && seat.token ? seat : null;
  } catch {
    return null;
  }
}

export function forgetSeat(matchId) {
  write(sessionStorage, SEAT_PREFIX + matchId, null);
}

/**
 * A match this tab just created (`POST /matches` answer): the host's seat, and the tab's
 * current match, so the game page (app.js) goes into its lobby: right away after "Create
 * match", or when it loads after the editor's "Start a match". Returns the match id.
 */
export function takeHostSeat(created) {
  const matchId = String(created.matchId).toUpperCase();
  saveSeat(matchId, { token: created.hostToken, role: 'host' });
  setCurrentMatch(matchId);
  return matchId;
}

export function currentMatchId() {
  return read(sessionStorage, CURRENT_KEY);
}

export function setCurrentMatch(matchId) {
  write(sessionStorage, CURRENT_KEY, matchId);
}

export function clearCurrentMatch() {
  write(sessionStorage, CURRENT_KEY, null);
}

/** The last name typed, to prefill the next game (a convenience, so localStorage). */
export function lastName() {
  return read(localStorage, NAME_KEY) ?? '';
}

export function rememberName(name) {
  write(localStorage, NAME_KEY, name);
}
