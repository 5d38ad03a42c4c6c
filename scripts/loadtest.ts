/**
 * Load generator for the match service: many simulated players over real WebSockets in one
 * process, against a service on this machine only.
 *
 *   ts-node --transpile-only scripts/loadtest.ts --matches 3 --players 5 --questions 3
 *
 * For each match it creates an inline quiz (or uses --quiz), connects the players (`join`)
 * and a host (`resume` with the hostToken), and the host sends `start` once every player is
 * in. Players answer each question after a delay drawn from --answer-time. The match runs
 * itself; the run ends when every match finished or --duration is up, and prints a summary
 * (latency histograms, errors by code, message counts, CPU/RSS of the server's processes).
 * See `--help`, and scripts/lib/ for the reusable pieces.
 *
 * Before it creates anything it reads the service's capacity (GET /workers/stats) and runs
 * no more matches than fit, saying what to change to run them all; however it stops (end,
 * --duration, error, SIGINT/SIGTERM) it plays every match it created to the end, so none is
 * left holding a slot (lib/matchCloser says why that is the way to free one).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOAD_USAGE, type LoadOptions, UsageError, parseLoadArgs } from './lib/args';
import { HttpFailure } from './lib/http';
import { type EndedMatches, endMatches } from './lib/matchCloser';
import { MatchRun } from './lib/matchRun';
import { type Capacity, capacityAdvice, capacityOf, fetchWorkerStats } from './lib/matchServiceApi';
import { procAvailable } from './lib/procfs';
import { ProcSampler, type ProcTarget } from './lib/procSampler';
import { generateQuiz } from './lib/quizGen';
import { type LoadSummary, type Outcome, configOf, formatTable, measured } from './lib/report';
import { LoadStats } from './lib/stats';
import { Semaphore } from './lib/util';

/** How many `POST /matches` are in flight at once. */
const CREATE_CONCURRENCY = 8;
/** How often worker pids are re-read from /workers/stats (the pool grows and restarts workers). */
const DISCOVER_EVERY_MS = 2000;
/** requestJson's default timeout: no `POST /matches` is in flight longer. */
const CREATE_TIMEOUT_MS = 10_000;
/** Bound on ending the created matches at the end of a run. */
const CLEANUP_TIMEOUT_MS = 30_000;

class Run {
  readonly stats = new LoadStats();
  readonly runs: MatchRun[] = [];
  readonly setupErrors: string[] = [];
  /** What the user should know besides the figures (the run was sized down, …). */
  readonly notes: string[] = [];
  private capacity: Capacity | null = null;
  /** Matches this run plays: --matches, or fewer when the service has no room for them. */
  private planned: number;
  private cleanup: EndedMatches | null = null;
  /** The `POST /matches` step, settled once no request of it is in flight. */
  private creating: Promise<void> = Promise.resolve();
  private readonly sampler: ProcSampler | null;
  private readonly t0 = performance.now();
  private outcome: Outcome | null = null;
  private resolveEnd!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.resolveEnd = resolve));
  private hardTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private discoverTimer: NodeJS.Timeout | null = null;
  private lastProgress = { at: performance.now(), sent: 0 };
  private discoverWarned = false;

  constructor(private readonly o: LoadOptions) {
    this.planned = o.matches;
    this.stats.playersExpected = o.matches * o.players;
    this.sampler = procAvailable() ? new ProcSampler(1000) : null;
  }

  async main(): Promise<number> {
    const o = this.o;
    this.hardTimer = setTimeout(() => this.finish('duration'), o.durationSec * 1000);
    const onSignal = () => this.finish('interrupted');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    this.startSampling();
    if (!o.json) this.progressTimer = setInterval(() => this.progress(), 1000);

    // Setup races the hard bound: a hanging request or connect never outlives --duration.
    const setup = this.setup().then(
      () => {
        if (this.setupErrors.length > 0) this.finish('setup-failed');
        else if (this.runs.every((r) => r.done)) this.finish(this.allFinishedOutcome());
      },
      (err: unknown) => {
        this.setupErrors.push((err as Error).message);
        this.finish('setup-failed');
      },
    );
    await Promise.race([setup, this.ended]);
    await this.ended;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await this.shutdown();
    await this.endCreatedMatches();

    const joinedNobody = this.stats.playersJoined === 0 && this.outcome !== 'interrupted';
    const leftBehind = (this.cleanup?.failed.length ?? 0) > 0;
    const exitCode = this.outcome === 'setup-failed' || joinedNobody || leftBehind ? 1 : 0;
    if (joinedNobody && this.setupErrors.length === 0) this.setupErrors.push('no player could join any match');
    const summary = this.summary(exitCode);
    process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : `${formatTable(summary)}\n`);
    if (!o.json) for (const e of summary.setupErrors) process.stderr.write(`loadtest: ${e}\n`);
    return exitCode;
  }

  /**
   * Sizes the run to the service: no more matches than it will place now. Unknown capacity
   * (no /workers/stats, or no limit in it) leaves --matches as it is.
   */
  private async fitToCapacity(): Promise<void> {
    const o = this.o;
    try {
      this.capacity = capacityOf(await fetchWorkerStats(o.url, 5000));
    } catch (err) {
      this.notes.push(`capacity unknown (${(err as Error).message}); trying all ${o.matches} matches`);
      return;
    }
    const c = this.capacity;
    if (!c || c.free >= o.matches) return;
    const advice = capacityAdvice(c, o.matches);
    if (c.free === 0) {
      this.setupErrors.push(`nothing to run: ${advice}`);
      this.planned = 0;
      return;
    }
    this.planned = c.free;
    this.stats.playersExpected = c.free * o.players;
    this.notes.push(`running ${c.free} of the ${o.matches} matches asked for: ${advice}`);
    if (!o.json) process.stderr.write(`loadtest: ${this.notes.at(-1)}\n`);
  }

  /**
   * Plays every created match that is not over to its end (bounded). A signal meanwhile is
   * answered with what is going on; a second one abandons the rest.
   */
  async endCreatedMatches(): Promise<void> {
    // A create still in flight when the run stopped may yet succeed; it is ended too.
    await Promise.race([this.creating, sleep(CREATE_TIMEOUT_MS + 1000)]);
    const created = this.runs.flatMap((r) => (r.created ? [r.created] : []));
    if (created.length === 0 || this.cleanup) return;
    const knownOver = new Set(this.runs.flatMap((r) => (r.created && r.finished ? [r.created.matchId] : [])));
    const open = created.length - knownOver.size;
    let warned = false;
    const onSignal = () => {
      if (warned) process.exit(130);
      warned = true;
      process.stderr.write(`\nloadtest: ending the ${open} match(es) it created; a second Ctrl+C leaves them to the service's own timeouts\n`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (open > 0 && !this.o.json) process.stderr.write(`loadtest: ending the ${open} match(es) it created that are not over…\n`);
      this.cleanup = await endMatches(created, { httpBase: this.o.url, wsBase: this.o.wsUrl, knownOver, timeoutMs: CLEANUP_TIMEOUT_MS });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  private async setup(): Promise<void> {
    const o = this.o;
    const inline = o.quizId === null ? generateQuiz(o.questions, o.questionTimeSec) : null;
    await this.fitToCapacity();
    if (this.setupErrors.length > 0) return;
    const limiter = new Semaphore(o.connectConcurrency);
    for (let m = 0; m < this.planned; m++) {
      this.runs.push(
        new MatchRun({
          index: m,
          httpBase: o.url,
          wsBase: o.wsUrl,
          players: o.players,
          quiz: inline ? { inline } : { id: o.quizId! },
          answerDelayMs: () => o.answerTime.sample(),
          correctRatio: o.correctRatio,
          stats: this.stats,
          connectLimiter: limiter,
          onDone: () => {
            if (!this.outcome && this.runs.every((r) => r.done)) this.finish(this.allFinishedOutcome());
          },
        }),
      );
    }

    // 1. Create every match first; any HTTP failure is a setup failure and nothing connects.
    const createLimiter = new Semaphore(CREATE_CONCURRENCY);
    this.creating = Promise.all(
      this.runs.map((run) =>
        createLimiter.run(async () => {
          if (this.outcome || this.setupErrors.length > 0) return;
          try {
            await run.create();
          } catch (err) {
            const key = err instanceof HttpFailure ? err.key : 'http:error';
            this.stats.error(key);
            // Somebody else took the room between the capacity check and this request.
            const hint = key.endsWith(':CAPACITY') && this.capacity ? ` (${capacityAdvice(this.capacity, this.planned)})` : '';
            this.setupErrors.push(`${(err as Error).message}${hint}`);
          }
        }),
      ),
    ).then(() => undefined);
    await this.creating;
    if (this.setupErrors.length > 0 || this.outcome) return;

    // 2. Connect everything through the shared limiter; each match starts when its players are in.
    await Promise.all(this.runs.map((run) => run.connectAll()));
  }

  /** Every client is done: because every match finished, or because they gave up. */
  private allFinishedOutcome(): Outcome {
    return this.runs.every((r) => r.finished) ? 'finished' : 'clients-gone';
  }

  private finish(outcome: Outcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.resolveEnd();
  }

  private async shutdown(): Promise<void> {
    if (this.hardTimer) clearTimeout(this.hardTimer);
    if (this.progressTimer) clearInterval(this.progressTimer);
    if (this.discoverTimer) clearInterval(this.discoverTimer);
    this.sampler?.sample();
    this.sampler?.stop();
    await Promise.all(this.runs.map((r) => r.stop()));
    if (!this.o.json) process.stderr.write('\n');
  }

  private startSampling(): void {
    const s = this.sampler;
    if (!s) return;
    s.add([{ pid: process.pid, label: 'loadgen' }]);
    if (this.o.masterPid !== null) s.add([{ pid: this.o.masterPid, label: 'master' }]);
    if (this.o.pids !== null) {
      s.add(this.o.pids.map((pid) => ({ pid, label: `pid ${pid}` })));
    } else {
      void this.discover();
      this.discoverTimer = setInterval(() => void this.discover(), DISCOVER_EVERY_MS);
      this.discoverTimer.unref();
    }
    s.start();
  }

  /** Adds the service's worker processes from GET /workers/stats (best effort). */
  private async discover(): Promise<void> {
    try {
      const { workers } = await fetchWorkerStats(this.o.url, 2000);
      if (!Array.isArray(workers)) throw new Error('no workers in the answer');
      const targets: ProcTarget[] = [];
      for (const w of workers) {
        if (typeof w.pid === 'number') targets.push({ pid: w.pid, label: `worker ${String(w.workerId ?? '?')}` });
      }
      this.sampler?.add(targets);
    } catch (err) {
      if (!this.discoverWarned && !this.o.json) {
        this.discoverWarned = true;
        process.stderr.write(`loadtest: cannot read ${this.o.url}/workers/stats (${(err as Error).message}); pass --pids to sample the server\n`);
      }
    }
  }

  private progress(): void {
    const s = this.stats;
    const now = performance.now();
    const rate = ((s.answersSent - this.lastProgress.sent) * 1000) / Math.max(1, now - this.lastProgress.at);
    this.lastProgress = { at: now, sent: s.answersSent };
    const finished = this.runs.filter((r) => r.finished).length;
    const started = this.runs.filter((r) => r.started).length;
    const line =
      `[${((now - this.t0) / 1000).toFixed(0).padStart(4)}s] players ${s.playersConnected}/${this.planned * this.o.players}` +
      ` matches started ${started} finished ${finished}/${this.planned} | answers/s ${rate.toFixed(0)} acked ${s.answersAcked}` +
      ` | ack p99 ${s.ack.quantile(0.99).toFixed(1)}ms fan-out p99 ${s.fanout.quantile(0.99).toFixed(0)}ms | errors ${s.errorTotal}`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  private summary(exitCode: number): LoadSummary {
    const o = this.o;
    const s = this.stats;
    return {
      target: o.url,
      config: configOf(o),
      outcome: this.outcome ?? 'interrupted',
      exitCode,
      elapsedMs: Math.round(performance.now() - this.t0),
      matches: {
        requested: o.matches,
        planned: this.planned,
        created: this.runs.filter((r) => r.created).length,
        started: this.runs.filter((r) => r.started).length,
        finished: this.runs.filter((r) => r.finished).length,
      },
      players: { requested: this.planned * o.players, joined: s.playersJoined, failed: s.playersFailed, reconnects: s.reconnects },
      ...measured(s),
      setupErrors: dedupe(this.setupErrors),
      notes: this.notes,
      capacity: this.capacity,
      cleanup: this.cleanup
        ? { ended: this.cleanup.ended.length, alreadyOver: this.cleanup.alreadyOver.length, failed: this.cleanup.failed.map((f) => `${f.matchId}: ${f.why}`) }
        : null,
      processes: this.sampler?.summary() ?? [],
    };
  }
}

/** Identical messages once, with a count. */
function dedupe(messages: string[]): string[] {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts.entries()].map(([m, n]) => (n > 1 ? `${m} (x${n})` : m));
}

async function main(): Promise<void> {
  let options: LoadOptions | null;
  try {
    options = parseLoadArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loadtest: ${err.message}\nRun with --help for the options.\n`);
      process.exit(2);
    }
    throw err;
  }
  if (options === null) {
    process.stdout.write(`${LOAD_USAGE}\n`);
    return;
  }
  const run = new Run(options);
  let code: number;
  try {
    code = await run.main();
  } catch (err) {
    // Whatever went wrong, the matches it created must not stay behind.
    await run.endCreatedMatches().catch(() => undefined);
    throw err;
  }
  // Every socket and timer is closed by now; exit explicitly so a stray keep-alive
  // connection of fetch cannot hold the process open.
  process.stdout.write('', () => process.exit(code));
}

main().catch((err: unknown) => {
  process.stderr.write(`loadtest: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
