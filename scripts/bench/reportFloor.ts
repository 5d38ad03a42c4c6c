/**
 * Section 3 of the report: the floor pattern against the bare-`ws` floor server, the Colyseus
 * peer and the pool, side by side, with the pool's ratios to each (computed within a rep).
 */
import { generateQuiz } from '../lib/quizGen';
import { group, incompleteMark, med, ms, num, otherCpuLine, plural, ratioCell, repRatios, table } from './reportFormat';
import type { BenchResults, RunRecord } from './results';

interface Column {
  head: string;
  value(r: RunRecord): number;
  cell(v: number): string;
  /** Shown in the ratio rows (the load generator's and the machine's columns are not). */
  ratio: boolean;
}

const COLUMNS: Column[] = [
  { head: 'connect ramp s', value: (r) => (r.connectRampMs ?? Number.NaN) / 1000, cell: (v) => num(v, 1), ratio: true },
  { head: 'answers acked / s (whole run)', value: (r) => r.ackedPerSec, cell: (v) => num(v), ratio: true },
  { head: 'answers acked / s (after ramp)', value: (r) => r.ackedPerSecAfterRamp ?? Number.NaN, cell: (v) => num(v), ratio: true },
  { head: 'p99 fan-out ms', value: (r) => r.fanoutP99, cell: ms, ratio: true },
  { head: 'p50 ack ms', value: (r) => r.ackP50, cell: ms, ratio: true },
  { head: 'p99 ack ms', value: (r) => r.ackP99, cell: ms, ratio: true },
  { head: 'p99 fan-out ms after ramp', value: (r) => r.fanoutP99AfterRamp, cell: ms, ratio: true },
  { head: 'p99 ack ms after ramp', value: (r) => r.ackP99AfterRamp, cell: ms, ratio: true },
  { head: 'server CPU %', value: (r) => r.serverCpuAvgPct, cell: (v) => num(v), ratio: true },
  { head: 'server RSS MiB', value: (r) => r.serverRssMaxMiB, cell: (v) => num(v), ratio: true },
  { head: 'RSS / client KiB', value: (r) => r.rssPerPlayerKiB ?? Number.NaN, cell: (v) => num(v, 1), ratio: true },
  { head: 'load generator CPU %', value: (r) => r.loadgen?.cpuAvgPct ?? Number.NaN, cell: (v) => num(v), ratio: false },
  { head: 'other processes CPU %', value: (r) => r.otherCpuPct, cell: (v) => num(v), ratio: false },
];

const HEAD = ['server', 'clients', ...COLUMNS.map((c) => c.head)];

/** The servers of the sweep, in the table's order: record label → row name. */
function servers(res: BenchResults): Array<[string, string]> {
  const peer = res.peer?.ok ? [['colyseus', `Colyseus ${res.peer.versions['@colyseus/core'] ?? ''} (ws)`] as [string, string]] : [];
  return [['floor', 'floor (bare ws)'], ...peer, ['pool', 'pool (1 worker)']];
}

function sizeTable(res: BenchResults, all: RunRecord[], size: number, players: number): string {
  const groups = servers(res).map(([server, name]) => ({ server, name, runs: group(all, 'floor', server, size) }));
  const rows = groups.map((g) => [g.name, String(size * players) + incompleteMark(g.runs), ...COLUMNS.map((c) => c.cell(med(g.runs, c.value)))]);
  const pool = groups.find((g) => g.server === 'pool')!.runs;
  for (const ref of groups.filter((g) => g.server !== 'pool').reverse()) {
    const label = ref.server === 'floor' ? 'floor' : 'Colyseus';
    rows.push([`**pool / ${label}**`, '', ...COLUMNS.map((c) => (c.ratio ? ratioCell(repRatios(pool, ref.runs, c.value)) : ''))]);
  }
  return table(HEAD, rows);
}

/** Average size of a `question` message of the load generator's inline quiz (to 10 bytes). */
function questionBytes(): number {
  const quiz = generateQuiz(50, 5);
  const now = Date.now();
  const sizes = quiz.questions.map(
    (q, index) => JSON.stringify({ type: 'question', index, total: 12, text: q.text, choices: q.choices, startsAt: now, endsAt: now + 1000 }).length,
  );
  return Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length / 10) * 10;
}

function peerText(res: BenchResults): string[] {
  const peer = res.peer;
  if (!peer) return [];
  if (!peer.ok) return [`**Colyseus peer skipped**: ${peer.install}.`, ''];
  const v = peer.versions;
  return [
    `**Colyseus peer** (\`bench/peers/colyseus\`, with its own package.json and lock, not a dependency of the product):`,
    `@colyseus/core ${v['@colyseus/core']} with @colyseus/ws-transport ${v['@colyseus/ws-transport']} (ws ${v['ws (server side)']}), driven by`,
    `colyseus.js ${v['colyseus.js']} (${peer.install}). One Room per match, created by the host with the quiz in its options;`,
    'players `joinById`. The floor server\'s messages, same fields and flags, as Colyseus messages (`broadcast`, and',
    '`client.send` for `answer_ack` and the personal reveal/leaderboard), framed with msgpack; not schema state, which',
    'would add up to a 50 ms patch interval to the fan-out. Colyseus\' defaults otherwise (patch loop, 3 s pings,',
    'matchmaking over HTTP, and @pm2/io, which npm installs as a peer of @colyseus/core and Colyseus loads for',
    'its metrics: about 5 MiB of idle RSS). Its driver (`bench/peers/colyseus/driver.ts`) takes the load generator\'s options and',
    'prints its summary from the same statistics code; its connect is the whole `joinById` (seat reservation',
    'over HTTP, then the WebSocket). The three run one after the other for each size and rep (order reversed',
    'every other rep, the peer in the middle).',
    '',
  ];
}

export function floorSection(res: BenchResults): string {
  const all = res.runs.filter((r) => r.sweep === 'floor');
  if (all.length === 0) return '';
  const s = res.settings.floor as { ladder: number[]; load: { players: number; questions: number; answerTime: string } };
  const rooms = res.floorRooms;
  const lines = [`## 3. Floor: bare \`ws\`${res.peer?.ok ? ', Colyseus' : ''} and the pool`, ''];
  lines.push(
    `Rooms of ${s.load.players} players plus a host; each room broadcasts about one question per second: 5 s questions at`,
    'time scale 0.2 (1 s), closed as soon as all 10 answered (answers uniform 0–500 ms after receipt), then',
    `250 ms reveal and 250 ms leaderboard; ${plural(s.load.questions, 'question')} per room. Floor server: \`scripts/floorServer.ts\``,
    '(compiled, `--time-scale 0.2 --reveal-ms 250 --leaderboard-ms 250`). Pool: 1 worker, MAX_MATCHES=500,',
    'MATCH_TIME_SCALE=0.2, REVEAL_MS=LEADERBOARD_MS=1250 (× 0.2 = 250 ms). Fresh server per run. A',
    `\`question\` message is about ${questionBytes()} bytes of JSON, not 300: the load generator's inline quiz (short`,
    'arithmetic questions) is fixed by scripts/loadtest.ts; every server gets the same messages.',
    '**Throughput**: answers acknowledged / the load run\'s time, once for the whole run (a lower bound:',
    'the connect ramp is included) and once for the time after every client was connected (an upper',
    'bound: answers acked during the ramp are counted too). The ramp comes from GET /workers/stats',
    `polled once a second. An ideal server would sustain about clients / 0.96 s (the last of 10 answers`,
    'arrives ≈ 455 ms after the question, then 2 × 250 ms).',
    '',
    ...peerText(res),
  );

  const wanted = Math.max(...s.ladder);
  // Larger sizes that were tried (rep 1 only) and did not complete against the floor server or the pool.
  const failedSizes = s.ladder.filter((size) => (rooms === null || size > rooms) && all.some((r) => r.matches === size));
  for (const size of failedSizes) {
    const why = all
      .filter((r) => r.matches === size && !r.complete)
      .map((r) => {
        const errs = Object.entries(r.errors).filter(([k]) => /^(connect|upgrade|close|join|create):/.test(k));
        return `${r.server}: ${r.error ?? `${r.outcome}, joined ${r.joined}/${r.players}`}${errs.length ? ` (${errs.map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''}`;
      })
      .join('; ');
    lines.push(`**${size * s.load.players} clients (${size} rooms) did not complete:** ${why}. One rep of each server at that size:`, '');
    lines.push(sizeTable(res, all, size, s.load.players), '');
  }
  if (rooms === null) {
    lines.push(`**No size completed against both the floor server and the pool** (tried ${s.ladder.map((r) => r * s.load.players).join(', ')} clients); see the notes.`);
    return lines.join('\n');
  }
  if (rooms < wanted) lines.push(`**The largest size that worked against the floor server and the pool is ${rooms * s.load.players} clients (${rooms} rooms)**, measured ${res.options.reps} times:`, '');
  lines.push(
    sizeTable(res, all, rooms, s.load.players),
    '',
    'Server CPU and RSS sum every process of the server (pool: master + worker). A ratio is "–" when',
    'the reference is 0 (a p99 fan-out of 0 ms, at millisecond resolution). ⚠n = n runs did not complete.',
    '',
    otherCpuLine(all),
  );
  const examples = servers(res).map(([server]) => group(all, 'floor', server, rooms)[0]).filter((r): r is RunRecord => r !== undefined && r.server !== 'floor');
  for (const ex of examples) lines.push('', `Load per run against ${ex.server === 'pool' ? 'the floor server and the pool' : 'Colyseus'}, e.g.: \`${ex.loadCommand}\``);
  return lines.join('\n');
}
