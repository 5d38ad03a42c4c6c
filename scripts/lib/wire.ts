/**
 * The HTTP side of the wire contract (PROTOCOL.md, v1) as the tools and tests use it. The
 * WebSocket messages are src/protocol/messages.ts's types (imported for their types only, so
 * the tools still work against any implementation of the contract, such as the floor server).
 */

/** Inline quiz as `POST /matches` accepts it. */
export interface InlineQuiz {
  title: string;
  questions: Array<{ text: string; choices: string[]; correct: number; timeLimitSec: number }>;
}

export interface CreatedMatch {
  matchId: string;
  hostToken: string;
  wsPath: string;
  workerId?: number;
  joinUrl?: string;
}

export function isCreatedMatch(v: unknown): v is CreatedMatch {
  const o = v as Partial<CreatedMatch> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.matchId === 'string' &&
    typeof o.hostToken === 'string' &&
    typeof o.wsPath === 'string' &&
    o.wsPath.startsWith('/')
  );
}
