/**
 * A worker's view of the embedded store: every call is a request to the master, on the
 * worker's store channel (cluster/storeBridge.ts), which runs it on the master's
 * `MemoryMatchStore`. Errors come back with their store codes, so fencing reads the same as
 * with Redis.
 */
import type { MatchSnapshot } from '../quiz/engine';
import { IpcError, type IpcRequester, type StoreCall, type StoreCallResult } from '../cluster/ipc';
import { type MatchResults, type MatchStore, StoreFencedError, type StoredMatch, StoreUnavailableError, stateOf } from './store';

export class IpcMatchStore implements MatchStore {
  constructor(private readonly requester: IpcRequester) {}

  private async call<T extends StoreCallResult>(call: StoreCall): Promise<T> {
    try {
      return await this.requester.request<T>({ type: 'store', call });
    } catch (err) {
      if (err instanceof IpcError && err.remoteCode === 'STORE_FENCED' && 'epoch' in call) {
        throw new StoreFencedError(call.matchId, call.epoch);
      }
      throw new StoreUnavailableError((err as Error).message);
    }
  }

  // The store channel serializes in send(), before the first await, as MatchStore requires.
  create(matchId: string, snapshot: Readonly<MatchSnapshot>): Promise<number> {
    return this.call<number>({ op: 'create', matchId, snapshot });
  }
  async save(matchId: string, epoch: number, snapshot: Readonly<MatchSnapshot>): Promise<void> {
    await this.call({ op: 'saveState', matchId, epoch, state: stateOf(snapshot) });
  }
  load(matchId: string): Promise<StoredMatch | null> {
    return this.call<StoredMatch | null>({ op: 'load', matchId });
  }
  async saveResults(results: MatchResults): Promise<void> {
    await this.call({ op: 'saveResults', results });
  }
  async remove(matchId: string, epoch: number): Promise<void> {
    await this.call({ op: 'remove', matchId, epoch });
  }

  // Only the master claims matches, reads results and lists live matches.
  claim(): Promise<StoredMatch | null> {
    return Promise.reject(new Error('claim is a master operation'));
  }
  results(): Promise<MatchResults | null> {
    return Promise.reject(new Error('results is a master operation'));
  }
  recentResults(): Promise<MatchResults[]> {
    return Promise.reject(new Error('recentResults is a master operation'));
  }
  liveMatchIds(): Promise<string[]> {
    return Promise.reject(new Error('liveMatchIds is a master operation'));
  }
  async close(): Promise<void> {}
}
