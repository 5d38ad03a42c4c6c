/** The route table's transitions, one row per (state, event), and what settles a match. */
import { describe, expect, it } from 'vitest';
import { nextRoute, type Route, type RouteEvent, RouteTable, type RouteOutcome } from '../../../src/pool/routeTable';

const ID = 'ABCDEF';
const route = (r: Partial<Route>): Route => ({ matchId: ID, workerId: 1, state: 'active', ownerDeaths: 0, restoredAt: null, ...r });
const creating = route({ state: 'creating' });
const active = route({ state: 'active', workerId: 2, ownerDeaths: 1, restoredAt: 500 });
const moving = route({ state: 'moving', workerId: null, ownerDeaths: 1 });
const kept = (r: Route | undefined): RouteOutcome => (r ? { kind: 'route', route: r } : { kind: 'none' });

const rows: Array<[string, Route | undefined, RouteEvent, RouteOutcome]> = [
  // placing a new match
  ['none + creating → creating on that worker', undefined, { type: 'creating', workerId: 3 }, kept(route({ workerId: 3, state: 'creating' }))],
  ['creating + created → active', creating, { type: 'created' }, kept({ ...creating, state: 'active' })],
  ['creating + createFailed → none', creating, { type: 'createFailed' }, { kind: 'none' }],
  ['active + creating → unchanged (the id is taken)', active, { type: 'creating', workerId: 3 }, kept(active)],
  ['active + created → unchanged', active, { type: 'created' }, kept(active)],
  ['active + createFailed → unchanged', active, { type: 'createFailed' }, kept(active)],
  // owners dying and matches coming back
  ['active + ownerDied → moving, no owner, deaths as counted', active, { type: 'ownerDied', ownerDeaths: 2 }, kept({ ...active, state: 'moving', workerId: null, ownerDeaths: 2 })],
  ['creating + ownerDied → unchanged (the create fails on its own)', creating, { type: 'ownerDied', ownerDeaths: 1 }, kept(creating)],
  ['moving + ownerDied → unchanged', moving, { type: 'ownerDied', ownerDeaths: 5 }, kept(moving)],
  ['moving + diedRestoring → one more death', moving, { type: 'diedRestoring' }, kept({ ...moving, ownerDeaths: 2 })],
  ['active + diedRestoring → unchanged', active, { type: 'diedRestoring' }, kept(active)],
  ['moving + restored → active on the new worker, restoredAt', moving, { type: 'restored', workerId: 4, at: 900 }, kept({ ...moving, state: 'active', workerId: 4, restoredAt: 900 })],
  ['active + restored → unchanged', active, { type: 'restored', workerId: 4, at: 900 }, kept(active)],
  ['none + recovered → moving without owner', undefined, { type: 'recovered' }, kept(route({ state: 'moving', workerId: null }))],
  ['active + recovered → unchanged', active, { type: 'recovered' }, kept(active)],
  ['moving + vanished → none', moving, { type: 'vanished' }, { kind: 'none' }],
  ['active + vanished → unchanged', active, { type: 'vanished' }, kept(active)],
  ['moving + closed → tombstone', moving, { type: 'closed', reason: 'poison' }, { kind: 'closed', reason: 'poison' }],
  ['active + closed → unchanged', active, { type: 'closed', reason: 'poison' }, kept(active)],
  // the end of a match
  ['active + ended by its owner → none', active, { type: 'ended', workerId: 2 }, { kind: 'none' }],
  ['active + ended by another worker → unchanged', active, { type: 'ended', workerId: 1 }, kept(active)],
  ['moving + ended → unchanged', moving, { type: 'ended', workerId: 2 }, kept(moving)],
  ['none + ended → none', undefined, { type: 'ended', workerId: 2 }, { kind: 'none' }],
  // moving to another host on purpose
  ['active + releasing by its owner → moving, no owner, deaths kept', active, { type: 'releasing', workerId: 2 }, kept({ ...active, state: 'moving', workerId: null })],
  ['active + releasing by another worker → unchanged', active, { type: 'releasing', workerId: 1 }, kept(active)],
  ['moving + releaseFailed → active on that worker again', moving, { type: 'releaseFailed', workerId: 2 }, kept({ ...moving, state: 'active', workerId: 2 })],
  ['active + releaseFailed → unchanged', active, { type: 'releaseFailed', workerId: 1 }, kept(active)],
  ['moving + movedAway → none', moving, { type: 'movedAway' }, { kind: 'none' }],
  ['active + movedAway → unchanged', active, { type: 'movedAway' }, kept(active)],
];

describe('nextRoute', () => {
  it.each(rows)('%s', (_name, before, event, outcome) => {
    expect(nextRoute(ID, before, event)).toEqual(outcome);
  });
});

describe('RouteTable', () => {
  function table() {
    let now = 1_000;
    const settled: string[] = [];
    const routes = new RouteTable({ clock: () => now, tombstoneTtlMs: 10_000, settled: (id) => settled.push(id) });
    return { routes, settled, advance: (ms: number) => (now += ms) };
  }

  it('says a match settled when it leaves creating or moving, and only then', () => {
    const { routes, settled } = table();
    routes.apply('A', { type: 'creating', workerId: 1 });
    expect(settled).toEqual([]);
    routes.apply('A', { type: 'created' });
    expect(settled).toEqual(['A']);
    routes.apply('A', { type: 'ownerDied', ownerDeaths: 1 });
    routes.apply('A', { type: 'diedRestoring' });
    expect(settled).toEqual(['A']);
    routes.apply('A', { type: 'restored', workerId: 2, at: 5 });
    routes.apply('A', { type: 'ended', workerId: 2 });
    routes.apply('B', { type: 'creating', workerId: 1 });
    routes.apply('B', { type: 'createFailed' });
    routes.apply('C', { type: 'recovered' });
    routes.apply('C', { type: 'vanished' });
    expect(settled).toEqual(['A', 'A', 'B', 'C']);
    expect(routes.size).toBe(0);
  });

  it('keeps a closed match as a tombstone that takes its id until it expires', () => {
    const { routes, settled, advance } = table();
    routes.apply('P', { type: 'recovered' });
    expect(routes.apply('P', { type: 'closed', reason: 'closed for good' })).toBeUndefined();
    expect(settled).toEqual(['P']);
    expect(routes.closedReason('P')).toBe('closed for good');
    expect(routes.isTaken('P')).toBe(true);
    expect(routes.size).toBe(0);
    advance(10_000);
    routes.expireTombstones();
    expect(routes.isTaken('P')).toBe(true);
    advance(1);
    routes.expireTombstones();
    expect(routes.isTaken('P')).toBe(false);
    expect(routes.closedReason('P')).toBeNull();
  });
});
