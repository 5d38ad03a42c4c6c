/** The load run's summary: one shape for the JSON output and the human-readable table. */
import type { LoadOptions } from './args';
import type { HistogramSummary } from './histogram';
import type { ProcSummary } from './procSampler';
import type { Capacity } from './matchServiceApi';
import type { LatencyKey, LoadStats } from './stats';
import { formatBytes } from './util';

/**
 * finished: every match reached `finished`; clients-gone: every client ended (failed, kicked,
 * dropped past its reconnects) before that; duration: --duration was reached; interrupted:
 * SIGINT/SIGTERM; setup-failed: match creation failed or nobody could join.
 */
export type Outcome = 'finished' | 'clients-gone' | 'duration' | 'interrupted' | 'setup-failed';

export interface LoadSummary {
  target: string;
  config: {
    matches: number;
    players: number;
    quiz: string;
    questions: number | null;
    questionTimeSec: number | null;
    answerTime: string;
    correctRatio: number;
    durationSec: number;
    connectConcurrency: number;
  };
  outcome: Outcome;
  exitCode: number;
  elapsedMs: number;
  /** `planned`: what the run played, fewer than `requested` when the service had no room. */
  matches: { requested: number; planned: number; created: number; started: number; finished: number };
  players: { requested: number; joined: number; failed: number; reconnects: number };
  answers: { sent: number; acked: number; intendedCorrect: number; rejected: number; resent: number; missed: number };
  questionsReceived: number;
  messages: { in: number; out: number; bytesIn: number; bytesOut: number };
  latency: Record<LatencyKey, HistogramSummary>;
  errors: Record<string, number>;
  setupErrors: string[];
  notes: string[];
  /** The service's room when the run began (null: unknown, or no limit). */
  capacity: Capacity | null;
  /** The matches it created, once it ended them: null when it created none. */
  cleanup: { ended: number; alreadyOver: number; failed: string[] } | null;
  processes: ProcSummary[];
}

/** The run's options as the summary records them. */
export function configOf(o: LoadOptions): LoadSummary['config'] {
  return {
    matches: o.matches,
    players: o.players,
    quiz: o.quizId ?? 'inline',
    questions: o.quizId === null ? o.questions : null,
    questionTimeSec: o.quizId === null ? o.questionTimeSec : null,
    answerTime: o.answerTime.spec,
    correctRatio: o.correctRatio,
    durationSec: o.durationSec,
    connectConcurrency: o.connectConcurrency,
  };
}

/** What the clients measured, as the summary records it. */
export function measured(s: LoadStats): Pick<LoadSummary, 'answers' | 'questionsReceived' | 'messages' | 'latency' | 'errors'> {
  return {
    answers: {
      sent: s.answersSent,
      acked: s.answersAcked,
      intendedCorrect: s.answersIntendedCorrect,
      rejected: s.answersRejected,
      resent: s.answersResent,
      missed: s.answersMissed,
    },
    questionsReceived: s.questionsReceived,
    messages: { in: s.messagesIn, out: s.messagesOut, bytesIn: s.bytesIn, bytesOut: s.bytesOut },
    latency: s.latencies(),
    errors: s.errorsByCode(),
  };
}

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  return left ? t.padEnd(n) : t.padStart(n);
}

function ms(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const LATENCY_ROWS: Array<[keyof LoadSummary['latency'], string]> = [
  ['fanoutMs', 'question fan-out'],
  ['spreadMs', 'question spread'],
  ['ackMs', 'answer -> ack'],
  ['fanoutAfterRampMs', 'fan-out, ramp done'],
  ['ackAfterRampMs', 'ack, ramp done'],
  ['connectMs', 'open -> welcome'],
  ['handshakeMs', 'ws handshake'],
];

export function formatTable(s: LoadSummary): string {
  const c = s.config;
  const quiz = c.quiz === 'inline' ? `inline quiz ${c.questions} q x ${c.questionTimeSec} s` : `quiz ${c.quiz}`;
  const lines: string[] = [];
  lines.push(`Load test against ${s.target}: ${c.matches} matches x ${c.players} players, ${quiz}, answers ${c.answerTime}`);
  lines.push(`Outcome   ${s.outcome} after ${(s.elapsedMs / 1000).toFixed(1)} s (limit ${c.durationSec} s), exit ${s.exitCode}`);
  lines.push(
    `Matches   created ${s.matches.created}/${s.matches.requested}  started ${s.matches.started}  finished ${s.matches.finished}` +
      (s.matches.planned < s.matches.requested ? `  (the service had room for ${s.matches.planned})` : ''),
  );
  if (s.cleanup) {
    const failed = s.cleanup.failed.length > 0 ? `  NOT ENDED ${s.cleanup.failed.length}: ${s.cleanup.failed.join('; ')}` : '';
    lines.push(`Cleanup   played to the end ${s.cleanup.ended}  already over ${s.cleanup.alreadyOver}${failed}`);
  }
  lines.push(
    `Players   joined ${s.players.joined}/${s.players.requested}  failed ${s.players.failed}  reconnects ${s.players.reconnects}`,
  );
  lines.push(
    `Answers   sent ${s.answers.sent}  acked ${s.answers.acked}  meant-correct ${s.answers.intendedCorrect}  rejected ${s.answers.rejected}  resent ${s.answers.resent}  missed ${s.answers.missed}`,
  );
  const secs = Math.max(s.elapsedMs / 1000, 0.001);
  lines.push(
    `Messages  in ${s.messages.in} (${formatBytes(s.messages.bytesIn)}, ${(s.messages.in / secs).toFixed(0)}/s)  out ${s.messages.out} (${formatBytes(s.messages.bytesOut)})  questions received ${s.questionsReceived}`,
  );
  lines.push('');
  lines.push(`${pad('latency (ms)', 18, true)}${pad('count', 8)}${pad('p50', 9)}${pad('p95', 9)}${pad('p99', 9)}${pad('max', 9)}${pad('mean', 9)}`);
  for (const [key, label] of LATENCY_ROWS) {
    const h = s.latency[key];
    lines.push(`${pad(label, 18, true)}${pad(h.count, 8)}${pad(ms(h.p50), 9)}${pad(ms(h.p95), 9)}${pad(ms(h.p99), 9)}${pad(ms(h.max), 9)}${pad(ms(h.mean), 9)}`);
  }
  lines.push('');
  const errs = Object.entries(s.errors);
  if (errs.length === 0) lines.push('Errors    none');
  else {
    lines.push('Errors');
    for (const [k, v] of errs) lines.push(`  ${pad(k, 32, true)}${pad(v, 8)}`);
  }
  for (const e of s.setupErrors) lines.push(`  setup: ${e}`);
  for (const n of s.notes) lines.push(`Note      ${n}`);
  if (s.processes.length > 0) {
    lines.push('');
    lines.push(`${pad('process', 14, true)}${pad('pid', 9)}${pad('samples', 9)}${pad('cpu avg%', 10)}${pad('cpu max%', 10)}${pad('rss max MiB', 13)}`);
    for (const p of s.processes) {
      lines.push(
        `${pad(p.label + (p.alive ? '' : ' (gone)'), 14, true)}${pad(p.pid, 9)}${pad(p.samples, 9)}${pad(p.cpuAvgPct.toFixed(1), 10)}${pad(p.cpuMaxPct.toFixed(1), 10)}${pad(p.rssMaxMiB.toFixed(1), 13)}`,
      );
    }
  }
  lines.push('');
  lines.push('fan-out = Date.now() at receipt - startsAt (ms resolution); spread = last - first receipt per question and match.');
  lines.push('"ramp done": questions received and answers sent after every player had joined (no connect traffic).');
  return lines.join('\n');
}
