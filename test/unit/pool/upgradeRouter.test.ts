/** What the master does with an upgrade that passed the path and Origin checks. */
import { describe, expect, it } from 'vitest';
import type { Route } from '../../../src/pool/routeTable';
import { decideUpgrade, type UpgradeDecision } from '../../../src/pool/upgradeRouter';

const route = (state: Route['state']): Route => ({ matchId: 'ABCDEF', workerId: state === 'moving' ? null : 1, state, ownerDeaths: 0, restoredAt: null });

describe('decideUpgrade', () => {
  it.each<[string, Parameters<typeof decideUpgrade>[0], UpgradeDecision]>([
    ['closed for good: the master answers match_closed', { closed: true, route: undefined, mayHold: true, ownerResponsive: false }, 'closed'],
    ['unknown match: 404', { closed: false, route: undefined, mayHold: true, ownerResponsive: false }, 'not_found'],
    ['being created: waits', { closed: false, route: route('creating'), mayHold: true, ownerResponsive: true }, 'hold'],
    ['being restored: waits', { closed: false, route: route('moving'), mayHold: true, ownerResponsive: false }, 'hold'],
    ['being restored, no waiting (UPGRADE_HOLD_MS=0 or stopping): 503', { closed: false, route: route('moving'), mayHold: false, ownerResponsive: false }, 'moving'],
    ['active on a responsive owner: handed off', { closed: false, route: route('active'), mayHold: true, ownerResponsive: true }, 'hand_off'],
    ['active on an owner with a late heartbeat: 503, not queued behind it', { closed: false, route: route('active'), mayHold: true, ownerResponsive: false }, 'moving'],
  ])('%s', (_name, input, decision) => {
    expect(decideUpgrade(input)).toBe(decision);
  });
});
