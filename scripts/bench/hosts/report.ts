/** What `npm run bench:hosts` prints (two tables) and writes (<out>/hosts.json). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from '../machine';
import { ms, table } from '../reportFormat';
import { percentile } from '../results';
import type { HostsOptions } from './args';
import { DEATH, type DeathRun } from './death';
import { type RelayResult, VIAS, ratioText } from './relay';

export interface HostsResults {
  machine: MachineInfo;
  options: Omit<HostsOptions, 'outDir' | 'argv'>;
  relay: RelayResult | null;
  death: DeathRun[];
  /** Parts that stopped, runs that did not complete. */
  notes: string[];
  totalMs: number;
}

export const RELAY_TITLE = 'Several hosts: relayed vs direct';
export const DEATH_TITLE = "Several hosts: a host's death";

const DEATH_LABEL: Record<DeathRun['via'], string> = {
  relayed: 'through B (relayed to A)',
  direct: 'on A, failing over to B',
};

function relayText(r: RelayResult): string {
  const s = r.settings as { players: number; rounds: number; questions: number; connectConcurrency: number; answerTime: string };
  const rows = VIAS.map((via) => {
    const p = r.pooled[via];
    const runs = r.runs.filter((x) => x.via === via);
    const bad = runs.filter((x) => !x.complete).length;
    const acks = runs.reduce((n, x) => n + x.answersAcked, 0);
    const sent = runs.reduce((n, x) => n + x.answersSent, 0);
    const other = runs.map((x) => x.otherCpuPct).filter(Number.isFinite);
    return [
      via + (bad > 0 ? ` ⚠ ${bad} incomplete` : ''),
      String(p.runs),
      String(p.players),
      ms(p.upgradeToWelcomeMs.p50),
      ms(p.upgradeToWelcomeMs.p99),
      ms(p.handshakeMs.p50),
      ms(p.ackMs.p50),
      ms(p.ackMs.p99),
      `${acks}/${sent}`,
      other.length > 0 ? `${Math.min(...other).toFixed(0)}–${Math.max(...other).toFixed(0)}` : '–',
    ];
  });
  return [
    `## ${RELAY_TITLE}`,
    '',
    `Matches created on A; ${s.players} players each, connected to A (direct) or to B (relayed), ${s.rounds} round(s) of one`,
    `match each way (order alternating), ${s.questions} question(s), answers ${s.answerTime} ms, ${s.connectConcurrency} players connecting at once.`,
    'Figures pool every run of a configuration. upgrade→welcome = connect begins → `welcome`; upgrade = TCP + HTTP upgrade only.',
    '',
    table(
      ['players connect', 'runs', 'players', 'upgrade→welcome p50 ms', 'upgrade→welcome p99 ms', 'upgrade p50 ms', 'answer→ack p50 ms', 'answer→ack p99 ms', 'acked/sent', 'other CPU % (runs)'],
      rows,
    ),
    '',
    `relayed / direct: upgrade→welcome p50 ${ratioText(r.ratios.connectP50)}, p99 ${ratioText(r.ratios.connectP99)};`,
    `answer→ack p50 ${ratioText(r.ratios.ackP50)}, p99 ${ratioText(r.ratios.ackP99)}.`,
  ].join('\n');
}

function deathText(runs: DeathRun[]): string {
  const rows = runs.map((d) => [
    DEATH_LABEL[d.via] + (d.note ? ' ⚠' : ''),
    `${d.joined}/${d.players}`,
    String(d.leaseMs),
    d.leaseLeftAtKillMs === null ? '–' : String(d.leaseLeftAtKillMs),
    d.takeoverMs === null ? '–' : String(d.takeoverMs),
    d.takeoverMs === null || d.leaseLeftAtKillMs === null ? '–' : String(d.takeoverMs - d.leaseLeftAtKillMs),
    ms(percentile(d.resumeMs, 0)),
    ms(percentile(d.resumeMs, 0.5)),
    ms(percentile(d.resumeMs, 0.99)),
    ms(percentile(d.resumeMs, 1)),
    String(d.neverResumed),
    d.ownerAfter ?? '–',
    Number.isFinite(d.busyBeforePct) ? d.busyBeforePct.toFixed(0) : '–',
  ]);
  const notes = runs.filter((d) => d.note).map((d) => `- ${DEATH_LABEL[d.via]}: ${d.note}`);
  return [
    `## ${DEATH_TITLE}`,
    '',
    `A match on A, every player connected; ${DEATH.killAfterMs} ms after all of them received the first question (${DEATH.questionTimeSec} s, still open),`,
    "SIGKILL to A's master and worker. The takeover cannot come before A's lease has expired (lease left at the kill, from Redis PTTL).",
    'All times in ms from the kill: takeover = B logs "Match restored on worker"; resumed = a player\'s `welcome` after its `resume`.',
    '',
    table(
      ['players connected', 'joined', 'lease', 'lease left at kill', 'kill→takeover', 'lease expired→takeover', 'kill→first resumed', 'kill→resumed p50', 'kill→resumed p99', 'kill→last resumed', 'never resumed', 'owner after', 'machine busy before %'],
      rows,
    ),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}

export function formatHosts(res: HostsResults): string {
  const m = res.machine;
  const parts = [
    `bench:hosts on ${m.date} — ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, redis-server ${m.redis}, commit ${m.git.commit.slice(0, 7)}${m.git.dirty ? ' (dirty)' : ''}`,
    `load average at start ${m.loadAvgAtStart.map((v) => v.toFixed(2)).join(', ')}; two hosts, MAX_WORKERS=1 each, one redis-server, all on 127.0.0.1`,
  ];
  if (res.relay) parts.push('', relayText(res.relay));
  if (res.death.length > 0) parts.push('', deathText(res.death));
  if (res.notes.length > 0) parts.push('', 'Notes:', ...res.notes.map((n) => `- ${n}`));
  return parts.join('\n');
}

export function writeHostsJson(res: HostsResults, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'hosts.json');
  writeFileSync(file, `${JSON.stringify(res, null, 2)}\n`);
  return file;
}
