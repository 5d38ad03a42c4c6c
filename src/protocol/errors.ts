/**
 * The one catalog of errors the service answers with: WebSocket `error` codes, HTTP errors
 * (routes and refused WebSocket upgrades alike) and WebSocket close codes. Every throw or
 * refusal site names an entry here, so a status, a `Retry-After` or a close code is written
 * once, and a client can switch on `code` and show `message` to a person.
 */

/**
 * `error` message codes (PROTOCOL.md "Errors and bad input", and Part 2's "WebSocket error
 * codes beyond v1"), with the text shown to people.
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
  // Part 2 (PROTOCOL.md "Game night additions"):
  QUESTION_NOT_OPEN: 'This question is not open for answers yet.',
  PHASE_PASSED: 'The match has already moved past that.',
} as const;

export type WsErrorCode = keyof typeof WS_ERROR_MESSAGES;

interface HttpErrorSpec {
  /** What the body's `error.code` says (PROTOCOL.md's codes, plus UNAVAILABLE, FORBIDDEN, INTERNAL). */
  readonly code: string;
  readonly status: number;
  /** The default text; a throw site may give a more precise one. */
  readonly message: string;
  /** Seconds for the `Retry-After` header, where waiting helps. */
  readonly retryAfterSec?: number;
}

/**
 * HTTP errors by situation. Several situations may share a wire code (a match that is moving
 * and a service that is starting are both `UNAVAILABLE`) but each has one status, one default
 * text and one `Retry-After`.
 */
export const HTTP_ERRORS = {
  BAD_REQUEST: { code: 'BAD_REQUEST', status: 400, message: 'Bad request.' },
  FORBIDDEN_ORIGIN: { code: 'FORBIDDEN', status: 403, message: 'Origin not allowed.' },
  /** An operators' endpoint asked for by a non-loopback client without the right OPS_TOKEN. */
  OPS_FORBIDDEN: { code: 'FORBIDDEN', status: 403, message: 'This endpoint needs Authorization: Bearer <OPS_TOKEN>.' },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, message: 'No such match.' },
  NO_ROUTE: { code: 'NOT_FOUND', status: 404, message: 'No such route.' },
  NO_WS_ENDPOINT: { code: 'NOT_FOUND', status: 404, message: 'No such WebSocket endpoint.' },
  TOO_LARGE: { code: 'TOO_LARGE', status: 413, message: 'Request body is too large.' },
  /** Per-address limits (matches created, open lobbies, connections); `Retry-After` is computed. */
  RATE_LIMITED: { code: 'RATE_LIMITED', status: 429, message: 'Too many requests from your address; try again later.', retryAfterSec: 60 },
  INTERNAL: { code: 'INTERNAL', status: 500, message: 'Something went wrong on our side.' },
  /** PROTOCOL.md: every worker that may exist is full. A match lasts minutes; 10 s is a polite retry. */
  CAPACITY: {
    code: 'CAPACITY',
    status: 503,
    message: 'Every worker is hosting as many matches as it may; try again soon.',
    retryAfterSec: 10,
  },
  /** PROTOCOL.md: a match being moved to another worker. A restore takes well under a second. */
  MATCH_MOVING: {
    code: 'UNAVAILABLE',
    status: 503,
    message: 'This match is moving to another worker; retry shortly.',
    retryAfterSec: 1,
  },
  /** Starting, draining, or a dependency (the store, a worker, the match service) not answering. */
  UNAVAILABLE: {
    code: 'UNAVAILABLE',
    status: 503,
    message: 'The service cannot take that right now; try again.',
    retryAfterSec: 2,
  },
} as const satisfies Record<string, HttpErrorSpec>;

export type HttpErrorKind = keyof typeof HTTP_ERRORS;

/** An error that an HTTP route (or an upgrade refusal) turns into `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSec: number | undefined;
  constructor(
    readonly kind: HttpErrorKind,
    message?: string,
    /** Overrides the catalog's `Retry-After` where the wait is known (a rate limit's refill). */
    retryAfterSec?: number,
  ) {
    const spec: HttpErrorSpec = HTTP_ERRORS[kind];
    super(message ?? spec.message);
    this.name = 'HttpError';
    this.status = spec.status;
    this.code = spec.code;
    this.retryAfterSec = retryAfterSec ?? spec.retryAfterSec;
  }

  /** The protocol's error body. */
  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }

  /** Headers that go with it (`Retry-After` where waiting helps). */
  headers(): Record<string, string> {
    return this.retryAfterSec === undefined ? {} : { 'Retry-After': String(this.retryAfterSec) };
  }
}

/**
 * WebSocket close codes (RFC 6455 §7.4.1 and the private range 4000–4999). The reasons are
 * for people and logs; clients switch on the code. Codes in the 4000 range are ours and
 * stable: they are listed in docs/PROTOCOL.md and the page acts on them.
 */
export const CLOSE = {
  NORMAL: 1000,
  /** The process is shutting down; reconnect with backoff (its matches live on elsewhere). */
  GOING_AWAY: 1001,
  /** PROTOCOL.md: floods, or keeps sending bad messages. */
  POLICY: 1008,
  /** PROTOCOL.md: a frame over 4 KiB (`ws` sends it itself, from `maxPayload`). */
  TOO_BIG: 1009,
  /**
   * The client does not read what it is sent: its unsent data passed SEND_BUFFER_LIMIT_BYTES.
   * RFC 6455's "try again later": a slow phone reconnects and resumes, and the server's
   * memory does not grow with a client that never reads.
   */
  TRY_AGAIN_LATER: 1013,
  /** Another connection resumed this identity; this one must not reconnect on its own. */
  REPLACED: 4000,
  /** The match finished; the results stay readable over HTTP. Do not reconnect. */
  MATCH_FINISHED: 4001,
  /** The match was closed before it finished (idle lobby, poison, host gone). Do not reconnect. */
  MATCH_CLOSED: 4002,
  /** The host removed this player. Do not reconnect. */
  KICKED: 4003,
  /** Neither `join` nor `resume` within JOIN_DEADLINE_MS of the upgrade: a socket that only holds a descriptor. */
  JOIN_TIMEOUT: 4004,
  /** The match moved to another worker or host: reconnect at once, nothing is lost. */
  MATCH_MOVED: 4010,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** The reason text each of our close codes goes with (kept as they were before the codes). */
export const CLOSE_REASONS = {
  [CLOSE.REPLACED]: 'replaced by a newer connection',
  [CLOSE.MATCH_FINISHED]: 'match finished',
  [CLOSE.MATCH_CLOSED]: 'match closed',
  [CLOSE.KICKED]: 'kicked',
  [CLOSE.JOIN_TIMEOUT]: 'no join or resume in time',
  [CLOSE.TRY_AGAIN_LATER]: 'not reading fast enough',
  [CLOSE.MATCH_MOVED]: 'match moved',
} as const;
