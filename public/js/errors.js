/**
 * Every error a player can run into, as a sentence they understand. Codes come from the
 * match service (PROTOCOL.md WebSocket `error` codes and HTTP `{"error":{"code"}}` codes)
 * and from the page itself (network trouble, a kicked player…). This is the only place
 * wording for errors lives.
 */

const MESSAGES = {
  // WebSocket `error` codes (PROTOCOL.md "Errors and bad input").
  BAD_MESSAGE: 'Something went wrong sending that to the game. Please try again.',
  UNKNOWN_TYPE: 'This page seems to be out of date. Please reload it.',
  NOT_JOINED: 'You are not in this match yet. Join with the code first.',
  NOT_HOST: 'Only the host of this match can do that.',
  INVALID_NAME: 'Names need 1 to 20 visible characters. Please pick another one.',
  NAME_TAKEN: 'Someone in this match already has that name. Please pick another one.',
  LOBBY_LOCKED: 'The host has locked this match, so nobody new can join right now.',
  MATCH_FULL: 'This match is full. Ask the host to start another one.',
  MATCH_STARTED: 'This match has already started and does not let late players in.',
  TOKEN_INVALID: 'Your place in this match is no longer valid. You can join again with the code.',
  ALREADY_ANSWERED: 'You already answered this question. Your first answer counts.',
  QUESTION_CLOSED: 'Too late! Time was already up for this question.',
  WRONG_QUESTION: 'That answer was for a different question, so it did not count.',
  RATE_LIMITED: 'Whoa, slow down! You are sending actions too quickly.',
  // PROTOCOL.md Part 2 (the suspense moment and the named `next`).
  QUESTION_NOT_OPEN: 'Hold on: answers open in a moment.',
  PHASE_PASSED: 'The game had already moved on.',

  // HTTP error codes of the match service and the API server.
  BAD_REQUEST: 'The game server could not accept that request.',
  NOT_FOUND: 'There is no match with that code. Check the code and try again.',
  TOO_LARGE: 'That quiz is too big to upload. Try one with fewer or shorter questions.',
  CAPACITY: 'All game servers are full right now. Please try again in a minute.',
  UNAVAILABLE: 'The game server is busy or restarting. Please try again in a moment.',
  FORBIDDEN: 'This page is not allowed to talk to the game server. Please tell whoever runs it.',
  INTERNAL: 'Something went wrong on the game server. Please try again.',

  // The page's own situations.
  NETWORK: 'Cannot reach the game server. Check your internet connection and try again.',
  MATCH_FINISHED: 'That match has already finished.',
  KICKED: 'The host removed you from the match.',
  MATCH_CLOSED: 'This match has been closed.',
  RECONNECT_FAILED: 'We could not get back into your match. It may have ended, or the server is down.',
  JOIN_FAILED: 'We could not connect to that match. Please try again.',
  REPLACED: 'This match is now open in another tab or window, so this one stopped.',
  OFFLINE_ACTION: 'You are offline right now. Wait until you are reconnected and try again.',
  INVALID_CODE: 'Join codes are 6 letters and digits, like K7QX2M.',
  QUIZ_INVALID: 'That quiz is not quite right.',
  RESULTS_UNAVAILABLE: 'The results could not be fetched.',
};

const FALLBACK = 'Something went wrong. Please try again.';

/**
 * The sentence for `code`. `detail` is a server-written explanation worth showing after
 * it (which quiz field was wrong, why a match closed); `retryAfterSec` refines CAPACITY.
 */
export function errorText(code, { detail, retryAfterSec } = {}) {
  let text = MESSAGES[code] ?? FALLBACK;
  if ((code === 'CAPACITY' || code === 'UNAVAILABLE') && Number.isFinite(retryAfterSec) && retryAfterSec > 0) {
    text = text.replace(/in (a minute|a moment)/, `in ${retryAfterSec} second${retryAfterSec === 1 ? '' : 's'}`);
  }
  if (detail && (code === 'BAD_REQUEST' || code === 'QUIZ_INVALID' || code === 'MATCH_CLOSED' || code === 'KICKED' || code === 'RESULTS_UNAVAILABLE')) {
    text = `${text} ${sentence(detail)}`;
  }
  return text;
}

export function isKnownCode(code) {
  return Object.prototype.hasOwnProperty.call(MESSAGES, code);
}

function sentence(text) {
  const t = String(text).trim();
  if (!t) return '';
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
