/** ConnectionCounts: MAX_CONNECTIONS_PER_IP's counting, shared by the single process and (later) the pool master. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConnectionCounts } from '../../src/limits/connectionCounts';

describe('ConnectionCounts', () => {
  it('admits up to the cap per address, independently of other addresses', () => {
    const c = new ConnectionCounts(2);
    expect(c.admit('a')).not.toBeNull();
    expect(c.admit('a')).not.toBeNull();
    expect(c.admit('a')).toBeNull();
    expect(c.admit('b')).not.toBeNull();
    expect(c.count('a')).toBe(2);
  });

  it('counts down once per release, however often it is called', () => {
    const c = new ConnectionCounts(1);
    const release = c.admit('a')!;
    release();
    release();
    expect(c.count('a')).toBe(0);
    expect(c.addresses).toBe(0);
    const again = c.admit('a');
    expect(again).not.toBeNull();
    release(); // a stale release must not free the new connection's place
    expect(c.admit('a')).toBeNull();
  });

  it('releases a socket’s place when it closes, and counts nothing when refused', () => {
    const c = new ConnectionCounts(1);
    const s1 = new EventEmitter();
    expect(c.admitSocket('a', s1)).toBe(true);
    const s2 = new EventEmitter();
    expect(c.admitSocket('a', s2)).toBe(false);
    s2.emit('close');
    expect(c.count('a')).toBe(1);
    s1.emit('close');
    expect(c.count('a')).toBe(0);
  });
});
