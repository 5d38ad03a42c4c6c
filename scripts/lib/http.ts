/** Minimal JSON-over-HTTP helpers for the load tools (loopback targets only; see loopback.ts). */

export interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export class HttpFailure extends Error {
  override name = 'HttpFailure';
  constructor(
    message: string,
    /** `http:<status>:<code>` or `http:<errno>`; used as the error key in reports. */
    readonly key: string,
    readonly status?: number,
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }
}

export async function requestJson(method: 'GET' | 'POST', url: string, body?: unknown, timeoutMs = 10_000): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const code = e.name === 'TimeoutError' ? 'TIMEOUT' : (e.cause?.code ?? e.name);
    throw new HttpFailure(`${method} ${url} failed: ${code} ${e.cause ? String((e.cause as Error).message ?? '') : e.message}`.trim(), `http:${code}`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Throws an HttpFailure naming the protocol error code unless the status is `expected`. */
export function expectStatus(method: string, url: string, res: HttpResult, expected: number): void {
  if (res.status === expected) return;
  const err = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof err?.code === 'string' ? err.code : 'UNKNOWN';
  const message = typeof err?.message === 'string' ? err.message : res.text.slice(0, 200);
  const retryAfter = Number(res.headers.get('retry-after'));
  throw new HttpFailure(
    `${method} ${url} answered ${res.status} ${code}: ${message}`,
    `http:${res.status}:${code}`,
    res.status,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}
