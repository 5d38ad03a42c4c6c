/** MAX_CONNECTIONS_PER_IP's bookkeeping on the master, with sockets that are only event emitters. */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MasterConnectionCounts } from '../../../src/pool/masterConnectionCounts';
import { ConnectionCloseReports } from '../../../src/cluster/connectionReports';
import { workerToMasterSchema, type WorkerToMaster } from '../../../src/cluster/messages';

const socket = () => new EventEmitter() as unknown as Duplex;
const close = (s: Duplex) => (s as unknown as EventEmitter).emit('close');

describe('MasterConnectionCounts', () => {
  it('caps an address while another still connects; a socket routed twice counts once', () => {
    const c = new MasterConnectionCounts(2);
    const a1 = socket();
    expect(c.open(a1, 'A')).toBe(true);
    expect(c.open(a1, 'A')).toBe(true); // a held upgrade routed again
    expect(c.open(socket(), 'A')).toBe(true);
    expect(c.open(socket(), 'A')).toBe(false);
    expect(c.open(socket(), 'B')).toBe(true);
    expect(c.count('A')).toBe(2);
  });

  it('held, refused or expired upgrades release when their socket closes in the master', () => {
    const c = new MasterConnectionCounts(1);
    const s = socket();
    c.open(s, 'A');
    close(s);
    expect(c.count('A')).toBe(0);
    expect(c.open(socket(), 'A')).toBe(true);
  });

  it('a handed-off socket is released by its worker\'s report, not by the master\'s copy closing', () => {
    const c = new MasterConnectionCounts(5);
    const s = socket();
    c.open(s, 'A');
    c.handedTo(s, 101);
    close(s); // the master's copy after the hand-off
    expect(c.count('A')).toBe(1);
    c.closedOn(202, ['A']); // another process cannot release it
    expect(c.count('A')).toBe(1);
    c.closedOn(101, ['A', 'A']); // nor can a report name more than was handed over
    expect(c.count('A')).toBe(0);
  });

  it('a worker process that exits releases every socket it held; a failed hand-off releases at once', () => {
    const c = new MasterConnectionCounts(5);
    for (let i = 0; i < 3; i++) {
      const s = socket();
      c.open(s, i < 2 ? 'A' : 'B');
      c.handedTo(s, 101);
    }
    const failed = socket();
    c.open(failed, 'A');
    c.handedTo(failed, 102);
    c.handOffFailed(failed);
    expect(c.count('A')).toBe(2);
    c.processExited(101);
    expect([c.count('A'), c.count('B')]).toEqual([0, 0]);
    c.closedOn(102, ['A']); // the worker got it after all and reports its close: nothing left to release
    expect(c.count('A')).toBe(0);
  });
});

describe('ConnectionCloseReports (worker side)', () => {
  it('batches closes into one schema-valid message per flush', async () => {
    const sent: WorkerToMaster[] = [];
    const reports = new ConnectionCloseReports((m) => sent.push(m) > 0);
    const sockets = [socket(), socket(), socket()];
    sockets.forEach((s, i) => reports.watch(s as never, i === 2 ? 'B' : 'A'));
    for (const s of sockets) close(s);
    expect(sent).toEqual([]);
    await new Promise((r) => setTimeout(r, 150));
    expect(sent).toEqual([{ type: 'connectionsClosed', addrs: ['A', 'A', 'B'] }]);
    expect(workerToMasterSchema.safeParse(sent[0]).success).toBe(true);
    reports.stop();
  });
});
