/**
 * Turns BenchResults into bench-results/report.md (for BENCHMARKS.md) and report.json.
 * Every figure in a table is the median over the reps; every ratio is computed within one
 * rep (pool and reference measured back to back) and then the median of those is shown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CRASH } from './crash';
import { floorSection } from './reportFloor';
import { envText, group, incompleteMark, med, ms, num, otherCpuLine, plural, ratioCell, repRatios, table } from './reportFormat';
import { type BenchResults, type RunRecord, addErrors, percentile } from './results';
import { HEAVY } from './sweeps';

/** Above this average CPU the single-process load generator is near saturation. */
const LOADGEN_BUSY_PCT = 70;

/** The Colyseus peer's versions for the header, when it ran. */
function peerVersions(res: BenchResults): string {
  const v = res.peer?.ok ? res.peer.versions : null;
  return v ? `; Colyseus peer: @colyseus/core ${v['@colyseus/core']}, @colyseus/ws-transport ${v['@colyseus/ws-transport']} (ws ${v['ws (server side)']}), colyseus.js ${v['colyseus.js']}` : '';
}

// ---- sections ------------------------------------------------------------------------------

function header(res: BenchResults): string {
  const m = res.machine;
  const lines = [
    '# Benchmark report',
    '',
    `Produced by \`${m.command}\` on ${m.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} in ${(res.totalMs / 60_000).toFixed(1)} min` +
      `${res.options.quick ? ' — **quick smoke run: tiny sizes, not a measurement**' : ''}.`,
    '',
    '| | |',
    '|---|---|',
    `| machine | ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os} |`,
    `| software | Node ${m.node}, ws ${m.ws}, TypeScript ${m.typescript}, redis-server ${m.redis}${peerVersions(res)} |`,
    `| commit | \`${m.git.commit}\`${m.git.dirty ? ' (working tree had uncommitted changes)' : ''} — ${m.git.describe} |`,
    `| build | ${m.build}${m.srcChanges && m.srcChanges.length > 0 ? `; uncommitted changes under src/ at start: ${m.srcChanges.join(', ')}` : ''} |`,
    `| reps | ${res.options.reps} per measured configuration; tables show the median over reps |`,
    `| sweeps | ${res.options.only.join(', ')} |`,
    `| load average at start | ${m.loadAvgAtStart.map((v) => v.toFixed(2)).join(', ')} (1, 5, 15 min) |`,
    '',
    '**Read this first.** Everything runs on this one machine: the servers, redis-server and the load',
    `generator share its ${m.cores} cores. The load generator is one Node process (at most one core busy);`,
    'its CPU is shown per run, and when it is busy its own event-loop delay is part of every latency',
    'below. Latencies are therefore upper bounds for the servers. Only 127.0.0.1 is used.',
    '',
    'Measures (from the load generator, `scripts/lib`): **answer→ack** = client sends `answer` → receives',
    '`answer_ack` (performance.now, µs resolution; the ack means durable, so it includes the store write);',
    '**fan-out** = `Date.now()` when a player receives `question` − the question\'s `startsAt` (same clock,',
    'ms resolution, so values of 0–2 ms are at the resolution limit); **CPU%** = per core (100 = one',
    'core), averaged over 1 s samples of the whole load run, connect phase included; **RSS** = peak',
    'resident memory; **RSS per player** = (peak − idle RSS of the server\'s processes just before the',
    'run) / joined players. Ratios are computed within one rep (the servers measured back to back)',
    'and the median over reps is shown, with the range in brackets.',
  ];
  return lines.join('\n');
}

function seedSection(res: BenchResults): string {
  const runs = res.runs.filter((r) => r.sweep === 'seed');
  if (runs.length === 0) return '';
  const s = res.settings.seed as { sizes: number[]; load: { players: number; questions: number; answerTime: string } };
  const rows: string[][] = [];
  for (const size of s.sizes) {
    const single = group(runs, 'seed', 'single', size);
    const pool = group(runs, 'seed', 'pool', size);
    if (single.length === 0 && pool.length === 0) continue;
    rows.push([
      String(size),
      String(size * s.load.players),
      ms(med(single, (r) => r.ackP50)) + incompleteMark(single),
      ms(med(pool, (r) => r.ackP50)) + incompleteMark(pool),
      ms(med(single, (r) => r.ackP99)),
      ms(med(pool, (r) => r.ackP99)),
      ms(med(single, (r) => r.fanoutP99)),
      ms(med(pool, (r) => r.fanoutP99)),
      ratioCell(repRatios(pool, single, (r) => r.ackP50)),
      ratioCell(repRatios(pool, single, (r) => r.ackP99)),
      ratioCell(repRatios(pool, single, (r) => r.fanoutP99)),
    ]);
  }
  const example = runs[0];
  return [
    '## 1. Seed table: single process vs pool',
    '',
    `${s.load.players} players per match, ${plural(s.load.questions, 'question')}, answers ${s.load.answerTime} ms after each question,`,
    'reveal and leaderboard 500 ms. Pool: MAX_WORKERS=4, MAX_MATCHES=3 (the seed\'s defaults), matches',
    'packed onto workers. Fresh servers per rep, sizes in increasing order, the two servers alternating',
    'which goes first. With so few answers per run (2 × questions × matches), p99 is close to the maximum.',
    '',
    table(
      ['matches', 'players', 'single p50 ack ms', 'pool p50 ack ms', 'single p99 ack ms', 'pool p99 ack ms', 'single p99 fan-out ms', 'pool p99 fan-out ms', 'pool/single p50 ack', 'pool/single p99 ack', 'pool/single p99 fan-out'],
      rows,
    ),
    '',
    otherCpuLine(runs),
    '',
    example ? `Load per run, e.g.: \`${example.loadCommand}\`` : '',
  ].join('\n');
}

function heavySection(res: BenchResults): string {
  const runs = res.runs.filter((r) => r.sweep === 'heavy');
  if (runs.length === 0) return '';
  const s = res.settings.heavy as { sizes: number[]; load: { players: number; questions: number; questionTimeSec: number; answerTime: string }; env: Record<string, string> };
  const configs: Array<{ server: string; matches: number }> = [
    ...s.sizes.map((m) => ({ server: 'pool', matches: m })),
    { server: 'pool+redis', matches: Math.max(...s.sizes) },
  ];
  const rows: string[][] = [];
  for (const c of configs) {
    const g = group(runs, 'heavy', c.server, c.matches);
    if (g.length === 0) continue;
    const w = (r: RunRecord, f: (p: { cpuAvgPct: number; cpuMaxPct: number; rssMaxMiB: number }) => number) =>
      r.workers.reduce((a, p) => a + f(p), 0);
    rows.push([
      c.server === 'pool' ? 'memory' : 'Redis',
      `${c.matches} × ${s.load.players}`,
      String(c.matches * s.load.players) + incompleteMark(g),
      ms(med(g, (r) => r.ackP50)),
      ms(med(g, (r) => r.ackP99)),
      ms(med(g, (r) => r.fanoutP99)),
      ms(med(g, (r) => r.ackP99AfterRamp)),
      ms(med(g, (r) => r.fanoutP99AfterRamp)),
      `${num(med(g, (r) => r.main?.cpuAvgPct ?? Number.NaN))} (${num(med(g, (r) => r.main?.cpuMaxPct ?? Number.NaN))})`,
      `${num(med(g, (r) => w(r, (p) => p.cpuAvgPct)))} (${num(med(g, (r) => w(r, (p) => p.cpuMaxPct)))})`,
      num(med(g, (r) => r.main?.rssMaxMiB ?? Number.NaN)),
      num(med(g, (r) => w(r, (p) => p.rssMaxMiB))),
      num(med(g, (r) => r.rssPerPlayerKiB ?? Number.NaN)),
      num(med(g, (r) => r.loadgen?.cpuAvgPct ?? Number.NaN)),
      num(med(g, (r) => r.otherCpuPct)),
    ]);
  }
  const redisRuns = runs.filter((r) => r.redisCpuPct !== null);
  const redisCpu = redisRuns.length > 0 ? `redis-server itself used a median ${num(med(redisRuns, (r) => r.redisCpuPct ?? Number.NaN))} % CPU in the Redis runs.` : '';

  // Where p99 answer→ack crosses the threshold, memory store, by players per worker.
  const threshold = HEAVY.ackThresholdMs;
  const points = s.sizes
    .map((m) => ({ players: m * s.load.players, p99: med(group(runs, 'heavy', 'pool', m), (r) => r.ackP99) }))
    .filter((p) => Number.isFinite(p.p99));
  let crossing: string;
  const isBelow = (p: { p99: number }) => p.p99 <= threshold;
  const lastBelow = points.reduce((acc, p, i) => (isBelow(p) ? i : acc), -1);
  // Small sizes give few answers, so their p99 is nearly the maximum and noisy: say so when an
  // earlier size was above the threshold and a later one below.
  const noisy = points.filter((p, i) => i < lastBelow && !isBelow(p));
  const noisyNote =
    noisy.length > 0
      ? ` At ${noisy.map((p) => `${p.players} players it was ${ms(p.p99)} ms`).join(', ')}: with few answers per run p99 is close to the maximum, so small sizes scatter around the threshold.`
      : '';
  if (points.length === 0) crossing = 'No heavy run produced an answer→ack figure.';
  else if (lastBelow === -1) crossing = `p99 answer→ack is already above ${threshold} ms at the smallest size, **${points[0]!.players} players per worker** (${ms(points[0]!.p99)} ms).`;
  else if (lastBelow === points.length - 1) {
    crossing = `p99 answer→ack ends below ${threshold} ms: **not crossed up to ${points[lastBelow]!.players} players per worker** (memory store).${noisyNote}`;
  } else {
    const lo = points[lastBelow]!;
    const hi = points[lastBelow + 1]!;
    crossing =
      `p99 answer→ack crosses ${threshold} ms for good **between ${lo.players} (${ms(lo.p99)} ms) and ${hi.players} players per worker (${ms(hi.p99)} ms)**` +
      ` (memory store; sizes in between were not measured).${noisyNote}`;
  }
  const example = runs.find((r) => r.server === 'pool+redis') ?? runs[0];
  return [
    '## 2. Heavy: players per worker',
    '',
    `One worker (${envText(s.env)}), ${s.load.players} players per match, ${plural(s.load.questions, 'question')} of ${s.load.questionTimeSec} s,`,
    `answers ${s.load.answerTime} ms after each question (a question closes once all answered), reveal and leaderboard ${s.env.REVEAL_MS} ms.`,
    'A fresh pool (and a fresh redis-server without persistence) per run, so RSS starts from idle. RSS per',
    'player also carries the warm-up growth of a fresh process (code, heap), so small sizes overstate it;',
    'the largest size is the best estimate.',
    'CPU columns: average over the run (max 1 s sample in brackets); "workers" sums the worker processes.',
    '',
    table(
      ['store', 'matches × players', 'players / worker', 'p50 ack ms', 'p99 ack ms', 'p99 fan-out ms', 'p99 ack ms after ramp', 'p99 fan-out ms after ramp', 'master CPU %', 'worker CPU %', 'master RSS MiB', 'worker RSS MiB', 'RSS / player KiB', 'load generator CPU %', 'other processes CPU %'],
      rows,
    ),
    '',
    crossing,
    '',
    [redisCpu, otherCpuLine(runs)].filter(Boolean).join(' '),
    '',
    example ? `Load per run, e.g.: \`${example.loadCommand}\`` : '',
  ].join('\n');
}

function crashSection(res: BenchResults): string {
  const kills = res.crash;
  if (kills.length === 0) return '';
  const row = (name: string, k: { players: number; resumeMs: number[]; neverResumed: number; ackedBeforeKill?: number }) => [
    name,
    String(k.players),
    String(k.resumeMs.length),
    String(k.neverResumed),
    ms(percentile(k.resumeMs, 0.5)),
    ms(percentile(k.resumeMs, 0.99)),
    ms(k.resumeMs.length ? Math.max(...k.resumeMs) : Number.NaN),
    k.ackedBeforeKill === undefined ? '' : String(k.ackedBeforeKill),
  ];
  const allMs = kills.flatMap((k) => k.resumeMs);
  const total = { players: kills.reduce((a, k) => a + k.players, 0), resumeMs: allMs, neverResumed: kills.reduce((a, k) => a + k.neverResumed, 0) };
  const size = kills[0]!;
  const notes = kills.filter((k) => k.note).map((k) => `- kill ${k.kill}: ${k.note}`);
  const errors: Record<string, number> = {};
  for (const k of kills) addErrors(errors, k.errors);
  return [
    '## 4. Crash: SIGKILL of the worker mid-question',
    '',
    `${size.matches} matches × ${size.players / size.matches} players on one worker (${envText(CRASH.env)}, memory store), questions of`,
    `${CRASH.questionTimeSec} s, answers ${CRASH.answerTime}. ${CRASH.killAfterMs} ms after every player received the first question the`,
    'worker owning the matches gets SIGKILL. Per player: time from the kill to the `welcome` answering its',
    '`resume` (the scripted client reconnects after 100–500 ms and retries 503 with Retry-After).',
    `A fresh pool and match set per kill; a player counts as never resumed after ${CRASH.resumeTimeoutMs / 1000} s. Clients run inside the`,
    'benchmark process, so the kill and the welcomes are timed on one clock.',
    '',
    table(
      ['kill', 'players', 'resumed', 'never resumed', 'p50 ms', 'p99 ms', 'max ms', 'answers acked before the kill'],
      [...kills.map((k) => row(String(k.kill), k)), row('**all kills**', total)],
    ),
    '',
    Object.keys(errors).length > 0 ? `Client-side events during the kills: ${Object.entries(errors).map(([k, v]) => `${k} ×${v}`).join(', ')}.` : '',
    ...notes,
  ].join('\n');
}

function problemsSection(res: BenchResults): string {
  const lines = ['## Errors, warnings and notes', ''];
  // Load generator errors per sweep and server.
  const byRun = new Map<string, Record<string, number>>();
  for (const r of res.runs) {
    if (Object.keys(r.errors).length === 0 && !r.error && r.complete) continue;
    const key = `${r.sweep} / ${r.server}`;
    const acc = byRun.get(key) ?? {};
    addErrors(acc, r.errors);
    if (r.error) addErrors(acc, { [`run failed: ${r.error.slice(0, 140)}`]: 1 });
    if (!r.complete && !r.error) addErrors(acc, { [`incomplete run (${r.outcome}, joined ${r.joined}/${r.players}) ${r.matches}×${r.playersPerMatch}`]: 1 });
    byRun.set(key, acc);
  }
  if (byRun.size === 0) lines.push('Load generator: no errors, every run complete.');
  else {
    lines.push('Load generator (error keys from `scripts/lib/stats.ts`, summed over runs):', '');
    for (const [k, errs] of byRun) lines.push(`- ${k}: ${Object.entries(errs).map(([e, n]) => `\`${e}\` ×${n}`).join(', ')}`);
  }
  lines.push('');
  const noisy = res.logs.filter((l) => l.digest.warnings + l.digest.errors > 0);
  if (noisy.length === 0) lines.push(`Server logs (LOG_LEVEL=warn): nothing logged at warn or above by any of the ${res.logs.length} server processes.`);
  else {
    lines.push('Server logs (LOG_LEVEL=warn, so every line is a warning or an error):', '');
    for (const l of noisy) {
      lines.push(`- ${l.sweep} / ${l.server}: ${l.digest.errors} error, ${l.digest.warnings} warn lines (\`${l.digest.file}\`)`);
      for (const t of l.digest.top.slice(0, 4)) lines.push(`  - ${t.count} × ${t.message}`);
    }
  }
  const busy = res.runs.filter((r) => r.otherCpuPct > 30);
  if (busy.length > 0) {
    lines.push(
      '',
      `Other processes on the machine used more than 30 % CPU (of ${res.machine.cores * 100} %) during ${busy.length} of ${res.runs.length} runs ` +
        `(max ${num(Math.max(...busy.map((r) => r.otherCpuPct)))} %): ${[...new Set(busy.map((r) => `${r.sweep}/${r.server}`))].join(', ')}. ` +
        'Those runs measured a machine shared with somebody else\'s work; compare them with care.',
    );
  }
  const saturated = res.runs.filter((r) => (r.loadgen?.cpuAvgPct ?? 0) > LOADGEN_BUSY_PCT);
  if (saturated.length > 0) {
    const which = [...new Set(saturated.map((r) => `${r.sweep}/${r.server} ${r.matches * r.playersPerMatch} clients`))].join(', ');
    lines.push(
      '',
      `The load generator averaged more than ${LOADGEN_BUSY_PCT} % CPU (one core = 100 %) in ${saturated.length} runs (${which}): ` +
        'there it is close to its own limit, and its event-loop delay is a large part of the latencies it reports.',
    );
  }
  if (res.notes.length > 0) lines.push('', 'Notes:', '', ...res.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

export function renderMarkdown(res: BenchResults): string {
  const parts = [header(res), seedSection(res), heavySection(res), floorSection(res), crashSection(res), problemsSection(res)];
  return `${parts.filter((p) => p !== '').join('\n\n')}\n`;
}

export function writeReport(res: BenchResults, outDir: string): { md: string; json: string } {
  mkdirSync(outDir, { recursive: true });
  const md = path.join(outDir, 'report.md');
  const json = path.join(outDir, 'report.json');
  writeFileSync(md, renderMarkdown(res));
  writeFileSync(json, `${JSON.stringify(res, null, 2)}\n`);
  return { md, json };
}
