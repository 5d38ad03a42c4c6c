/**
 * The one catalog of error codes. WebSocket `error` messages and HTTP error bodies both
 * draw their codes and default texts from here, so a client can switch on `code` and show
 * `message` to a person.
 */

export const WS_ERROR_MESSAGES = {
  BAD_MESSAGE: 'That message could not be understood.',
  UNKNOWN_TYPE: 'That message type is not known.',
  NOT_JOINED: 'Join or resume before doing that.',
  NOT_HOST: 'Only the host can do that.',
  INVALID_NAME: 'Names are 1 to 20 visible characters.',
  NAME_TAKEN: 'Somebody in this match already has that name.',
  LOBBY_LOCKED: 'The host has locked this match.',
  MATCH_FULL: 'This match is full.',
  MATCH_STARTED: 'This match has already started.',
  TOKEN_INVALID: 'That session is not valid in this match.',
  ALREADY_ANSWERED: 'You already answered this question.',
  QUESTION_CLOSED: 'This question is closed.',
  WRONG_QUESTION: 'That is not the current question.',
  RATE_LIMITED: 'Too many messages; slow down.',
} as const;

export type WsErrorCode = keyof typeof WS_ERROR_MESSAGES;

export const HTTP_ERRORS = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  CAPACITY: 503,
  UNAVAILABLE: 503,
  FORBIDDEN: 403,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** An error that an HTTP route turns into `{"error":{"code","message"}}` with its status. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERRORS[code];
  }
}

/** Close codes we use on WebSocket connections (RFC 6455 §7.4.1). */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
} as const;
