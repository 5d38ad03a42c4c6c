/**
 * HTTP calls from one host to another (WORKER_POOL_ARCHITECTURE.md "Several hosts"): place a
 * match on a peer that has room, and ask the owner of a match to describe it. Every call is
 * bounded by a timeout and fails with a typed error; the caller decides what to do next.
 *
 * Calls go to the peer's PUBLIC_MATCH_URL. Placing a match uses the operators' route
 * `POST /internal/matches`, so it carries OPS_TOKEN when one is set (loopback peers need none),
 * and is not counted against a client's create limits twice: the first host already did.
 */
import { type CreatedMatch, FORWARDED_BY, type MatchSummary } from '../http/matchService';
import type { MatchSettings } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';

export type PeerErrorCode = 'PEER_FULL' | 'PEER_UNREACHABLE' | 'PEER_REFUSED';

export class PeerError extends Error {
  constructor(
    readonly code: PeerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

export interface PeerClientOptions {
  /** This host's id, sent as FORWARDED_BY. */
  self: string;
  opsToken?: string;
  timeoutMs: number;
}

/** A match created on a peer: what POST /matches answers, with the owner named. */
export interface PlacedMatch extends CreatedMatch {
  hostId: string;
}

export class PeerClient {
  constructor(private readonly opts: PeerClientOptions) {}

  /** Creates the match on `publicUrl`'s host; `PEER_FULL` when it has no room. */
  async createMatch(publicUrl: string, body: { quiz: Quiz; settings: MatchSettings }, requestId?: string): Promise<PlacedMatch> {
    const res = await this.call(new URL('/internal/matches', publicUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => null)) as (PlacedMatch & { error?: { code?: string; message?: string } }) | null;
    if (res.status === 201 && json && typeof json.matchId === 'string' && typeof json.hostToken === 'string') return json;
    const code = json?.error?.code;
    if (res.status === 503 || code === 'CAPACITY') throw new PeerError('PEER_FULL', `${publicUrl} has no room (${code ?? res.status})`);
    throw new PeerError('PEER_REFUSED', `${publicUrl} answered ${res.status} ${code ?? ''}`.trim());
  }

  /**
   * Asks the peer to claim the match at `epoch` and restore it (a move); resolves once it
   * serves it. Longer than other calls: the peer restores before it answers.
   */
  async adopt(publicUrl: string, matchId: string, epoch: number): Promise<void> {
    const res = await this.call(
      new URL(`/internal/matches/${encodeURIComponent(matchId)}/adopt`, publicUrl),
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ epoch }) },
      this.opts.timeoutMs * 3,
    );
    if (res.status !== 200) throw new PeerError('PEER_REFUSED', `${publicUrl} did not take match ${matchId} (${res.status})`);
  }

  /** The owner's own description of a live match; null when it does not have it. */
  async matchInfo(publicUrl: string, matchId: string): Promise<MatchSummary | null> {
    const res = await this.call(new URL(`/matches/${encodeURIComponent(matchId)}`, publicUrl), { method: 'GET' });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new PeerError('PEER_REFUSED', `${publicUrl} answered ${res.status}`);
    return (await res.json()) as MatchSummary;
  }

  private async call(url: URL, init: { method: string; headers?: Record<string, string>; body?: string }, timeoutMs = this.opts.timeoutMs): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: {
          ...init.headers,
          [FORWARDED_BY]: this.opts.self,
          ...(this.opts.opsToken ? { authorization: `Bearer ${this.opts.opsToken}` } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new PeerError('PEER_UNREACHABLE', `${url.origin}: ${(err as Error).message}`);
    }
  }
}
