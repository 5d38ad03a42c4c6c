/**
 * What a live match's quiz costs in memory, to size MAX_QUIZ_BYTES_TOTAL (BENCHMARKS.md,
 * "Quiz memory"): starts a server from dist/ (pool master with 2 workers, or the single
 * process), creates N matches with the largest quiz the API accepts (100 questions of
 * 3-byte characters at every length limit, ~190 KB of JSON) and prints the RSS growth of
 * each process per MB of quiz JSON held.
 *
 *   npm run build && npx ts-node --transpile-only scripts/quizMemory.ts [pool|single] [N]
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './lib/ports';
import { readRssKiB } from './lib/procfs';

const mode = process.argv[2] === 'single' ? 'single' : 'pool';
const creates = Number(process.argv[3] ?? 200);

function largestQuiz(seed: number) {
  const text = (n: number) => `${seed} ${'漢'.repeat(n - String(seed).length - 1)}`;
  return {
    title: text(100),
    questions: Array.from({ length: 100 }, () => ({ text: text(300), choices: [text(80), text(80), text(80), text(80)], correct: 0, timeLimitSec: 60 })),
  };
}

async function rssOf(url: string, masterPid: number): Promise<{ master: number; workers: number }> {
  const master = (readRssKiB(masterPid) ?? 0) / 1024;
  if (mode === 'single') return { master, workers: 0 };
  const stats = (await (await fetch(`${url}/workers/stats`)).json()) as { workers: Array<{ pid: number }> };
  return { master, workers: stats.workers.reduce((s, w) => s + (readRssKiB(w.pid) ?? 0) / 1024, 0) };
}

async function main(): Promise<void> {
  const port = await freePort();
  const entry = mode === 'single' ? 'dist/matchServer.js' : 'dist/matchServerMaster.js';
  const env = { ...process.env, MATCH_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', MIN_WORKERS: '2', MAX_WORKERS: '2', MAX_MATCHES: String(creates), MAX_QUIZ_BYTES_TOTAL: String(2 ** 40) };
  const child = spawn(process.execPath, [entry], { env, stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
      if (i > 300) throw new Error('server did not start');
      await sleep(100);
    }
    await sleep(1000);
    const before = await rssOf(url, child.pid!);
    let bytes = 0;
    for (let i = 0; i < creates; i++) {
      const body = JSON.stringify({ quiz: largestQuiz(i) });
      const res = await fetch(`${url}/matches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status !== 201) throw new Error(`create ${i}: ${res.status} ${await res.text()}`);
      bytes += Buffer.byteLength(JSON.stringify(largestQuiz(i)));
    }
    await sleep(2000);
    const after = await rssOf(url, child.pid!);
    const mb = bytes / 2 ** 20;
    const per = (d: number) => (d / mb).toFixed(2);
    console.log(`${mode}: ${creates} creates, quiz ${(bytes / creates / 1024).toFixed(0)} KiB each, ${mb.toFixed(1)} MiB of quiz JSON held`);
    console.log(`  master RSS ${before.master.toFixed(0)} → ${after.master.toFixed(0)} MiB: ${per(after.master - before.master)} MiB per MiB of quiz`);
    if (mode === 'pool') console.log(`  workers RSS ${before.workers.toFixed(0)} → ${after.workers.toFixed(0)} MiB: ${per(after.workers - before.workers)} MiB per MiB of quiz`);
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
