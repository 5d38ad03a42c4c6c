/**
 * The slice of the wire contract (/work/shared/PROTOCOL.md, v1) the load tools read and
 * write. Kept separate from src/ on purpose: the tools must keep working against any
 * implementation of the contract (the real service or the bare `ws` floor server).
 */

export interface QuestionMsg {
  type: 'question';
  index: number;
  total: number;
  text: string;
  choices: string[];
  startsAt: number;
  endsAt: number;
}

export interface WelcomeMsg {
  type: 'welcome';
  you: { playerId?: string; name?: string; role: 'player' | 'host' };
  token: string;
  serverTime: number;
  state: {
    phase: string;
    question?: Omit<QuestionMsg, 'type'> | null;
    you?: { answer?: { questionIndex: number; choice: number } | null } | null;
    [key: string]: unknown;
  };
}

export interface AnswerAckMsg {
  type: 'answer_ack';
  questionIndex: number;
  choice: number;
}

export interface RevealMsg {
  type: 'reveal';
  questionIndex: number;
  correct: number;
  counts: number[];
  you?: { choice?: number; points: number; score: number; streak: number };
}

export interface ErrorMsg {
  type: 'error';
  code: string;
  message: string;
  ref?: string;
}

export interface FinishedMsg {
  type: 'finished';
  standings: Array<{ playerId: string; name: string; score: number; rank: number }>;
}

/** Any server message; narrow on `type` and cast to the interfaces above. */
export interface AnyServerMsg {
  type: string;
  [key: string]: unknown;
}

export type ClientMsg =
  | { type: 'join'; name: string }
  | { type: 'resume'; token: string }
  | { type: 'start' }
  | { type: 'next' }
  | { type: 'answer'; questionIndex: number; choice: number }
  | { type: 'ping'; t: number }
  | { type: 'leave' };

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
