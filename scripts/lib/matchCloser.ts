/**
 * Ends the matches a load run created, so none outlives the run however it stops.
 *
 * PROTOCOL.md gives a host no message that closes a match, and disconnecting everybody does
 * not free its slot soon: an empty lobby is closed only after LOBBY_IDLE_TIMEOUT_MS (10 min).
 * What frees the slot is the match's end, so the host plays it to the end at once: `start`
 * if it is still a lobby, then `next` ("ends the current phase early") at every phase until
 * `finished`. The finished match then leaves after FINISH_GRACE_MS, as any other does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MatchClient } from './matchClient';
import { fetchMatchStatus } from './matchServiceApi';
import { LoadStats } from './stats';
import { Semaphore } from './util';
import type { CreatedMatch } from './wire';

export interface EndedMatches {
  /** Played to the end now. */
  ended: string[];
  /** Finished (or gone) already. */
  alreadyOver: string[];
  failed: Array<{ matchId: string; why: string }>;
}

/** Stays under the service's message rate limit (MSG_RATE_PER_SEC, 20 by default). */
const NEXT_SPACING_MS = 75;
const RATE_LIMITED_PAUSE_MS = 1000;
/** Phases (and the messages that begin them) a `next` ends. */
const PHASES_TO_SKIP: ReadonlySet<string> = new Set(['question', 'reveal', 'leaderboard']);

/** Plays one match to `finished` as its host; resolves with why not, or null once finished. */
async function playToEnd(match: CreatedMatch, wsBase: string, timeoutMs: number): Promise<string | null> {
  let lastSent = 0;
  let timer: NodeJS.Timeout | null = null;
  const sendLater = (client: MatchClient, msg: { type: 'start' } | { type: 'next' }, pauseMs = 0) => {
    if (timer) clearTimeout(timer);
    const wait = Math.max(pauseMs, lastSent + NEXT_SPACING_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      lastSent = Date.now();
      client.send(msg);
    }, wait);
  };
  let settle!: () => void;
  const over = new Promise<void>((resolve) => (settle = resolve));
  const host = new MatchClient({
    url: `${wsBase}${match.wsPath}`,
    hello: { type: 'resume', token: match.hostToken },
    role: 'host',
    // Its traffic is not the run's: it must not change the figures the run reports.
    stats: new LoadStats(),
    events: {
      welcome: (c, msg) => {
        if (msg.state.phase === 'lobby') sendLater(c, { type: 'start' });
        else if (PHASES_TO_SKIP.has(msg.state.phase)) sendLater(c, { type: 'next' });
      },
      message: (c, msg) => {
        if (PHASES_TO_SKIP.has(msg.type)) sendLater(c, { type: 'next' });
        else if (msg.type === 'error' && msg.code === 'RATE_LIMITED') sendLater(c, { type: 'next' }, RATE_LIMITED_PAUSE_MS);
      },
      done: () => settle(),
    },
  });
  const connecting = host.connect();
  const inTime = await Promise.race([over.then(() => true), sleep(timeoutMs).then(() => false)]);
  if (timer) clearTimeout(timer);
  await host.stop();
  await connecting;
  if (host.finished) return null;
  return inTime ? (host.closedReason ?? host.endReason ?? 'ended') : `not finished within ${timeoutMs / 1000} s`;
}

/**
 * Ends every match of `matches` that is not over yet (at most 50 at once), within about
 * `timeoutMs`. `knownOver` lists matches the caller saw finish, which need no request.
 */
export async function endMatches(
  matches: CreatedMatch[],
  o: { httpBase: string; wsBase: string; knownOver?: ReadonlySet<string>; timeoutMs?: number },
): Promise<EndedMatches> {
  const result: EndedMatches = { ended: [], alreadyOver: [], failed: [] };
  const timeoutMs = o.timeoutMs ?? 20_000;
  const limiter = new Semaphore(50);
  const status = async (id: string) => fetchMatchStatus(o.httpBase, id).catch((err: unknown) => `unknown (${(err as Error).message})`);
  await Promise.all(
    matches.map((m) =>
      limiter.run(async () => {
        if (o.knownOver?.has(m.matchId)) return void result.alreadyOver.push(m.matchId);
        const before = await status(m.matchId);
        if (before === 'finished' || before === 'gone') return void result.alreadyOver.push(m.matchId);
        const why = await playToEnd(m, o.wsBase, timeoutMs);
        if (why === null) return void result.ended.push(m.matchId);
        // It may have ended meanwhile by itself.
        const after = await status(m.matchId);
        if (after === 'finished' || after === 'gone') result.alreadyOver.push(m.matchId);
        else result.failed.push({ matchId: m.matchId, why: `${why}; status ${after}` });
      }),
    ),
  );
  return result;
}
