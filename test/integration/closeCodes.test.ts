/**
 * The service's own close codes (docs/PROTOCOL.md "Close codes"), on real servers of both
 * architectures: clients (the page among them) switch on these codes, not on reason text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE, CLOSE_REASONS } from '../../src/protocol/errors';
import { eventually, ProcessGroup } from '../helpers/processes';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { connectHost, createMatch, joinPlayers, type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';

describe.each(['single', 'pool'] as const)('close codes (%s)', (mode) => {
  const group = new ProcessGroup();
  let service: RunningService;

  beforeAll(async () => {
    // A finished match closes its sockets 3 s after the podium (60 s × 0.05). An empty lobby
    // closes after 5 s: short for the last test, long enough for the others to get in first.
    service = await startMatchService(group, mode, { MAX_WORKERS: '1', LOBBY_IDLE_TIMEOUT_MS: '5000' });
  });
  afterAll(() => group.stopAll());

  it('4000 to a connection that a newer one for the same token replaced', async () => {
    const match = await createMatch(service);
    const [first] = await joinPlayers(service, match, ['Twice']);
    const second = await MatchSocket.connect(service.wsUrl + match.wsPath);
    second.send({ type: 'resume', token: first!.all('welcome')[0]!.token });
    await second.next('welcome');
    expect(await first!.closed).toEqual({ code: CLOSE.REPLACED, reason: CLOSE_REASONS[CLOSE.REPLACED] });
    second.close();
  });

  it('4003 to a kicked player, after its `kicked` message', async () => {
    const match = await createMatch(service);
    const host = await connectHost(service, match);
    const [gone] = await joinPlayers(service, match, ['Gone']);
    host.send({ type: 'kick', playerId: gone!.all('welcome')[0]!.you.playerId! });
    await gone!.next('kicked');
    expect((await gone!.closed).code).toBe(CLOSE.KICKED);
    host.close();
  });

  it('4001 to everyone still connected when a finished match leaves', async () => {
    const match = await createMatch(service, { quiz: tinyQuiz(1, 5) });
    const host = await connectHost(service, match);
    const [ada] = await joinPlayers(service, match, ['Ada']);
    host.send({ type: 'start' });
    const q = await ada!.next('question');
    ada!.send({ type: 'answer', questionIndex: q.index, choice: 0 });
    await ada!.next('finished', () => true, 30_000);
    const [adaClosed, hostClosed] = await Promise.all([ada!.closed, host.closed]);
    expect(adaClosed).toEqual({ code: CLOSE.MATCH_FINISHED, reason: CLOSE_REASONS[CLOSE.MATCH_FINISHED] });
    expect(hostClosed.code).toBe(CLOSE.MATCH_FINISHED);
  });

  it('a lobby closed for being empty answers a later connect 404 (nobody was there to close)', async () => {
    const match = await createMatch(service);
    // Nobody connects: the lobby is empty from the start and closes after LOBBY_IDLE_TIMEOUT_MS.
    await eventually(async () => ((await fetch(`${service.url}/matches/${match.matchId}`)).status === 404 ? true : undefined), 30_000, 'lobby closed');
    await expect(MatchSocket.connect(service.wsUrl + match.wsPath)).rejects.toMatchObject({ status: 404 });
  });
});
