/**
 * `npm run bench`'s options: the defaults, and a floor sweep at a size of one's choosing
 * (`--floor-clients`), refused with a plain message when it cannot be rooms of 10.
 */
import { describe, expect, it } from 'vitest';
import { UsageError, parseBenchArgs } from '../../scripts/bench/args';

describe('npm run bench options', () => {
  it('walks the floor ladder by default, and measures exactly --floor-clients when given', () => {
    expect(parseBenchArgs([])).toMatchObject({ quick: false, reps: 3, floorClients: null });
    expect(parseBenchArgs(['--only', 'floor', '--floor-clients', '10000'])).toMatchObject({ only: ['floor'], floorClients: 10_000 });
    expect(parseBenchArgs(['--quick'])).toMatchObject({ quick: true, reps: 1 });
  });

  it('refuses a size that is not rooms of 10 within 10..20000, saying what it takes', () => {
    for (const bad of ['15', '0', '20010', 'many', '-10']) {
      expect(() => parseBenchArgs(['--floor-clients', bad])).toThrow(UsageError);
    }
    expect(() => parseBenchArgs(['--floor-clients', '15'])).toThrow(/multiple of 10 within 10\.\.20000/);
  });
});
