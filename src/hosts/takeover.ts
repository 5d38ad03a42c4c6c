/**
 * Which matches a host takes over, decided purely from what the directory says (hostCluster.ts
 * carries it out). A match is an orphan when its owner's lease is gone; at start-up, also when
 * its owner is this host's previous incarnation (the process restarted: HOST_ID is the same)
 * or it has no owner recorded (written before hosts had ids). A match this host already has in
 * its route table is never an orphan: it is running here or being restored here.
 *
 * Several hosts see the same orphans at about the same time. Each takes at most the room it
 * has, and each goes through them in an order of its own (a hash of the match id and the host
 * id), so they tend to pick different matches first; the epoch-checked claim settles any
 * match two of them still pick (exactly one wins, the other lets it go).
 */
import type { MatchOwner } from '../store/redisStore';

export interface Orphan {
  matchId: string;
  /** The epoch the directory showed: the claim succeeds only if it is still that. */
  epoch: number;
  /** The host it belonged to (null: none recorded). */
  from: string | null;
}

export interface TakeoverView {
  self: string;
  /** Hosts whose lease is gone. */
  dead: ReadonlySet<string>;
  /** Start-up: this host's own earlier matches and ownerless ones are orphans too. */
  includeOwn: boolean;
  /** Whether this host's route table already has the match. */
  isLocal: (matchId: string) => boolean;
  /** How many more matches this host can hold now. */
  room: number;
}

export function orphansToTake(owners: ReadonlyArray<MatchOwner | null>, view: TakeoverView): Orphan[] {
  const orphans = owners.filter((o): o is MatchOwner => {
    if (!o || view.isLocal(o.matchId)) return false;
    if (o.host === null || o.host === view.self) return view.includeOwn;
    return view.dead.has(o.host);
  });
  return orphans
    .map((o) => ({ o, rank: fnv1a(`${o.matchId}@${view.self}`) }))
    .sort((a, b) => a.rank - b.rank)
    .slice(0, Math.max(0, view.room))
    .map(({ o }) => ({ matchId: o.matchId, epoch: o.epoch, from: o.host }));
}

/** 32-bit FNV-1a: a cheap, stable spread, not a security measure. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
