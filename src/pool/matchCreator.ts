/**
 * Creating a match on this pool's workers, or on another host when they are full: an id, the quiz-bytes budget, a place on a worker
 * (the placement policy, through `WorkerSet.reserve`), the worker's `createMatch`, and the
 * route that then leads upgrades to it. On failure everything reserved is given back.
 */
import type { Logger } from '../log';
import { newMatchId } from '../matchIds';
import { HttpError } from '../protocol/errors';
import type { MatchSettings } from '../quiz/engine';
import type { Quiz } from '../quiz/quizzes';
import type { CreatedMatch } from '../http/matchService';
import type { HostCluster } from '../hosts/hostCluster';
import { QUIZ_BUDGET_MESSAGE, type QuizBytes, quizBytes } from '../limits/quizBytes';
import type { Restorer } from './restorer';
import type { RouteTable } from './routeTable';
import type { WorkerSet, WorkerSlot } from './workerSet';

export interface MatchCreatorDeps {
  routes: RouteTable;
  workers: Pick<WorkerSet, 'reserve' | 'host' | 'release'>;
  restorer: Pick<Restorer, 'owns'>;
  /** MAX_QUIZ_BYTES_TOTAL over every match the pool holds (the master keeps each quiz too). */
  quizBytes: QuizBytes;
  /** This host's id and address, when there are several hosts. */
  ownerFields: () => { hostId?: string; hostUrl?: string };
  /** Several hosts: where a match goes when this pool is full (hosts/hostCluster.ts). */
  elsewhere?: Pick<HostCluster, 'placeElsewhere'>;
  log: Logger;
}

export class MatchCreator {
  constructor(private readonly deps: MatchCreatorDeps) {}

  /**
   * On this pool's workers while it has room (packing); when it is full, on another host with
   * room, unless a peer asked (`localOnly`).
   */
  async create(quiz: Quiz, settings: MatchSettings, requestId?: string, opts: { localOnly?: boolean } = {}): Promise<CreatedMatch> {
    try {
      return await this.createHere(quiz, settings, requestId);
    } catch (err) {
      const elsewhere = this.deps.elsewhere;
      if (!elsewhere || opts.localOnly || !(err instanceof HttpError) || err.kind !== 'CAPACITY') throw err;
      return elsewhere.placeElsewhere(quiz, settings, requestId);
    }
  }

  private async createHere(quiz: Quiz, settings: MatchSettings, requestId?: string): Promise<CreatedMatch> {
    const { routes, workers, restorer, quizBytes: budget, log } = this.deps;
    // Counted before a worker is reserved, so concurrent creates cannot overshoot the budget.
    const matchId = newMatchId((id) => routes.isTaken(id) || budget.has(id));
    if (!budget.tryAdd(matchId, quizBytes(quiz))) throw new HttpError('CAPACITY', QUIZ_BUDGET_MESSAGE);
    let slot: WorkerSlot;
    try {
      slot = await workers.reserve();
    } catch (err) {
      budget.release(matchId);
      throw err;
    }
    routes.apply(matchId, { type: 'creating', workerId: slot.workerId });
    try {
      const { hostToken } = await slot.request({ type: 'createMatch', matchId, quiz, settings, requestId });
      workers.host(slot, matchId);
      routes.apply(matchId, { type: 'created' });
      // MatchHostStore.create records a new match at epoch 1.
      restorer.owns(matchId, 1);
      log.info({ matchId, workerId: slot.workerId, workerMatches: slot.matches.size, reqId: requestId }, 'Match assigned to worker');
      return { matchId, hostToken, workerId: slot.workerId, ...this.deps.ownerFields() };
    } catch (err) {
      routes.apply(matchId, { type: 'createFailed' });
      log.warn({ matchId, workerId: slot.workerId, err: (err as Error).message, reqId: requestId }, 'Match creation failed');
      throw new HttpError('UNAVAILABLE', 'Could not create the match right now; try again.');
    } finally {
      workers.release(slot);
    }
  }
}
