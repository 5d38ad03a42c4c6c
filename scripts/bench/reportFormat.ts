/**
 * Formatting and small statistics shared by the report's sections (report.ts, reportFloor.ts):
 * cells, tables, runs grouped by sweep/server/size, per-rep ratios.
 */
import type { SweepName } from './args';
import { type RunRecord, median, ratio } from './results';

export function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function num(v: number, digits = 0): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** "1.42" or, with several reps, "1.42 (1.30–1.61)". */
export function ratioCell(values: number[]): string {
  const ok = values.filter(Number.isFinite);
  if (ok.length === 0) return '–';
  const m = median(ok).toFixed(2);
  if (ok.length === 1) return m;
  return `${m} (${Math.min(...ok).toFixed(2)}–${Math.max(...ok).toFixed(2)})`;
}

export function table(head: string[], rows: string[][], align?: string[]): string {
  const sep = align ?? head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function envText(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([k]) => k !== 'MATCH_PORT' && k !== 'REDIS_URL')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Runs with the same server, size and sweep, one per rep. */
export function group(runs: RunRecord[], sweep: SweepName, server: string, matches: number): RunRecord[] {
  return runs.filter((r) => r.sweep === sweep && r.server === server && r.matches === matches && r.summary !== null);
}

export const med = (rs: RunRecord[], f: (r: RunRecord) => number) => median(rs.map(f));

/** Per-rep ratios a/b of `f` between two groups of runs. */
export function repRatios(a: RunRecord[], b: RunRecord[], f: (r: RunRecord) => number): number[] {
  const out: number[] = [];
  for (const ra of a) {
    const rb = b.find((x) => x.rep === ra.rep);
    if (rb) out.push(ratio(f(ra), f(rb)));
  }
  return out;
}

/** How busy the rest of the machine was during `runs` (other agents, cron…). */
export function otherCpuLine(runs: RunRecord[]): string {
  const v = runs.map((r) => r.otherCpuPct).filter(Number.isFinite);
  if (v.length === 0) return '';
  return (
    `CPU used by processes outside the benchmark during these runs (machine busy time − the benchmark's processes): ` +
    `median ${num(median(v))} %, max ${num(Math.max(...v))} % (100 = one core).`
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function incompleteMark(rs: RunRecord[]): string {
  const bad = rs.filter((r) => !r.complete).length;
  return bad > 0 ? ` ⚠${bad}` : '';
}
