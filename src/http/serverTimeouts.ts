/**
 * Tight `headersTimeout` / `requestTimeout` on every HTTP server we listen with: Node's
 * defaults (60 s / 300 s) let a client that sends half a request hold a descriptor for
 * minutes, and a few thousand such clients exhaust them. Our requests are small (bodies
 * ≤ 64 KiB), so seconds are plenty. Node checks them every `connectionsCheckingInterval`
 * (30 s by default), far coarser than the limits: it is set to a quarter of the headers
 * timeout so a half-sent request is closed within about 1.25× its limit.
 */
export interface ServerTimeouts {
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
}

/** Options for `http.createServer`: `connectionsCheckingInterval` can only be set there. */
export function serverOptions(c: ServerTimeouts): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  // Node requires headersTimeout ≤ requestTimeout (a requestTimeout of 0 would mean none).
  const requestTimeout = Math.max(c.HTTP_REQUEST_TIMEOUT_MS, c.HTTP_HEADERS_TIMEOUT_MS);
  return {
    headersTimeout: c.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout,
    connectionsCheckingInterval: Math.max(250, Math.floor(c.HTTP_HEADERS_TIMEOUT_MS / 4)),
  };
}

