/**
 * HTTP calls: the API server's JSON routes (same origin) and the match service's routes
 * (another origin, CORS). Failures become `ApiError`s carrying the protocol's error code,
 * so callers only ever switch on a code.
 */

const REQUEST_TIMEOUT_MS = 8000;

export class ApiError extends Error {
  constructor(code, message, { status = 0, retryAfterSec, body } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.retryAfterSec = retryAfterSec;
    this.body = body;
  }
}

let configPromise = null;

/** `{matchServiceUrl}`; fetched once, retried on the next call if it failed. */
export function getConfig() {
  if (!configPromise) {
    configPromise = fetchJson('/api/config').catch((err) => {
      configPromise = null;
      throw err;
    });
  }
  return configPromise;
}

async function matchServiceBase() {
  const { matchServiceUrl } = await getConfig();
  return String(matchServiceUrl).replace(/\/+$/, '');
}

export const listQuizzes = () => fetchJson('/api/quizzes');
export const recentResults = () => fetchJson('/api/results');
/** Bare file names of the images shipped with the built-in quizzes (under /quiz-images/). */
export const quizImages = () => fetchJson('/api/quiz-images');

/** `payload` = {quizId} or {quiz}, plus optional hostName and settings. */
export async function createMatch(payload) {
  return fetchJson(`${await matchServiceBase()}/matches`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
}

export async function getMatch(matchId) {
  return fetchJson(`${await matchServiceBase()}/matches/${encodeURIComponent(matchId)}`);
}

/** A finished match's standings (and, from the match service's Part 2, its questions and answers). */
export async function matchResults(matchId) {
  return fetchJson(`${await matchServiceBase()}/matches/${encodeURIComponent(matchId)}/results`);
}

/** `opsToken`: the match service's OPS_TOKEN, needed unless the browser runs on the service's machine. */
export async function workerStats({ timeoutMs, opsToken } = {}) {
  const headers = opsToken ? { Authorization: `Bearer ${opsToken}` } : {};
  return fetchJson(`${await matchServiceBase()}/workers/stats`, { headers }, timeoutMs);
}

/** Every live host sharing the match service's Redis (several hosts); operators' access like workerStats. */
export async function hosts({ timeoutMs, opsToken } = {}) {
  const headers = opsToken ? { Authorization: `Bearer ${opsToken}` } : {};
  return fetchJson(`${await matchServiceBase()}/hosts`, { headers }, timeoutMs);
}

/** /health answers 503 with a body while starting or draining; that body is still news. */
export async function health({ timeoutMs } = {}) {
  try {
    return await fetchJson(`${await matchServiceBase()}/health`, {}, timeoutMs);
  } catch (err) {
    if (err instanceof ApiError && err.body && typeof err.body.status === 'string') return err.body;
    throw err;
  }
}

/** The WebSocket URL of `wsPath` on the match service: same host and port, ws:// or wss://. */
export async function webSocketUrl(wsPath) {
  const url = new URL(wsPath, `${await matchServiceBase()}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

async function fetchJson(url, init = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
  let res;
  try {
    res = await fetch(url, {
      ...init,
      headers: { Accept: 'application/json', ...(init.headers ?? {}) },
      cache: 'no-store',
      signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (err) {
    throw new ApiError('NETWORK', `Request to ${url} failed: ${err?.message ?? err}`);
  }
  let body = null;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = body && typeof body === 'object' ? body.error : null;
    const code = typeof error?.code === 'string' ? error.code : codeForStatus(res.status);
    // Cross-origin, Retry-After is only readable if the server exposes it; null otherwise.
    const retryAfterSec = parseRetryAfter(res.headers.get('Retry-After'));
    throw new ApiError(code, typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`, {
      status: res.status,
      retryAfterSec,
      body,
    });
  }
  return body;
}

function codeForStatus(status) {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'TOO_LARGE';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

function parseRetryAfter(value) {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}
