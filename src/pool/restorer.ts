/**
 * Bringing matches back on a live worker when theirs died (or, with Redis, when the master
 * restarted): claim the match in the store (a new epoch, so the old owner's late writes are
 * refused), place it, and restore it on the chosen worker with the snapshot the claim
 * returned. A match that keeps killing its workers is poison: it is closed for good instead
 * of taking the pool down with it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoff } from '../backoff';
import type { Logger } from '../log';
import type { PoolMetrics } from '../metrics';
import { type MatchDirectory, StoreFencedError } from '../store/store';
import { IpcError } from '../cluster/ipc';
import type { RouteTable } from './routeTable';
import type { MatchGone, WorkerSet, WorkerSlot } from './workerSet';

const RESTORE_ATTEMPTS = 8;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5000;
/**
 * A restored match is on probation this long: if its worker dies meanwhile, the restore is
 * the likely cause and the match takes the blame, not the matches that had been running
 * there quietly. A poison match kills its worker while restoring or in its first seconds.
 */
export const PROBATION_MS = 3000;
/** A match that had this much blame left when it was blamed again is a suspect: it is restored alone (see `Restorer`). */
export const SUSPECT_SCORE = 0.1;
/** What the players of a poison match are told (`match_closed`). */
export const POISON_REASON = 'This match could not be kept running and was closed.';

/** One match on a worker that just died, as the blame rule sees it. */
export interface DeathWitness {
  matchId: string;
  restoredAt: number | null;
  /** It was being restored on that worker when it died. */
  restoring: boolean;
}

/**
 * The poison rule, part one: who is blamed for a worker's death. The matches restored there
 * within PROBATION_MS (or being restored) are what changed just before it died: they share
 * one death's worth of blame and the others get none. With no such match, every match on
 * the worker shares it (a worker with three matches: a third each), so an innocent
 * neighbour of a poison match gains blame only until the two are restored apart.
 */
export function blameForDeath(onWorker: readonly DeathWitness[], now: number, probationMs = PROBATION_MS): Map<string, number> {
  const fresh = onWorker.filter((m) => m.restoring || (m.restoredAt !== null && now - m.restoredAt < probationMs));
  const suspects = fresh.length > 0 ? fresh : onWorker;
  return new Map(suspects.map((m) => [m.matchId, 1 / suspects.length]));
}

/** The poison rule, part two: blame decays, halving every `halfLifeMs`, instead of expiring at a window's edge. */
export function decayedScore(score: number, since: number, now: number, halfLifeMs: number): number {
  return score * 0.5 ** (Math.max(0, now - since) / halfLifeMs);
}

/**
 * The poison rule, part three: more than `limit − 1` deaths' worth of blame closes the match.
 * `limit` deaths in quick succession do; so do `limit` deaths spread over minutes, as long as
 * decay has not taken a whole death off (POISON_HALF_LIFE_MS 10 min, limit 3: deaths 5 min
 * apart still close it, deaths 10 min apart do not).
 */
export function isPoison(score: number, limit: number): boolean {
  return score > limit - 1 + 1e-9;
}

/** Each match's decaying blame score; forgotten when the match ends or is closed. */
export class BlameLedger {
  private readonly scores = new Map<string, { score: number; at: number; prior: number }>();

  constructor(private readonly halfLifeMs: number) {}

  score(matchId: string, now: number): number {
    const e = this.scores.get(matchId);
    return e ? decayedScore(e.score, e.at, now, this.halfLifeMs) : 0;
  }

  add(matchId: string, blame: number, now: number): number {
    const prior = this.score(matchId, now);
    const score = prior + blame;
    this.scores.set(matchId, { score, at: now, prior });
    return score;
  }

  /**
   * A suspect: it had blame (≥ SUSPECT_SCORE) before its latest death. A first death makes no
   * suspect, so an unrelated crash restores its matches at once; a second one, while the first
   * is remembered, does.
   */
  isSuspect(matchId: string): boolean {
    return (this.scores.get(matchId)?.prior ?? 0) >= SUSPECT_SCORE;
  }

  forget(matchId: string): void {
    this.scores.delete(matchId);
  }

  get size(): number {
    return this.scores.size;
  }
}

export interface RestorerDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'reserve' | 'release' | 'host' | 'get'>;
  directory: MatchDirectory;
  metrics: PoolMetrics;
  log: Logger;
  clock: () => number;
  poisonLimit: number;
  /** POISON_HALF_LIFE_MS: how fast blame fades. */
  poisonHalfLifeMs: number;
  isStopping: () => boolean;
  /** Waits between attempts and through probation; tests pass one that does not. */
  wait?: (ms: number) => Promise<unknown>;
}

/** How often a probation checks whether its worker is still alive. */
const PROBATION_POLL_MS = 100;

/**
 * Restores run in parallel, except a suspect's: suspects (matches blamed again while blame
 * from an earlier death is left) are restored one at a time across the pool, each followed
 * by its probation before the next starts. So when a worker dies again, at most one suspect is fresh on it,
 * and `blameForDeath` puts the whole death on that one instead of on its neighbours.
 */
export class Restorer {
  private readonly blame: BlameLedger;
  /** Matches whose restore is under way, and on which worker; `blamed` once a death was counted. */
  private readonly restoring = new Map<string, { workerId: number; blamed: boolean }>();
  /** The suspects' queue: each waits for the one before it and its probation. */
  private suspectQueue: Promise<unknown> = Promise.resolve();
  /**
   * The epoch this pool holds each match at (created at 1, or as its last claim here returned;
   * `adopt` sets the one a takeover expects): every claim must still find it. So of several
   * hosts taking the same match over exactly one wins, and a host that wakes from a pause to
   * find its worker "dead" cannot take back a match another host has claimed meanwhile.
   */
  private readonly expectedEpochs = new Map<string, number>();

  constructor(private readonly deps: RestorerDeps) {
    this.blame = new BlameLedger(deps.poisonHalfLifeMs);
  }

  /** A worker died: its matches move (blamed by the poison rule) and are restored elsewhere. */
  ownerDied(orphaned: readonly string[], workerId?: number): void {
    const now = this.deps.clock();
    const witnesses: DeathWitness[] = orphaned.map((matchId) => ({ matchId, restoredAt: this.deps.routes.get(matchId)?.restoredAt ?? null, restoring: false }));
    for (const [matchId, r] of this.restoring) {
      if (r.workerId === workerId && !r.blamed) {
        r.blamed = true;
        witnesses.push({ matchId, restoredAt: null, restoring: true });
      }
    }
    const shares = blameForDeath(witnesses, now);
    for (const w of witnesses) {
      const score = this.blame.add(w.matchId, shares.get(w.matchId) ?? 0, now);
      if (shares.has(w.matchId)) this.deps.log.info({ matchId: w.matchId, workerId, blame: shares.get(w.matchId), score: round(score) }, 'Worker death blamed on match');
    }
    for (const matchId of orphaned) {
      const route = this.deps.routes.get(matchId);
      if (route) this.deps.routes.apply(matchId, { type: 'ownerDied', ownerDeaths: route.ownerDeaths + 1 });
    }
    for (const matchId of orphaned) void this.restore(matchId);
  }

  /** Live matches a persistent store kept while no master ran: served again. */
  recover(matchIds: readonly string[]): void {
    for (const matchId of matchIds) this.deps.routes.apply(matchId, { type: 'recovered' });
    for (const matchId of matchIds) void this.restore(matchId);
  }

  /** Every live match the directory holds (a standalone host on Redis, started again): served again. */
  async recoverLive(): Promise<void> {
    const ids = await this.deps.directory.liveMatchIds();
    if (ids.length === 0) return;
    this.deps.log.info({ matches: ids.length }, 'Recovering live matches from the store');
    this.recover(ids);
  }

  /**
   * A worker no longer hosts a match: over, or fenced (another host owns it now), and its slot
   * is free. A move in progress (the mover's) has already taken the worker off the route, so it
   * is not seen here; a worker shutting down changes nothing.
   */
  matchGone({ workerId, matchId, reason }: MatchGone): void {
    const { routes, log } = this.deps;
    if (reason === 'shutdown' || routes.get(matchId)?.workerId !== workerId) return;
    routes.apply(matchId, { type: 'ended', workerId });
    this.forget(matchId);
    if (reason === 'over') log.info({ matchId, workerId, workerMatches: this.deps.workers.get(workerId)?.matches.size ?? 0 }, 'Match ended; slot freed');
    else log.warn({ matchId, workerId, reason }, 'Match taken over by another host; slot freed');
  }

  /** A match this pool created (at `epoch`, 1) or otherwise holds at a known epoch. */
  owns(matchId: string, epoch: number): void {
    this.expectedEpochs.set(matchId, epoch);
  }

  /**
   * A match of a dead host (or of this host before it restarted), seen in the directory at
   * `epoch`: claimed only if it is still at that epoch, then restored here like any other.
   */
  adopt(matchId: string, epoch: number): Promise<void> {
    this.expectedEpochs.set(matchId, epoch);
    this.deps.routes.apply(matchId, { type: 'recovered' });
    return this.restore(matchId);
  }

  /** The match ended or left the pool: its blame goes with it. */
  forget(matchId: string): void {
    this.blame.forget(matchId);
    this.expectedEpochs.delete(matchId);
  }

  /** Settles with the match restored (and, for a suspect, through probation), gone, or closed as poison. */
  async restore(matchId: string): Promise<void> {
    const { routes, log } = this.deps;
    for (let attempt = 1; attempt <= RESTORE_ATTEMPTS && !this.deps.isStopping(); attempt++) {
      const route = routes.get(matchId);
      if (!route) return this.forget(matchId);
      const score = this.blame.score(matchId, this.deps.clock());
      if (isPoison(score, this.deps.poisonLimit)) {
        return this.closePoison(matchId, `its workers died ${route.ownerDeaths} times; blame ${round(score)}`);
      }
      const outcome =
        this.blame.isSuspect(matchId)
          ? await this.asSuspect(async () => {
              const o = await this.attempt(matchId, attempt);
              if (typeof o === 'number') await this.probation(matchId, o);
              return o;
            })
          : await this.attempt(matchId, attempt);
      if (outcome !== 'retry') return;
      const delay = backoff(attempt, RETRY_BASE_MS, RETRY_MAX_MS);
      log.warn({ matchId, attempt, retryInMs: delay }, 'Match restore failed; retrying');
      await (this.deps.wait ?? sleep)(delay);
    }
    if (!this.deps.isStopping()) await this.closePoison(matchId, 'it could not be restored');
  }

  /** Runs `work` when every suspect before it has restored and served its probation. */
  private asSuspect<T>(work: () => Promise<T>): Promise<T> {
    const run = this.suspectQueue.then(work);
    this.suspectQueue = run.catch(() => {});
    return run;
  }

  /** One try: the worker it was restored on, `done` if there is nothing to restore, or `retry`. */
  private async attempt(matchId: string, attempt: number): Promise<number | 'done' | 'retry'> {
    const { routes, workers, directory, metrics, log } = this.deps;
    let slot: WorkerSlot | undefined;
    try {
      slot = await workers.reserve();
      const expected = this.expectedEpochs.get(matchId);
      const claimed = await directory.claim(matchId, expected);
      if (claimed) this.expectedEpochs.set(matchId, claimed.epoch);
      if (!claimed) {
        routes.apply(matchId, { type: 'vanished' });
        this.forget(matchId);
        log.info({ matchId }, 'Match to restore is no longer in the store');
        return 'done';
      }
      this.restoring.set(matchId, { workerId: slot.workerId, blamed: false });
      await slot.request({ type: 'restoreMatch', matchId, epoch: claimed.epoch, snapshot: claimed.snapshot, sinceWriteMs: claimed.sinceWriteMs });
      workers.host(slot, matchId);
      metrics.matchRestores.inc({ outcome: 'ok' });
      log.info({ matchId, workerId: slot.workerId, epoch: claimed.epoch, attempt }, 'Match restored on worker');
      routes.apply(matchId, { type: 'restored', workerId: slot.workerId, at: this.deps.clock() });
    } catch (err) {
      if (err instanceof StoreFencedError) {
        // Another host claimed it first: it is theirs, and upgrades for it go there.
        routes.apply(matchId, { type: 'vanished' });
        this.forget(matchId);
        metrics.matchRestores.inc({ outcome: 'taken' });
        log.info({ matchId }, 'Another host took the match over first');
        return 'done';
      }
      metrics.matchRestores.inc({ outcome: 'retry' });
      if (err instanceof IpcError && err.code === 'IPC_CLOSED') {
        // The worker died while restoring it: one more owner death, all of it this match's
        // (unless the worker's failure already counted it, in `ownerDied`).
        routes.apply(matchId, { type: 'diedRestoring' });
        if (!this.restoring.get(matchId)?.blamed) this.blame.add(matchId, 1, this.deps.clock());
      }
      log.warn({ matchId, attempt, err: (err as Error).message }, 'Match restore attempt failed');
      return 'retry';
    } finally {
      this.restoring.delete(matchId);
      if (slot) workers.release(slot);
    }
    return slot.workerId;
  }

  /** Waits PROBATION_MS, or less if the match leaves that worker (it died, or the match ended). */
  private async probation(matchId: string, workerId: number): Promise<void> {
    // Counted in polls, not read off the clock: a test's injected clock need not move.
    for (let i = 0; i < PROBATION_MS / PROBATION_POLL_MS; i++) {
      if (this.deps.isStopping() || this.deps.routes.get(matchId)?.workerId !== workerId) return;
      await (this.deps.wait ?? sleep)(PROBATION_POLL_MS);
    }
  }

  private async closePoison(matchId: string, why: string): Promise<void> {
    const { routes, directory, metrics, log } = this.deps;
    routes.apply(matchId, { type: 'closed', reason: POISON_REASON });
    this.forget(matchId);
    metrics.poisonMatches.inc();
    metrics.matchRestores.inc({ outcome: 'poison' });
    log.error({ matchId, why }, 'Closing poison match');
    try {
      const claimed = await directory.claim(matchId);
      if (claimed) await directory.remove(matchId, claimed.epoch);
    } catch (err) {
      log.warn({ matchId, err: (err as Error).message }, 'Could not remove a poison match from the store');
    }
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
