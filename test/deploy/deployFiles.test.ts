/**
 * The deployment files (deploy/, Dockerfile, compose, Kubernetes, Prometheus, Grafana) read
 * as a tool would read them: every file parses, every environment variable given to our
 * servers is a setting config.ts knows, probes and ports name routes and ports the servers
 * serve (asked of running servers), promtool accepts the rules and their unit tests, and a
 * live scrape of a running pool has every metric the dashboard asks for and no promtool lint
 * warning for the project's own metrics.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SETTING_NAMES } from '../../src/config';
import { type Config } from '../../src/config';
import { DEPLOY, dashboardTargets, deployFiles, inScrape, type K8sObject, metricNamesIn, run, scrapeFamilies, which, yamlDocs } from '../helpers/deploy';
import { eventually, ProcessGroup } from '../helpers/processes';
import { freePort } from '../../scripts/lib/ports';
import { ROOT } from '../../scripts/lib/repoRoot';
import { startMatchService, type RunningService } from '../helpers/servers';
import { TestRedis } from '../helpers/redis';

const OUR_IMAGE = /quiz-match-server/;
/** Set by the Dockerfile for npm and express's production behaviour; not a setting of ours. */
const NOT_SETTINGS = new Set(['NODE_ENV']);

type Server = 'match' | 'api';
/** What a container runs, from its command; undefined for images not ours. */
function serverOf(command: unknown): Server {
  const cmd = Array.isArray(command) ? command.join(' ') : String(command ?? '');
  if (/dist\/apiServer\.js/.test(cmd)) return 'api';
  if (/dist\/matchServer(Master)?\.js/.test(cmd)) return 'match';
  throw new Error(`a container of our image runs neither server: ${cmd}`);
}
function portOf(server: Server, config: Config): number {
  return server === 'api' ? config.API_PORT : config.MATCH_PORT;
}

interface AppContainer {
  where: string;
  server: Server;
  env: Record<string, string>;
  /** Env names whose value comes from elsewhere (valueFrom). */
  envFrom: string[];
  containerPorts: Array<{ name?: string; containerPort: number }>;
  probes: Array<{ path: string; port: number | string }>;
}

interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  startupProbe?: { httpGet?: { path: string; port: number | string } };
}

const k8sDocs = (): Array<{ file: string; doc: K8sObject }> =>
  deployFiles('.yaml').filter((f) => f.startsWith('deploy/k8s/')).flatMap((file) => yamlDocs(file).map((doc) => ({ file, doc: doc as K8sObject })));

/** What a `$(POD_IP)`-style reference stands for when a manifest's settings are checked. */
const POD_VAR_SAMPLE = '10.0.0.7';

function k8sAppContainers(): AppContainer[] {
  return k8sDocs().flatMap(({ file, doc }) => {
    const podSpec = (doc.spec?.template as { spec?: { containers?: K8sContainer[] } } | undefined)?.spec;
    return (podSpec?.containers ?? [])
      .filter((c) => OUR_IMAGE.test(c.image))
      .map((c) => {
        // Kubernetes' own variables: one taken from the pod (`fieldRef`, e.g. its IP) only to be
        // put into a setting as `$(NAME)` is not a setting; it is substituted as Kubernetes does.
        const values = (c.env ?? []).flatMap((e) => (e.value === undefined ? [] : [e.value]));
        const podVars = new Set(
          (c.env ?? []).filter((e) => (e.valueFrom as { fieldRef?: unknown } | undefined)?.fieldRef && values.some((v) => v.includes(`$(${e.name})`))).map((e) => e.name),
        );
        const substitute = (v: string) => v.replace(/\$\(([A-Z_]+)\)/g, (all, name: string) => (podVars.has(name) ? POD_VAR_SAMPLE : all));
        return {
          where: `${file} ${doc.kind}/${doc.metadata?.name} container ${c.name}`,
          server: serverOf(c.command),
          env: Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, substitute(e.value!)])),
          envFrom: (c.env ?? []).filter((e) => e.value === undefined && !podVars.has(e.name)).map((e) => e.name),
        containerPorts: c.ports ?? [],
          probes: [c.readinessProbe, c.livenessProbe, c.startupProbe].flatMap((p) => (p?.httpGet ? [p.httpGet] : [])),
        };
      });
  });
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test?: string[] };
}
const compose = () => yamlDocs('deploy/compose.yaml')[0] as { services: Record<string, ComposeService> };

function composeAppContainers(): AppContainer[] {
  return Object.entries(compose().services)
    .filter(([, s]) => OUR_IMAGE.test(s.image ?? ''))
    .map(([name, s]) => {
      const env = s.environment ?? {};
      const server = serverOf(s.command);
      const test = s.healthcheck?.test ?? [];
      const probePath = test.find((a) => a.startsWith('/'));
      const config = loadConfig(env);
      return {
        where: `deploy/compose.yaml service ${name}`,
        server,
        env,
        envFrom: [],
        containerPorts: (s.ports ?? []).map((p) => ({ containerPort: Number(p.split(':').pop()) })),
        probes: probePath ? [{ path: probePath, port: portOf(server, config) }] : [],
      };
    });
}

function dockerfileEnvNames(): string[] {
  const text = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  return [...text.matchAll(/^ENV\s+([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

describe('every deployment file parses', () => {
  it.each(deployFiles('.yaml', '.yml'))('%s', (file) => {
    expect(yamlDocs(file).length).toBeGreaterThan(0);
  });

  it('the dashboard is JSON with queries', () => {
    expect(dashboardTargets().length).toBeGreaterThan(10);
  });

  it('kustomization.yaml lists files that exist, each of Kubernetes objects', () => {
    const kust = yamlDocs('deploy/k8s/kustomization.yaml')[0] as { resources: string[] };
    const files = deployFiles('.yaml').filter((f) => f.startsWith('deploy/k8s/') && !f.endsWith('kustomization.yaml'));
    expect(kust.resources.map((r) => `deploy/k8s/${r}`).sort()).toEqual(files);
    for (const { file, doc } of k8sDocs().filter(({ file }) => !file.endsWith('kustomization.yaml'))) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
      expect(doc.metadata?.name, file).toBeTruthy();
    }
  });
});

describe('environment and ports', () => {
  const containers = () => [...k8sAppContainers(), ...composeAppContainers()];

  it('finds our containers: the match service and the API server, in compose and Kubernetes', () => {
    expect(containers().map((c) => `${c.where.split(' ')[0]} ${c.server}`).sort()).toEqual([
      'deploy/compose.yaml api',
      'deploy/compose.yaml match',
      'deploy/k8s/api.yaml api',
      'deploy/k8s/match.yaml match',
    ]);
  });

  it('gives our servers only settings config.ts knows, with valid values', () => {
    for (const c of containers()) {
      const unknown = [...Object.keys(c.env), ...c.envFrom].filter((n) => !SETTING_NAMES.includes(n));
      expect(unknown, c.where).toEqual([]);
      expect(() => loadConfig(c.env), c.where).not.toThrow();
    }
    expect(dockerfileEnvNames().filter((n) => !SETTING_NAMES.includes(n) && !NOT_SETTINGS.has(n))).toEqual([]);
  });

  it('sets MAX_WORKERS from the match container\'s CPU request (libuv ignores container CPU limits)', () => {
    const match = k8sAppContainers().find((c) => c.server === 'match')!;
    expect(match.envFrom).toContain('MAX_WORKERS');
    expect(readFileSync(path.join(DEPLOY, 'k8s', 'match.yaml'), 'utf8')).toMatch(/resource: requests\.cpu/);
  });

  it('exposes the port each server listens on, and points probes at it', () => {
    for (const c of containers()) {
      const port = portOf(c.server, loadConfig(c.env));
      expect(c.containerPorts.map((p) => p.containerPort), c.where).toEqual([port]);
      for (const probe of c.probes) {
        const probePort = typeof probe.port === 'number' ? probe.port : c.containerPorts.find((p) => p.name === probe.port)?.containerPort;
        expect(probePort, `${c.where} probe ${probe.path}`).toBe(port);
      }
    }
  });

  it('routes Services, the Ingress, KEDA and the PDB to objects and named ports that exist', () => {
    const docs = k8sDocs().map((d) => d.doc);
    const deployments = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
    const labelsOf = (d: K8sObject) => (d.spec?.template as { metadata: { labels: Record<string, string> } }).metadata.labels;
    const portNamesOf = (d: K8sObject) =>
      ((d.spec?.template as { spec: { containers: K8sContainer[] } }).spec.containers).flatMap((c) => (c.ports ?? []).map((p) => p.name));
    const selected = (selector: Record<string, string>) =>
      deployments.filter((d) => Object.entries(selector).every(([k, v]) => labelsOf(d)[k] === v));
    const services = docs.filter((d) => d.kind === 'Service');
    for (const svc of services) {
      const spec = svc.spec as { selector: Record<string, string>; ports: Array<{ name: string; targetPort: string }> };
      const targets = selected(spec.selector);
      expect(targets.length, `Service ${svc.metadata?.name}`).toBe(1);
      for (const p of spec.ports) expect(portNamesOf(targets[0]!), `Service ${svc.metadata?.name}`).toContain(p.targetPort);
    }
    const ingress = docs.find((d) => d.kind === 'Ingress')!;
    const backends = JSON.stringify(ingress.spec).match(/"service":\{"name":"[^"]+","port":\{"name":"[^"]+"/g) ?? [];
    expect(backends.length).toBe(2);
    for (const b of backends) {
      const [, name, port] = /"name":"([^"]+)","port":\{"name":"([^"]+)"/.exec(b)!;
      const svc = services.find((s) => s.metadata?.name === name);
      expect(svc, `Ingress backend ${name}`).toBeDefined();
      expect((svc!.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toContain(port);
    }
    const keda = docs.find((d) => d.kind === 'ScaledObject')!;
    expect(deployments.map((d) => d.metadata?.name)).toContain((keda.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget')!;
    expect(selected((pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).map((d) => d.metadata?.name)).toEqual(['quiz-match']);
  });

  it('points the scrape config at the compose match service\'s port', () => {
    const prom = yamlDocs('deploy/prometheus/prometheus.yml')[0] as { scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }> };
    const [host, port] = prom.scrape_configs[0]!.static_configs[0]!.targets[0]!.split(':');
    const svc = compose().services[host!]!;
    expect(serverOf(svc.command)).toBe('match');
    expect(Number(port)).toBe(loadConfig(svc.environment ?? {}).MATCH_PORT);
    expect(prom.scrape_configs[0]!.metrics_path).toBe('/metrics');
  });
});

describe('probes answer on running servers', () => {
  const group = new ProcessGroup();
  let redis: TestRedis;
  let pool: RunningService;
  let apiUrl: string;
  beforeAll(async () => {
    // With Redis, as deployed: the scrape then has the metrics of several hosts too.
    redis = await TestRedis.start(group);
    pool = await startMatchService(group, 'pool', { MAX_WORKERS: '1', REDIS_URL: redis.url });
    const apiPort = await freePort();
    group.spawn(process.execPath, ['dist/apiServer.js'], { env: { API_PORT: String(apiPort), HOST: '127.0.0.1' } });
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await eventually(async () => ((await fetch(`${apiUrl}/api/quizzes`)).status === 200 ? true : undefined), 30_000, 'API server');
  });
  afterAll(async () => {
    await group.stopAll();
    redis?.cleanup();
  });

  it('every probe path of the manifests, compose and the Dockerfile\'s HEALTHCHECK answers 200', async () => {
    const probes = [...k8sAppContainers(), ...composeAppContainers()].flatMap((c) => c.probes.map((p) => ({ server: c.server, path: p.path })));
    const healthcheck = /HEALTHCHECK .*"(\/[a-z]+)"\]/.exec(readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8'));
    probes.push({ server: 'match', path: healthcheck![1]! });
    expect(new Set(probes.map((p) => p.path))).toEqual(new Set(['/readyz', '/livez', '/healthz']));
    for (const p of probes) {
      const res = await fetch(`${p.server === 'api' ? apiUrl : pool.url}${p.path}`);
      expect(res.status, `${p.server} ${p.path}`).toBe(200);
    }
  });

  it('the Dockerfile\'s healthcheck script passes on a live server and fails on a dead port', async () => {
    const script = path.join(ROOT, 'deploy', 'healthcheck.cjs');
    const ok = run(process.execPath, [script, '/livez'], { env: { MATCH_PORT: String(pool.port) } });
    expect(ok.status, ok.output).toBe(0);
    const dead = run(process.execPath, [script, '/livez'], { env: { MATCH_PORT: String(await freePort()) } });
    expect(dead.status).toBe(1);
    expect(dead.output).toMatch(/healthcheck \/livez on port \d+/);
  });

  describe.skipIf(!which('promtool'))('with promtool (Debian package prometheus; .ci/run installs it)', () => {
    it('promtool check metrics warns about none of the project\'s own metrics but the seed\'s gauge', async () => {
      const scrape = await (await fetch(`${pool.url}/metrics`)).text();
      const lint = run('promtool', ['check', 'metrics'], { input: scrape });
      const ours = lint.output.split('\n').filter((l) => l.startsWith('matchserver_'));
      // matchserver_active_matches_total is a gauge named like a counter, which promtool
      // rightly flags; its name is the seed's (WORKER_POOL_SUMMARY.md), a requirement, so it
      // stays, and matchserver_matches is the same count under a gauge's name.
      expect(ours).toEqual(['matchserver_active_matches_total non-counter metrics should not have "_total" suffix']);
    });
  });

  it('every dashboard query names metrics that a live scrape of the pool returns', async () => {
    const families = scrapeFamilies(await (await fetch(`${pool.url}/metrics`)).text());
    for (const t of dashboardTargets()) {
      const names = metricNamesIn(t.expr);
      expect(names.length, `${t.panel}: ${t.expr}`).toBeGreaterThan(0);
      for (const n of names.filter((x) => x !== 'up')) expect(inScrape(n, families), `${t.panel}: ${n}`).toBe(true);
    }
  });
});

describe.skipIf(!which('promtool'))('alert rules (promtool)', () => {
  const dir = path.join(DEPLOY, 'prometheus');
  it('promtool check rules and check config pass', () => {
    const rules = run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir });
    expect(rules.status, rules.output).toBe(0);
    // promtool checks that the token file exists: compose mounts it at /run/secrets; here a
    // copy of the config points at a file of the test's own, and nothing else changes.
    const tmp = mkdtempSync(path.join(tmpdir(), 'quiz-promtool-'));
    try {
      writeFileSync(path.join(tmp, 'ops-token'), 'promtool-check-token-0123');
      const shipped = readFileSync(path.join(dir, 'prometheus.yml'), 'utf8');
      expect(shipped).toContain('credentials_file: /run/secrets/ops-token');
      writeFileSync(path.join(tmp, 'prometheus.yml'), shipped.replace('/run/secrets/ops-token', path.join(tmp, 'ops-token')));
      copyFileSync(path.join(dir, 'alerts.yml'), path.join(tmp, 'alerts.yml'));
      const config = run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: tmp });
      expect(config.status, config.output).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('promtool test rules: each alert fires on its symptom (alerts.test.yml)', () => {
    const r = run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir });
    expect(r.status, r.output).toBe(0);
  });

  it('every alert has a runbook section in docs/OPERATIONS.md', () => {
    const rules = (yamlDocs('deploy/prometheus/alerts.yml')[0] as { groups: Array<{ rules: Array<{ alert: string; annotations: { runbook: string } }> }> }).groups.flatMap((g) => g.rules);
    const ops = readFileSync(path.join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
    const anchors = new Set([...ops.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    for (const r of rules) {
      expect(r.annotations.runbook, r.alert).toBe(`docs/OPERATIONS.md#${r.alert.toLowerCase()}`);
      expect(anchors.has(r.alert.toLowerCase()), `docs/OPERATIONS.md has a "### ${r.alert}" section`).toBe(true);
    }
  });
});

if (!which('promtool')) {
  // Said once, plainly, rather than a silent skip.
  process.stderr.write('test/deploy: promtool is not installed (Debian package "prometheus"); its checks are skipped. bash .ci/run installs it.\n');
}
