/** Messages between the master and its workers are parsed at the boundary: a malformed one is refused, never acted on. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Match } from '../../src/quiz/engine';
import { MemoryMatchStore } from '../../src/store/memoryStore';
import { IpcError, IpcRequester } from '../../src/cluster/ipc';
import { masterReplySchemas, masterToWorkerSchema, workerToMasterSchema } from '../../src/cluster/messages';
import { serveStorePipe, storeCallSchema } from '../../src/cluster/storePipe';
import { quietLog } from './pool/fakes';

const TIMING = { questionScale: 1, revealMs: 1000, leaderboardMs: 1000, reconnectGraceMs: 1000, finishGraceMs: 1000, lobbyIdleMs: 60_000 };
const QUIZ = { title: 'Q', questions: [{ text: 'One?', choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] };
const snapshot = () => Match.create({ id: 'ABCDEF', quiz: QUIZ, settings: { lateJoin: false, maxPlayers: 10 }, timing: TIMING, now: 0 }).snapshot();

describe('cluster channel schemas', () => {
  it('take every message the master sends, and refuse what is broken', () => {
    const good = [
      { type: 'createMatch', reqId: 1, matchId: 'ABCDEF', quiz: QUIZ, settings: { lateJoin: true, maxPlayers: 5, hostName: 'Q' } },
      { type: 'restoreMatch', reqId: 2, matchId: 'ABCDEF', epoch: 2, snapshot: snapshot() },
      { type: 'matchInfo', reqId: 3, matchId: 'ABCDEF' },
      { type: 'metrics', reqId: 4 },
      { type: 'upgrade', matchId: 'ABCDEF', request: { method: 'GET', url: '/ws/matches/ABCDEF', headers: { host: 'x', 'set-cookie': ['a'] } }, head: '' },
      { type: 'shutdown' },
    ];
    for (const msg of good) expect(masterToWorkerSchema.safeParse(msg).success, JSON.stringify(msg).slice(0, 60)).toBe(true);
    const bad = [
      null,
      { type: 'restoreMatch', reqId: 2, matchId: 'ABCDEF', epoch: 2 }, // no snapshot
      { type: 'restoreMatch', reqId: 2, matchId: 'ABCDEF', epoch: 0, snapshot: snapshot() },
      { type: 'restoreMatch', reqId: 2, matchId: 'ABCDEF', epoch: 2, snapshot: { ...snapshot(), players: 'none' } },
      { type: 'createMatch', reqId: 1, matchId: 'ABCDEF', quiz: { title: 'Q', questions: [] }, settings: { lateJoin: true, maxPlayers: 5 } },
      { type: 'matchInfo', matchId: 'ABCDEF' }, // no reqId
      { type: 'upgrade', matchId: 'ABCDEF', request: { method: 'GET', url: '/' }, head: '' },
      { type: 'launch' },
    ];
    for (const msg of bad) expect(masterToWorkerSchema.safeParse(msg).success, JSON.stringify(msg)?.slice(0, 80)).toBe(false);
  });

  it('keep a snapshot field they do not know instead of stripping it', () => {
    const parsed = masterToWorkerSchema.parse({ type: 'restoreMatch', reqId: 2, matchId: 'ABCDEF', epoch: 2, snapshot: { ...snapshot(), futureField: 7 } });
    expect(parsed).toMatchObject({ snapshot: { futureField: 7 } });
  });

  it('take what workers send, and refuse what is broken', () => {
    for (const msg of [{ type: 'ready' }, { type: 'heartbeat', players: 3 }, { type: 'matchGone', matchId: 'A', reason: 'over' }, { type: 'reply', reqId: 1, ok: true, value: null }, { type: 'reply', reqId: 1, ok: false, error: { code: 'X', message: 'y' } }]) {
      expect(workerToMasterSchema.safeParse(msg).success).toBe(true);
    }
    for (const msg of [{ type: 'heartbeat', players: 1.5 }, { type: 'matchGone', matchId: 'A' }, { type: 'reply', reqId: 1, ok: false }, { type: 'reply', ok: true, value: 1 }]) {
      expect(workerToMasterSchema.safeParse(msg).success).toBe(false);
    }
  });
});

describe('IpcRequester', () => {
  it('rejects a reply whose value is not what the request answers, as BAD_REPLY', async () => {
    const requester = new IpcRequester(() => true, 1000);
    const asked = requester.request({ type: 'createMatch' }, masterReplySchemas.createMatch);
    requester.settle({ type: 'reply', reqId: 1, ok: true, value: { token: 'no hostToken here' } });
    await expect(asked).rejects.toMatchObject({ code: 'BAD_REPLY' });
    const again = requester.request({ type: 'createMatch' }, masterReplySchemas.createMatch);
    requester.settle({ type: 'reply', reqId: 2, ok: true, value: { hostToken: 'h' } });
    await expect(again).resolves.toEqual({ hostToken: 'h' });
    await expect(requester.request({}, masterReplySchemas.restoreMatch, 10)).rejects.toBeInstanceOf(IpcError);
  });
});

describe('the store pipe', () => {
  const open: net.Socket[] = [];
  afterEach(() => open.splice(0).forEach((s) => s.destroy()));

  async function pipe(): Promise<{ client: net.Socket; closed: string[]; lines: () => Promise<unknown> }> {
    const listener = net.createServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
    const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
    const server = await accepted;
    listener.close();
    open.push(client, server);
    const closed: string[] = [];
    serveStorePipe(server, new MemoryMatchStore(), quietLog, (reason) => closed.push(reason));
    let buffered = '';
    const waiting: Array<(v: unknown) => void> = [];
    client.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        waiting.shift()?.(JSON.parse(line));
      }
    });
    return { client, closed, lines: () => new Promise((r) => waiting.push(r)) };
  }

  it('ignores a malformed call (its sender times out) and still answers the next one', async () => {
    const { client, closed, lines } = await pipe();
    client.write(`${JSON.stringify({ type: 'store', reqId: 1, call: { op: 'saveState', matchId: 'ABCDEF', epoch: 1 } })}\n`);
    client.write(`${JSON.stringify({ type: 'store', reqId: 2, call: { op: 'create', matchId: 'ABCDEF', snapshot: snapshot() } })}\n`);
    expect(await lines()).toEqual({ type: 'reply', reqId: 2, ok: true, value: 1 });
    expect(closed).toEqual([]);
  });

  it('drops the pipe, not the process, on a line that is not JSON', async () => {
    const { client, closed } = await pipe();
    client.write('{not json\n');
    await new Promise((r) => client.once('close', r));
    expect(closed).toEqual(['a message that is not JSON']);
  });

  it('has a schema that refuses what a host never sends', () => {
    expect(storeCallSchema.safeParse({ op: 'claim', matchId: 'ABCDEF' }).success).toBe(false);
    expect(storeCallSchema.safeParse({ op: 'load', matchId: 'ABCDEF' }).success).toBe(false);
    expect(storeCallSchema.safeParse({ op: 'remove', matchId: 'ABCDEF', epoch: 1 }).success).toBe(true);
  });
});
