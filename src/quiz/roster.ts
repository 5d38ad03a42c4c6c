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
import { HOST_ID, connectedPlayers, fail, findPlayer, matchStatus } from './state';
import { nameKey, validName } from './names';
import { playersEffect } from './views';

export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** A lobby nobody is connected to starts its idle countdown now. */
function markIdleIfEmpty(s: MatchSnapshot, now: number): void {
  if (s.phase === 'lobby' && !s.hostConnected && connectedPlayers(s) === 0) s.idleSince = now;
}

function removePlayer(s: MatchSnapshot, id: string): void {
  s.players = s.players.filter((p) => p.id !== id);
}

export function join(s: MatchSnapshot, rawName: string): Attached | Failure {
  const name = validName(rawName);
  if (name === null) return fail('INVALID_NAME');
  if (matchStatus(s.phase) === 'finished') return fail('MATCH_STARTED');
  if (s.locked) return fail('LOBBY_LOCKED');
  if (s.phase !== 'lobby' && !s.settings.lateJoin) return fail('MATCH_STARTED');
  // Look-alikes collide ("Ａｎｎ" and "ann"), and a kicked player's name stays taken.
  const key = nameKey(name);
  if (s.players.some((p) => nameKey(p.name) === key) || s.kickedNames?.includes(key)) return fail('NAME_TAKEN');
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
  s.players.push(player);
  s.idleSince = null;
  s.revision++;
  return { ok: true, participantId: player.id, effects: [playersEffect(s)] };
}

/** Re-attaches the player or host that `token` belongs to. */
export function resume(s: MatchSnapshot, token: string, now: number): Attached | Failure {
  if (token === s.hostToken) {
    s.hostConnected = true;
    s.idleSince = null;
    return { ok: true, participantId: HOST_ID, effects: [] };
  }
  const player = s.players.find((p) => p.token === token);
  if (!player) return fail('TOKEN_INVALID');
  const wasPresent = player.connected && !player.left;
  player.connected = true;
  player.droppedAt = null;
  s.idleSince = null;
  if (player.left) {
    player.left = false;
    s.revision++;
  }
  const effects = wasPresent ? [] : [playersEffect(s)];
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
    player.connected = false;
    player.droppedAt = now;
  }
  markIdleIfEmpty(s, now);
  return id === HOST_ID ? [] : [playersEffect(s)];
}

/**
 * The match came to a new host after its old one died: nobody's socket survived that, so
 * every player is dropped now and stays present for the reconnect grace (PROTOCOL.md: "right
 * after a match moves to another worker every player is present").
 */
export function dropEveryone(s: MatchSnapshot, now: number): void {
  for (const p of s.players) {
    if (p.left) continue;
    p.connected = false;
    p.droppedAt = now;
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
    player.left = true;
    player.connected = false;
    player.droppedAt = null;
  }
  s.revision++;
  return { ok: true, effects: [playersEffect(s), ...closeQuestionIfAllAnswered(s, now)] };
}

export function kick(s: MatchSnapshot, by: ParticipantId, playerId: string, now: number): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  const player = findPlayer(s, playerId);
  if (!player) return fail('BAD_MESSAGE');
  (s.kickedNames ??= []).push(nameKey(player.name));
  removePlayer(s, playerId);
  delete s.answers[playerId];
  markIdleIfEmpty(s, now);
  s.revision++;
  return {
    ok: true,
    effects: [
      { kind: 'send', to: playerId, msg: { type: 'kicked', reason: 'Removed by the host' } },
      { kind: 'drop', to: playerId, reason: 'kicked' },
      playersEffect(s),
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
  const before = s.players.length;
  s.players = s.players.filter((p) => p.connected || p.droppedAt === null || now < p.droppedAt + s.timing.reconnectGraceMs);
  if (s.players.length === before) return [];
  s.revision++;
  return [playersEffect(s)];
}

/** When the next lobby seat is given back (the earliest grace after `now` to run out), or null. */
export function nextSeatExpiry(s: MatchSnapshot, now: number): number | null {
  if (s.phase !== 'lobby') return null;
  let next: number | null = null;
  for (const p of s.players) {
    if (p.connected || p.droppedAt === null) continue;
    const expiry = p.droppedAt + s.timing.reconnectGraceMs;
    if (expiry > now && (next === null || expiry < next)) next = expiry;
  }
  return next;
}

export function lock(s: MatchSnapshot, by: ParticipantId, locked: boolean): Done | Failure {
  if (by !== HOST_ID) return fail('NOT_HOST');
  if (s.locked === locked) return { ok: true, effects: [] };
  s.locked = locked;
  s.revision++;
  return { ok: true, effects: [playersEffect(s)] };
}
