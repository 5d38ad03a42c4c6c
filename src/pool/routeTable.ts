/**
 * Which worker owns each match, as the master knows it, and the matches closed for good
 * (tombstones, so their players are told why instead of "no such match"). Every change goes
 * through `apply(matchId, event)`, and `nextRoute` (pure) decides what an event does, so the
 * transitions can be read, and tested, in one table.
 *
 *   (none) ──creating──▶ creating ──created──▶ active ──ended──▶ (none)
 *                          └──createFailed──▶ (none)
 *   (none) ──recovered──▶ moving ◀──ownerDied── active      (diedRestoring: one more death)
 *   moving ──restored──▶ active;  moving ──vanished──▶ (none);  moving ──closed──▶ tombstone
 *   active ──releasing──▶ moving ──movedAway──▶ (none)      (moved to another host on purpose)
 *                          └──releaseFailed──▶ active       (its worker kept it)
 */

export type RouteState = 'creating' | 'active' | 'moving';

export interface Route {
  readonly matchId: string;
  /** The worker hosting it (or creating it); null while it has none. */
  readonly workerId: number | null;
  readonly state: RouteState;
  /** Owner deaths in a row, each soon after the match was restored (see restorer.ts). */
  readonly ownerDeaths: number;
  readonly restoredAt: number | null;
}

export type RouteEvent =
  /** Placed on a worker that is creating it. */
  | { type: 'creating'; workerId: number }
  | { type: 'created' }
  | { type: 'createFailed' }
  /** Found live in a persistent store at start-up: it has no owner yet. */
  | { type: 'recovered' }
  /** Its worker died; `ownerDeaths` as the poison rule counts them. */
  | { type: 'ownerDied'; ownerDeaths: number }
  /** The worker it was being restored on died during the restore. */
  | { type: 'diedRestoring' }
  | { type: 'restored'; workerId: number; at: number }
  /** Over on its worker; only the current owner can end it. */
  | { type: 'ended'; workerId: number }
  /** Gone from the store while it had no owner. */
  | { type: 'vanished' }
  /** Closed for good (a poison match); its players are told `reason`. */
  | { type: 'closed'; reason: string }
  /** Being moved to another host: its worker is letting it go; upgrades wait. */
  | { type: 'releasing'; workerId: number }
  /** Its worker kept it after all (the store did not catch up): back to that worker. */
  | { type: 'releaseFailed'; workerId: number }
  /** Another host has restored it: upgrades for it go there now. */
  | { type: 'movedAway' };

/** What an event makes of a route: the new route, none (forgotten), or a tombstone. */
export type RouteOutcome = { kind: 'route'; route: Route } | { kind: 'none' } | { kind: 'closed'; reason: string };

const fresh = (matchId: string, workerId: number | null, state: RouteState): Route => ({ matchId, workerId, state, ownerDeaths: 0, restoredAt: null });

/**
 * The transition table. An event that does not fit the route's state (a late message about
 * a match that has moved on) changes nothing: the route comes back as it was.
 */
export function nextRoute(matchId: string, route: Route | undefined, event: RouteEvent): RouteOutcome {
  const same: RouteOutcome = route ? { kind: 'route', route } : { kind: 'none' };
  switch (event.type) {
    case 'creating':
      return route ? same : { kind: 'route', route: fresh(matchId, event.workerId, 'creating') };
    case 'recovered':
      return route ? same : { kind: 'route', route: fresh(matchId, null, 'moving') };
    case 'created':
      return route?.state === 'creating' ? { kind: 'route', route: { ...route, state: 'active' } } : same;
    case 'createFailed':
      return route?.state === 'creating' ? { kind: 'none' } : same;
    case 'ownerDied':
      return route?.state === 'active'
        ? { kind: 'route', route: { ...route, state: 'moving', workerId: null, ownerDeaths: event.ownerDeaths } }
        : same;
    case 'diedRestoring':
      return route?.state === 'moving' ? { kind: 'route', route: { ...route, ownerDeaths: route.ownerDeaths + 1 } } : same;
    case 'restored':
      return route?.state === 'moving'
        ? { kind: 'route', route: { ...route, state: 'active', workerId: event.workerId, restoredAt: event.at } }
        : same;
    case 'ended':
      return route?.state === 'active' && route.workerId === event.workerId ? { kind: 'none' } : same;
    case 'vanished':
      return route?.state === 'moving' ? { kind: 'none' } : same;
    case 'closed':
      return route?.state === 'moving' ? { kind: 'closed', reason: event.reason } : same;
    case 'releasing':
      return route?.state === 'active' && route.workerId === event.workerId ? { kind: 'route', route: { ...route, state: 'moving', workerId: null } } : same;
    case 'releaseFailed':
      return route?.state === 'moving' && route.workerId === null ? { kind: 'route', route: { ...route, state: 'active', workerId: event.workerId } } : same;
    case 'movedAway':
      return route?.state === 'moving' ? { kind: 'none' } : same;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** Creating and moving matches have upgrades waiting for them; any other state settles them. */
const isBetweenOwners = (route: Route | undefined) => route !== undefined && route.state !== 'active';

export class RouteTable {
  private readonly routes = new Map<string, Route>();
  private readonly tombstones = new Map<string, { reason: string; at: number }>();

  constructor(
    private readonly opts: {
      clock: () => number;
      tombstoneTtlMs: number;
      /** The match stopped being between owners (created, restored, or gone): its waiting upgrades may go on. */
      settled(matchId: string): void;
      /** The match is no longer live here (ended, failed, vanished or closed): what it held may be freed. */
      forgotten?(matchId: string): void;
    },
  ) {}

  /** The one place routes change. Returns the route after the event (undefined: none). */
  apply(matchId: string, event: RouteEvent): Route | undefined {
    const before = this.routes.get(matchId);
    const outcome = nextRoute(matchId, before, event);
    if (outcome.kind === 'route') this.routes.set(matchId, outcome.route);
    else this.routes.delete(matchId);
    if (outcome.kind === 'closed') this.tombstones.set(matchId, { reason: outcome.reason, at: this.opts.clock() });
    const after = this.routes.get(matchId);
    if (isBetweenOwners(before) && !isBetweenOwners(after)) this.opts.settled(matchId);
    if (before && !after) this.opts.forgotten?.(matchId);
    return after;
  }

  get(matchId: string): Route | undefined {
    return this.routes.get(matchId);
  }

  /** Why a match was closed for good, while its tombstone lasts. */
  closedReason(matchId: string): string | null {
    return this.tombstones.get(matchId)?.reason ?? null;
  }

  /** Whether an id is taken: live, or closed recently enough that its players may still come back. */
  isTaken(matchId: string): boolean {
    return this.routes.has(matchId) || this.tombstones.has(matchId);
  }

  /** The ids of the matches in `state`. */
  idsIn(state: RouteState): string[] {
    return [...this.routes.values()].filter((r) => r.state === state).map((r) => r.matchId);
  }

  /** Live matches, including the ones between owners. */
  get size(): number {
    return this.routes.size;
  }

  /** Housekeeping, once per tick: a tombstone only has to outlast its players' retries. */
  expireTombstones(): void {
    const oldest = this.opts.clock() - this.opts.tombstoneTtlMs;
    for (const [id, t] of this.tombstones) if (t.at < oldest) this.tombstones.delete(id);
  }
}
