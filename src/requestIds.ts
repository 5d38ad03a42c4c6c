/**
 * One id follows a match from its `POST /matches` to the log lines of the process that hosts
 * it. The id of the creating request is remembered per match, and a pino `mixin` adds it as
 * `reqId` to every log line whose fields name that `matchId`: the hosting code (MatchHost,
 * the gateway) logs `matchId` already and needs no change to carry it.
 */
export class MatchRequestIds {
  private readonly ids = new Map<string, string>();

  remember(matchId: string, requestId: string | undefined): void {
    if (requestId) this.ids.set(matchId, requestId);
  }

  forget(matchId: string): void {
    this.ids.delete(matchId);
  }

  get(matchId: string): string | undefined {
    return this.ids.get(matchId);
  }

  /** A pino `mixin`: `{reqId}` for a line about a remembered match, else nothing. */
  readonly mixin = (fields: object): Record<string, string> => {
    const matchId = 'matchId' in fields ? fields.matchId : undefined;
    const reqId = typeof matchId === 'string' ? this.ids.get(matchId) : undefined;
    return reqId ? { reqId } : {};
  };
}
