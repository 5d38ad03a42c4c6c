/**
 * Who is in a match: joining with a name, resuming with a token, dropping, leaving, being
 * kicked, the host's lock, and whether anybody is there at all (an empty lobby closes).
 *
 * Seats: a lobby seat is held by a connection, or for the reconnect grace after it drops;
 * past that the seat is given back (`expireLobbySeats`), so join-then-disconnect sockets
 * cannot fill a lobby. Once the match runs, a player keeps its place in the standings.
 */
import { randomBytes } from 'node:crypto';
import { closeQuestionIfAllAnswered } from './phases';
import type { Attached, Done, Effect, Failure, MatchSnapshot, ParticipantId, PlayerRecord } from './state';
import { HOST_ID, fail, matchStatus } from './state';
import { nameKey, validName } from './names';
import { addPlayer, answerTally, connectedPlayers, findPlayer, nameTaken, nextGraceEnd, playerByToken, removePlayers, updatePlayer } from './rosterIndex';
import { rosterEffects } from './views';

export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** A lobby nobody is connected to starts its idle countdown now. */
function markIdleIfEmpty(s: MatchSnapshot, now: number): void {
  if (s.phase === 'lobby' && !s.hostConnected && connectedPlayers(s) === 0) s.idleSince = now;
}

function removePlayer(s: MatchSnapshot, id: string): void {
  removePlayers(s, (p) => p.id !== id);
}

export function join(s: MatchSnapshot, rawName: string, now: number): Attached | Failure {
  const name = validName(rawName);
  if (name === null) return fail('INVALID_NAME');
  if (matchStatus(s.phase) === 'finished') return fail('MATCH_STARTED');
  if (s.locked) return fail('LOBBY_LOCKED');
  if (s.phase !== 'lobby' && !s.settings.lateJoin) return fail('MATCH_STARTED');
  // Look-alikes collide ("Ａｎｎ" and "ann"), and a kicked player's name stays taken.
  const key = nameKey(name);
  if (nameTaken(s, key) || s.kickedNames?.includes(key)) return fail('NAME_TAKEN');
  if (s.players.length >= s.settings.maxPlayers) return fail('MATCH_FULL');

  const player: PlayerRecord = {
    id: `p${s.nextJoinOrder}`,
    name,
    token: newToken(),
    score: 0,
    streak: 0,
    joinOrder: s.nextJoinOrder,
    connected: true,
    droppedAt: null,
    left: false,
  };
  s.nextJoinOrder++;
  addPlayer(s, player, now);
  s.idleSince = null;
  s.revision++;
  return { ok: true, participantId: player.id, effects: rosterEffects(s) };
}

/** Re-attaches the player or host that `token` belongs to. */
export function resume(s: MatchSnapshot, token: string, now: number): Attached | Failure {
  if (token === s.hostToken) {
    s.hostConnected = true;
    s.idleSince = null;
    return { ok: true, participantId: HOST_ID, effects: [] };
  }
  const player = playerByToken(s, token);
  if (!player) return fail('TOKEN_INVALID');
  const wasPresent = player.connected && !player.left;
  const wasLeft = player.left;
  updatePlayer(s, player, { connected: true, droppedAt: null, left: false }, now);
  s.idleSince = null;
  if (wasLeft) s.revision++;
  const effects = wasPresent ? [] : rosterEffects(s);
  effects.push(...closeQuestionIfAllAnswered(s, now));
  return { ok: true, participantId: player.id, effects };
}

/** The participant's connection is gone (closed, replaced, or dead). */
export function disconnect(s: MatchSnapshot, id: ParticipantId, now: number): Effect[] {
  if (id === HOST_ID) {
    s.hostConnected = false;
  } else {
    const player = findPlayer(s, id);
    if (!player || !player.connected) return [];
    updatePlayer(s, player, { connected: false, droppedAt: now }, now);
  }
  markIdleIfEmpty(s, now);
  return id === HOST_ID ? [] : rosterEffects(s);
}

/**
 * The match came to a new host after its old one died: nobody's socket survived that, so
 * every player is dropped now and stays present for the reconnect grace (PROTOCOL.md: "right
 * after a match moves to another worker every player is present").
 */
export function dropEveryone(s: MatchSnapshot, now: number): void {
  for (const p of s.players) {
    if (!p.left) updatePlayer(s, p, { connected: false, droppedAt: now }, now);
  }
  s.hostConnected = false;
  if (s.phase === 'lobby') s.idleSince = now;
}

export function leave(s: MatchSnapshot, id: ParticipantId, now: number): Done | Failure {
  if (id === HOST_ID) return fail('NOT_JOINED');
  const player = findPlayer(s, id);
  if (!player) return fail('NOT_JOINED');
  if (s.phase === 'lobby') {
    removePlayer(s, id);
    markIdleIfEmpty(s, now);
  } else {
    // Keeps the player's score in the standings; a resume with the token brings them back.
    updatePlayer(s, player, { left: true, connected: false, droppedAt: null }, now);
  }
  s.revision++;
  return { ok: true, effects: [...rosterEffects(s), ...closeQuestionIfAllAnswered(s, now)] };
}

export function kick(s: MatchSnapshot, by: ParticipantId, playerId: string, now: number): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  const player = findPlayer(s, playerId);
  if (!player) return fail('BAD_MESSAGE');
  (s.kickedNames ??= []).push(nameKey(player.name));
  delete s.answers[playerId];
  removePlayer(s, playerId);
  markIdleIfEmpty(s, now);
  s.revision++;
  return {
    ok: true,
    effects: [
      { kind: 'send', to: playerId, msg: { type: 'kicked', reason: 'Removed by the host' } },
      { kind: 'drop', to: playerId, reason: 'kicked' },
      ...rosterEffects(s),
      ...closeQuestionIfAllAnswered(s, now),
    ],
  };
}

/**
 * Gives back the lobby seats of players dropped longer than the reconnect grace ago (their
 * token stops working: a later resume gets TOKEN_INVALID, and they may join again).
 */
export function expireLobbySeats(s: MatchSnapshot, now: number): Effect[] {
  if (s.phase !== 'lobby') return [];
  // Only when a seat is due (in a lobby, everyone not present is), not on every tick: the
  // filter walks the whole roster.
  if (answerTally(s, now).present === s.players.length) return [];
  const before = s.players.length;
  removePlayers(s, (p) => p.connected || p.droppedAt === null || now < p.droppedAt + s.timing.reconnectGraceMs);
  if (s.players.length === before) return [];
  s.revision++;
  return rosterEffects(s);
}

/** When the next lobby seat is given back (the earliest grace after `now` to run out), or null. */
export function nextSeatExpiry(s: MatchSnapshot, now: number): number | null {
  return s.phase === 'lobby' ? nextGraceEnd(s, now, false) : null;
}

export function lock(s: MatchSnapshot, by: ParticipantId, locked: boolean): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  if (s.locked === locked) return { ok: true, effects: [] };
  s.locked = locked;
  s.revision++;
  return { ok: true, effects: rosterEffects(s) };
}
