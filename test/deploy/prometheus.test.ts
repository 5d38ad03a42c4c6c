/**
 * Debian's Prometheus against a running pool, with the shipped scrape config
 * (deploy/prometheus/prometheus.yml: only its target, intervals and rule path changed to fit
 * a test) and the shipped alert rules: the rules load and evaluate, and the dashboard's
 * main queries return data once a match has been played.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asPlainPromQL, DEPLOY, dashboardTargets, which, yamlDocs } from '../helpers/deploy';
import { eventually, ProcessGroup } from '../helpers/processes';
import { freePort } from '../../scripts/lib/ports';
import { connectHost, createMatch, joinPlayers, type RunningService, startMatchService, tinyQuiz } from '../helpers/servers';

const hasPrometheus = which('prometheus') !== null;
if (!hasPrometheus) {
  process.stderr.write('test/deploy/prometheus.test.ts: prometheus is not installed (Debian package "prometheus"); skipped. bash .ci/run installs it.\n');
}

interface PromResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
interface RuleGroup {
  name: string;
  rules: Array<{ name: string; health: string; lastError?: string; type: string }>;
}

const OPS_TOKEN = 'prometheus-test-token-0123';

/** Panels whose queries must return data on a pool that has played a match. */
const MAIN_PANELS = ['Workers by state', 'Matches and capacity', 'Connected players', 'Answer → answer_ack (includes the store write)', 'Fan-out: messages per second', 'Event-loop delay p99'];

describe.skipIf(!hasPrometheus)('Prometheus with the shipped scrape config and rules', () => {
  const group = new ProcessGroup();
  let pool: RunningService;
  let promUrl: string;
  let dir: string;

  async function api<T>(pathAndQuery: string): Promise<T> {
    const body = (await (await fetch(`${promUrl}${pathAndQuery}`)).json()) as PromResponse<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${pathAndQuery}: ${body.error}`);
    return body.data;
  }
  const query = (expr: string) => api<{ result: VectorSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`).then((d) => d.result);

  beforeAll(async () => {
    pool = await startMatchService(group, 'pool', { MAX_WORKERS: '2', OPS_TOKEN });
    dir = mkdtempSync(path.join(tmpdir(), 'quiz-prometheus-'));
    writeFileSync(path.join(dir, 'ops-token'), OPS_TOKEN);
    const shipped = yamlDocs('deploy/prometheus/prometheus.yml')[0] as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; scrape_timeout?: string; static_configs: Array<{ targets: string[] }>; authorization: { credentials_file: string } }>;
    };
    // The shipped file as it is, except what must change here: the target (compose's `match`
    // is this pool), the intervals (seconds, not 15 s), and the rules' absolute path.
    shipped.global = { ...shipped.global, scrape_interval: '1s', evaluation_interval: '1s' };
    shipped.rule_files = shipped.rule_files.map((f) => path.join(DEPLOY, 'prometheus', f));
    shipped.scrape_configs[0]!.static_configs = [{ targets: [`127.0.0.1:${pool.port}`] }];
    // The token file where compose mounts its secret; here, this test's own copy.
    shipped.scrape_configs[0]!.authorization.credentials_file = path.join(dir, 'ops-token');
    // A scrape may not take longer than its interval.
    shipped.scrape_configs[0]!.scrape_timeout = '1s';
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(shipped));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const prom = group.spawn('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    await eventually(
      async () => ((await fetch(`${promUrl}/-/ready`)).status === 200 ? true : undefined),
      30_000,
      'Prometheus ready',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nPrometheus said:\n${prom.lines.slice(-20).join('\n')}`);
    });
    // The pool is scraped before anything is played, so rates see the match's answers arrive.
    await eventually(async () => ((await query('up{job="quiz-match"} == 1')).length === 1 ? true : undefined), 30_000, 'a first scrape of the pool');
  });
  afterAll(async () => {
    await group.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads every shipped alert rule and evaluates it without error', async () => {
    const shipped = (yamlDocs('deploy/prometheus/alerts.yml')[0] as { groups: Array<{ rules: Array<{ alert: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const groups = await eventually(async () => {
      const g = (await api<{ groups: RuleGroup[] }>('/api/v1/rules')).groups;
      return g.flatMap((x) => x.rules).every((r) => r.health !== 'unknown') && g.length > 0 ? g : undefined;
    }, 30_000, 'every rule evaluated once');
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name).sort()).toEqual([...shipped].sort());
    for (const r of rules) expect({ rule: r.name, health: r.health, error: r.lastError ?? '' }).toEqual({ rule: r.name, health: 'ok', error: '' });
    // A healthy pool fires nothing.
    const firing = (await api<{ alerts: Array<{ labels: { alertname: string }; state: string }> }>('/api/v1/alerts')).alerts.filter((a) => a.state === 'firing');
    expect(firing).toEqual([]);
  });

  it('returns data for the dashboard\'s main queries once a match has been played', async () => {
    // Everyone answers, so each question closes early: the long limit only matters when busy.
    const match = await createMatch(pool, { quiz: tinyQuiz(2, 240) });
    const host = await connectHost(pool, match);
    const players = await joinPlayers(pool, match, ['Prom1', 'Prom2']);
    host.send({ type: 'start' });
    for (let i = 0; i < 2; i++) {
      for (const p of players) {
        await p.next('question', (m) => m.index === i);
        p.send({ type: 'answer', questionIndex: i, choice: 0 });
        await p.next('answer_ack', (a) => a.questionIndex === i);
      }
    }
    const targets = dashboardTargets().filter((t) => MAIN_PANELS.includes(t.panel));
    expect(new Set(targets.map((t) => t.panel))).toEqual(new Set(MAIN_PANELS));
    for (const t of targets) {
      const expr = asPlainPromQL(t.expr);
      const result = await eventually(async () => {
        const r = await query(expr);
        // Data: at least one series with a number (histogram_quantile over no answers is NaN).
        return r.some((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined;
      }, 30_000, `data for "${t.panel}": ${expr}`);
      expect(result.length, `${t.panel}: ${expr}`).toBeGreaterThan(0);
    }
    // MAX_WORKERS 2 × MAX_MATCHES 3 (default).
    const capacity = await query('sum(matchserver_matches_capacity)');
    expect(Number(capacity[0]!.value[1])).toBe(6);
    for (const c of [host, ...players]) c.close();
  });
});
