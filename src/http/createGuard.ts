/**
 * Per-address limits on `POST /matches`, so that one address cannot fill every match slot:
 * a token bucket of `CREATE_RATE_PER_MIN` creates per minute, and at most
 * `MAX_OPEN_LOBBIES_PER_IP` matches created from that address still in their lobby (a
 * started, finished or closed match no longer counts). Local clients are exempt
 * (`isLocalClient`: operators and the load tool on the machine itself).
 *
 * Lobbies are checked lazily, when the same address creates again, by asking the service
 * for each of its (at most a few) matches: nothing has to tell this guard when a lobby starts.
 */
import { HttpError } from '../protocol/errors';
import { KeyedBuckets } from '../limits/keyedBuckets';

/** A reservation for a match being created, until it has an id. */
const PENDING = Symbol('pending');
type Slot = string | typeof PENDING;

export interface CreateTicket {
  created(matchId: string): void;
  failed(): void;
}

export class CreateGuard {
  private readonly buckets: KeyedBuckets;
  private readonly lobbies = new Map<string, Slot[]>();

  constructor(
    ratePerMin: number,
    private readonly maxOpenLobbies: number,
    /** Whether a match is still in its lobby (false for unknown or gone). */
    private readonly inLobby: (matchId: string) => Promise<boolean>,
    private readonly clock: () => number = Date.now,
  ) {
    this.buckets = new KeyedBuckets(ratePerMin / 60, ratePerMin);
  }

  /** Admits a create from `addr` or throws 429 RATE_LIMITED with the wait. */
  async admit(addr: string): Promise<CreateTicket> {
    const now = this.clock();
    if (!this.buckets.take(addr, now)) {
      throw new HttpError('RATE_LIMITED', 'Too many new matches from your address; wait a little.', this.buckets.waitSec(addr, now));
    }
    await this.prune(addr);
    // No await between this check and the reservation: concurrent creates see each other.
    const slots = this.lobbies.get(addr) ?? [];
    if (slots.length >= this.maxOpenLobbies) {
      throw new HttpError('RATE_LIMITED', `Your address already has ${slots.length} matches waiting in their lobby; start or finish one first.`);
    }
    slots.push(PENDING);
    this.lobbies.set(addr, slots);
    const release = (replacement?: string) => {
      const list = this.lobbies.get(addr);
      if (!list) return;
      const i = list.indexOf(PENDING);
      if (i >= 0) {
        if (replacement === undefined) list.splice(i, 1);
        else list[i] = replacement;
      }
      if (list.length === 0) this.lobbies.delete(addr);
    };
    return {
      created: (matchId) => release(matchId),
      failed: () => release(),
    };
  }

  /** Addresses with lobbies counted (for tests and metrics). */
  get addresses(): number {
    return this.lobbies.size;
  }

  private async prune(addr: string): Promise<void> {
    const ids = (this.lobbies.get(addr) ?? []).filter((s): s is string => s !== PENDING);
    if (ids.length === 0) return;
    const stillOpen = await Promise.all(ids.map((id) => this.inLobby(id).catch(() => true)));
    const closed = new Set(ids.filter((_, i) => !stillOpen[i]));
    const list = this.lobbies.get(addr);
    if (!list) return;
    const kept = list.filter((s) => s === PENDING || !closed.has(s));
    if (kept.length === 0) this.lobbies.delete(addr);
    else this.lobbies.set(addr, kept);
  }
}
