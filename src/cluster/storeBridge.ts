/** The master's side of `IpcMatchStore`: runs a worker's store call on the master's store. */
import type { MatchStore } from '../store/store';
import type { StoreCall, StoreCallResult } from './ipc';

export function runStoreCall(store: MatchStore, call: StoreCall): Promise<StoreCallResult> {
  switch (call.op) {
    case 'create':
      return store.create(call.matchId, call.snapshot);
    case 'save':
      return store.save(call.matchId, call.epoch, call.snapshot);
    case 'load':
      return store.load(call.matchId);
    case 'saveResults':
      return store.saveResults(call.results);
    case 'remove':
      return store.remove(call.matchId, call.epoch);
    default: {
      const unreachable: never = call;
      return Promise.reject(new Error(`unknown store op ${JSON.stringify(unreachable)}`));
    }
  }
}
