/**
 * The connections of one hosted match: who holds which participant, and the connections that
 * have not joined (or have left) yet. The only place that ties a `Session` to a participant.
 */
import { CLOSE, CLOSE_REASONS } from '../protocol/errors';
import type { ParticipantId } from '../quiz/engine';

/** One client connection as the host sees it; the gateway adapts a `ws` socket to this. */
export interface ClientLink {
  /** A text frame; a Buffer is sent as text too (broadcasts encode once for all sockets). */
  send(data: string | Buffer): void;
  close(code: number, reason: string): void;
}

export class Session {
  participantId: ParticipantId | null = null;
  /**
   * Whether this participant's `welcome` has gone out. A `welcome` waits for the store like
   * everything else, while batches queued before the join are released to every bound
   * session: those would reach the client before the full state they update.
   */
  welcomed = false;
  constructor(
    readonly link: ClientLink,
    readonly matchId: string,
  ) {}
}

export class MatchSessions {
  /** Sessions holding a participant, the ones broadcasts go to. */
  readonly bound = new Map<ParticipantId, Session>();
  private readonly unbound = new Set<Session>();

  add(session: Session): void {
    this.unbound.add(session);
  }

  /** Ties `session` to participant `id`; a newer connection for the same token replaces the older one (PROTOCOL.md). */
  bind(session: Session, id: ParticipantId): void {
    const previous = this.bound.get(id);
    if (previous && previous !== session) {
      previous.participantId = null;
      previous.link.close(CLOSE.REPLACED, CLOSE_REASONS[CLOSE.REPLACED]);
    }
    this.unbound.delete(session);
    this.bound.set(id, session);
    session.participantId = id;
    session.welcomed = false;
  }

  /** The participant left but the connection stays open: it may join again. */
  unbind(session: Session): void {
    if (session.participantId !== null) this.bound.delete(session.participantId);
    session.participantId = null;
    this.unbound.add(session);
  }

  /**
   * The connection closed. Returns the participant it held, if it still held one (a replaced
   * session no longer does, and its close must not mark the participant dropped).
   */
  remove(session: Session): ParticipantId | null {
    this.unbound.delete(session);
    const id = session.participantId;
    if (id === null || this.bound.get(id) !== session) return null;
    this.bound.delete(id);
    session.participantId = null;
    return id;
  }

  /** Closes the participant's connection (kicked); the engine has already removed them. */
  drop(id: ParticipantId, code: number, reason: string): void {
    const session = this.bound.get(id);
    if (!session) return;
    this.bound.delete(id);
    session.participantId = null;
    session.link.close(code, reason);
  }

  closeAll(code: number, reason: string): void {
    for (const session of [...this.bound.values(), ...this.unbound]) {
      session.participantId = null;
      session.link.close(code, reason);
    }
    this.bound.clear();
    this.unbound.clear();
  }
}
