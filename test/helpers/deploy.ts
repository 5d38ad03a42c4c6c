/**
 * Reading the deployment files (deploy/) for tests: YAML documents, the dashboard's queries,
 * the metric names a PromQL expression uses, and Debian's promtool and prometheus.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/lib/repoRoot';

export const DEPLOY = path.join(ROOT, 'deploy');

/** Every file under deploy/ with one of the extensions, relative to the repository root. */
export function deployFiles(...exts: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (exts.some((e) => entry.endsWith(e))) out.push(path.relative(ROOT, full));
    }
  };
  walk(DEPLOY);
  return out.sort();
}

/** Every document of a YAML file; throws with the file name and the parser's message. */
export function yamlDocs(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, file), 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
  }
  return list.map((d) => d.toJS() as unknown).filter((d) => d !== null);
}

/** Structural view of what the tests read from manifests; fields are optional as in YAML. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
}

export function which(tool: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs a short command to its end (spawnSync: it cannot outlive the test). */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export interface DashboardTarget {
  panel: string;
  expr: string;
}

export function dashboardTargets(): DashboardTarget[] {
  const dash = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'dashboards', 'quiz-match.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/**
 * The metric names an expression reads. The project's and prom-client's names share
 * prefixes, and `up` is Prometheus's own; anything else would be a name this test does not
 * know how to check, and the caller fails on an expression that names none.
 */
export function metricNamesIn(expr: string): string[] {
  const names = new Set(expr.match(/\b(?:matchserver|process|nodejs)_[a-zA-Z0-9_]+\b/g) ?? []);
  if (/\bup\s*\{/.test(expr) || /^\s*up\s*$/.test(expr)) names.add('up');
  return [...names];
}

/** Metric families in Prometheus text (from `# TYPE` lines, so families without samples count). */
export function scrapeFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/** Whether a sample name belongs to a family of the scrape (histogram series by suffix). */
export function inScrape(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && (families.get(base) === 'histogram' || families.get(base) === 'summary');
}

/** Grafana's interval variables, replaced for a plain Prometheus query. */
export function asPlainPromQL(expr: string, range = '1m'): string {
  return expr.replaceAll('$__rate_interval', range).replaceAll('$__interval', range).replaceAll('$__range', range);
}
