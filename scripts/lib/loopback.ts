/**
 * The load tools talk to loopback only: a load generator pointed at somebody else's server
 * is an attack, not a benchmark. Anything but 127.0.0.0/8, localhost or [::1] is refused.
 */
import { isIPv4 } from 'node:net';

export class NotLoopbackError extends Error {
  override name = 'NotLoopbackError';
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost') return true;
  if (h === '[::1]' || h === '::1') return true;
  if (isIPv4(h)) return h.split('.')[0] === '127';
  return false;
}

/**
 * Parses an http(s) origin and checks it points at this machine. Returns the origin with no
 * trailing slash, plus the matching ws(s) origin.
 */
export function loopbackBase(raw: string): { http: string; ws: string; url: URL } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NotLoopbackError(`--url ${JSON.stringify(raw)} is not a URL (expected e.g. http://127.0.0.1:3001).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NotLoopbackError(`--url must be http:// or https:// (got ${url.protocol}).`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new NotLoopbackError(
      `Refusing to send load to ${url.hostname}: only loopback targets are allowed (127.0.0.0/8, localhost, [::1]).`,
    );
  }
  if (url.username || url.password) throw new NotLoopbackError('--url must not contain credentials.');
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new NotLoopbackError('--url is the service origin only, e.g. http://127.0.0.1:3001 (no path or query).');
  }
  const http = `${url.protocol}//${url.host}`;
  const ws = http.replace(/^http/, 'ws');
  return { http, ws, url };
}
