/**
 * MAX_CONNECTIONS_PER_IP on a real pool that trusts a proxy on loopback, so X-Forwarded-For
 * stands for many client addresses: the cap holds for one address (429 RATE_LIMITED on the
 * upgrade) while another connects and plays an honest match; closed sockets give the
 * address its room back (reported by the worker that held them); a killed worker's
 * sockets are released with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MatchSocket } from '../../scripts/lib/matchSocket';
import { fetchWorkerStats } from '../../scripts/lib/matchServiceApi';
import { eventually, ProcessGroup } from '../helpers/processes';
import { type RunningService, startMatchService } from '../helpers/servers';
import { createMatchFrom, from, playHonestMatch } from '../helpers/honestMatch';

const CAP = 4;
const group = new ProcessGroup();
let svc: RunningService;

beforeAll(async () => {
  svc = await startMatchService(group, 'pool', { TRUST_PROXY: 'loopback', MAX_CONNECTIONS_PER_IP: String(CAP), MAX_WORKERS: '2', MAX_MATCHES: '3' });
});
afterAll(() => group.stopAll());

async function lobby(addr: string): Promise<string> {
  const res = await createMatchFrom(svc, addr);
  expect(res.status).toBe(201);
  return svc.wsUrl + ((await res.json()) as { wsPath: string }).wsPath;
}

const connect = (url: string, addr: string) => MatchSocket.connect(url, { headers: from(addr) });

/** Connects until `n` sockets are open, retrying refusals while counts are being released. */
async function connectAll(url: string, addr: string, n: number): Promise<MatchSocket[]> {
  const open: MatchSocket[] = [];
  await eventually(
    async () => {
      while (open.length < n) open.push(await connect(url, addr));
      return true;
    },
    15_000,
    `${n} sockets from ${addr}`,
  );
  return open;
}

describe('connections per address on the pool', () => {
  it('caps one address with 429 while another plays; closing its sockets gives the room back', async () => {
    const url = await lobby('192.0.2.1');
    const attacker = '203.0.113.9';
    const sockets = await connectAll(url, attacker, CAP);
    const refused = await connect(url, attacker).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ status: 429 });
    // Still refused after a moment (nothing leaked the other way), and another address plays.
    await expect(connect(url, attacker)).rejects.toMatchObject({ status: 429 });
    await playHonestMatch(svc, '198.51.100');

    for (const s of sockets) s.close();
    const again = await connectAll(url, attacker, CAP);
    await expect(connect(url, attacker)).rejects.toMatchObject({ status: 429 });
    for (const s of again) s.close();
  });

  it('a killed worker releases the counts of the sockets it held', async () => {
    const url = await lobby('192.0.2.2');
    const matchId = url.split('/').at(-1)!.toUpperCase();
    const attacker = '203.0.113.10';
    await connectAll(url, attacker, CAP);
    await expect(connect(url, attacker)).rejects.toMatchObject({ status: 429 });
    const owner = (await fetchWorkerStats(svc.url)).workers.find((w) => w.matches.includes(matchId))!;
    process.kill(owner.pid, 'SIGKILL');
    // The match is restored on another worker; the address's full room is back.
    const after = await connectAll(url, attacker, CAP);
    await expect(connect(url, attacker)).rejects.toMatchObject({ status: 429 });
    for (const s of after) s.close();
    await playHonestMatch(svc, '198.51.101');
  });

  it('clients on the machine itself are not counted', async () => {
    const url = await lobby('192.0.2.3');
    const local = await Promise.all(Array.from({ length: CAP + 3 }, () => MatchSocket.connect(url)));
    for (const s of local) s.close();
  });
});
