/** Per-address limits: keyed token buckets and counts, and whose address a request has. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { KeyedBuckets, KeyedCounts } from '../../src/limits/keyedBuckets';
import { clientAddress, compileTrust, isLoopback } from '../../src/http/clientAddress';

describe('KeyedBuckets', () => {
  it('gives each key its own burst, refilled at the rate', () => {
    const b = new KeyedBuckets(1, 3); // 1 per second, 3 at once
    for (let i = 0; i < 3; i++) expect(b.take('a', 0)).toBe(true);
    expect(b.take('a', 0)).toBe(false);
    expect(b.take('b', 0)).toBe(true); // another address is not affected
    expect(b.waitSec('a', 0)).toBe(1);
    expect(b.take('a', 999)).toBe(false);
    expect(b.take('a', 1000)).toBe(true);
  });

  it('never holds more than its burst, however long a key was idle', () => {
    const b = new KeyedBuckets(10, 2);
    expect(b.take('a', 0, 2)).toBe(true);
    expect(b.take('a', 3_600_000, 3)).toBe(false);
    expect(b.take('a', 3_600_000, 2)).toBe(true);
  });

  it('stays bounded when many addresses pass by', () => {
    const b = new KeyedBuckets(1, 1, 100);
    for (let i = 0; i < 1000; i++) b.take(`10.0.${i >> 8}.${i & 255}`, i);
    expect(b.size).toBeLessThanOrEqual(100);
  });

  it('sweeps only buckets that are full again while an address is still being limited', () => {
    const b = new KeyedBuckets(1 / 60, 1, 10); // one per minute
    for (let i = 0; i < 9; i++) b.take(`other${i}`, 0);
    expect(b.take('attacker', 50_000)).toBe(true);
    // The map is full; at 65 s the others' buckets are full again, the attacker's is not.
    b.take('newcomer', 65_000);
    expect(b.size).toBe(2);
    expect(b.take('attacker', 65_000)).toBe(false);
  });
});

describe('KeyedCounts', () => {
  it('caps each key separately and frees on remove', () => {
    const c = new KeyedCounts(2);
    expect(c.tryAdd('a')).toBe(true);
    expect(c.tryAdd('a')).toBe(true);
    expect(c.tryAdd('a')).toBe(false);
    expect(c.tryAdd('b')).toBe(true);
    c.remove('a');
    expect(c.count('a')).toBe(1);
    expect(c.tryAdd('a')).toBe(true);
    c.remove('b');
    c.remove('b'); // more removes than adds never go negative
    expect(c.count('b')).toBe(0);
    expect(c.keys).toBe(1);
  });
});

function req(remoteAddress: string, xff?: string): IncomingMessage {
  return { socket: { remoteAddress }, connection: { remoteAddress }, headers: xff ? { 'x-forwarded-for': xff } : {} } as unknown as IncomingMessage;
}

describe('clientAddress with TRUST_PROXY', () => {
  it.each([
    ['', '127.0.0.1', '203.0.113.7', '127.0.0.1'], // off: the peer, whatever the header says
    ['false', '198.51.100.2', '127.0.0.1', '198.51.100.2'], // a stranger cannot claim loopback
    ['loopback', '127.0.0.1', '203.0.113.7', '203.0.113.7'], // a proxy on this machine
    ['loopback', '198.51.100.2', '127.0.0.1', '198.51.100.2'], // not our proxy: header ignored
    ['loopback', '127.0.0.1', '203.0.113.9, 127.0.0.1', '203.0.113.9'],
    ['1', '10.1.2.3', '203.0.113.7, 198.51.100.5', '198.51.100.5'], // one hop trusted
    ['2', '10.1.2.3', '203.0.113.7, 198.51.100.5', '203.0.113.7'],
    ['10.0.0.0/8, loopback', '10.9.9.9', '203.0.113.7', '203.0.113.7'],
    ['true', '10.9.9.9', '203.0.113.7, 10.1.1.1', '203.0.113.7'],
    ['', '::ffff:127.0.0.1', undefined, '127.0.0.1'],
  ])('TRUST_PROXY=%j, peer %s, X-Forwarded-For %j → %s', (setting, peer, xff, expected) => {
    expect(clientAddress(req(peer, xff), compileTrust(setting))).toBe(expected);
  });

  it('refuses a TRUST_PROXY it cannot read', () => {
    expect(() => compileTrust('not-an-address')).toThrow();
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.3.2.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('203.0.113.7')).toBe(false);
  });
});
