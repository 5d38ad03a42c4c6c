/** Upgrades waiting for a moving match, on real loopback sockets. */
import { IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type HeldUpgrade, HeldUpgrades } from '../../../src/pool/heldUpgrades';
import { setTimeout as sleep } from 'node:timers/promises';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A connected pair: `server` is what the master holds, `client` the player's end. */
async function socketPair(): Promise<{ server: net.Socket; client: net.Socket }> {
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect(port, '127.0.0.1');
  const server = await accepted;
  // Like a socket after Node's HTTP server emitted 'upgrade': nobody reads it.
  server.pause();
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { server, client };
}

function upgradeOf(socket: net.Socket, head = Buffer.alloc(0)): HeldUpgrade {
  return { req: new IncomingMessage(socket), socket, head };
}

describe('HeldUpgrades', () => {
  it('gives back what waited for a match once it settles, with bytes that arrived meanwhile after head', async () => {
    const expired: string[] = [];
    const held = new HeldUpgrades({ maxWaitMs: 5000, maxPerMatch: 10, expired: (id) => expired.push(id) });
    const a = await socketPair();
    const b = await socketPair();
    expect(held.hold('AAAAAA', upgradeOf(a.server, Buffer.from('head')))).toBe(true);
    expect(held.hold('BBBBBB', upgradeOf(b.server))).toBe(true);
    a.client.write('-early frame');
    await sleep(50);

    const released = held.release('AAAAAA');
    expect(released).toHaveLength(1);
    expect(released[0]!.socket).toBe(a.server);
    expect(released[0]!.head.toString()).toBe('head-early frame');
    expect(held.release('AAAAAA')).toEqual([]);
    expect(held.size).toBe(1);
    expect(expired).toEqual([]);
  });

  it('hands a socket to expired() once it has waited maxWaitMs, and never twice', async () => {
    const expired: Array<[string, net.Socket]> = [];
    const held = new HeldUpgrades({ maxWaitMs: 30, maxPerMatch: 10, expired: (id, u) => expired.push([id, u.socket as net.Socket]) });
    const a = await socketPair();
    held.hold('AAAAAA', upgradeOf(a.server));
    await sleep(120);
    expect(expired).toEqual([['AAAAAA', a.server]]);
    expect(held.size).toBe(0);
    expect(held.release('AAAAAA')).toEqual([]);
  });

  it('refuses more than maxPerMatch for one match, not for another', async () => {
    const held = new HeldUpgrades({ maxWaitMs: 5000, maxPerMatch: 2, expired: () => {} });
    const socks = await Promise.all([socketPair(), socketPair(), socketPair(), socketPair()]);
    expect(socks.slice(0, 3).map((s) => held.hold('AAAAAA', upgradeOf(s.server)))).toEqual([true, true, false]);
    expect(held.hold('BBBBBB', upgradeOf(socks[3]!.server))).toBe(true);
    expect(held.release('AAAAAA')).toHaveLength(2);
  });

  it('frees the place of a client that resets while it waits, without calling expired()', async () => {
    const expired: string[] = [];
    const held = new HeldUpgrades({ maxWaitMs: 100, maxPerMatch: 1, expired: (id) => expired.push(id) });
    const a = await socketPair();
    a.server.on('error', () => {}); // as guardUpgradeSocket does in the master
    expect(held.hold('AAAAAA', upgradeOf(a.server))).toBe(true);
    a.client.resetAndDestroy();
    await sleep(50);
    expect(held.size).toBe(0);
    const b = await socketPair();
    expect(held.hold('AAAAAA', upgradeOf(b.server))).toBe(true);
    await sleep(200);
    expect(expired).toEqual(['AAAAAA']);
  });

  it('skips sockets that were destroyed while they waited, and drops everything on shutdown', async () => {
    const held = new HeldUpgrades({ maxWaitMs: 5000, maxPerMatch: 10, expired: () => {} });
    const a = await socketPair();
    const b = await socketPair();
    held.hold('AAAAAA', upgradeOf(a.server));
    held.hold('AAAAAA', upgradeOf(b.server));
    a.server.destroy();
    expect(held.release('AAAAAA').map((u) => u.socket)).toEqual([b.server]);

    const c = await socketPair();
    held.hold('CCCCCC', upgradeOf(c.server));
    held.dropAll();
    expect(c.server.destroyed).toBe(true);
    expect(held.size).toBe(0);
  });
});
